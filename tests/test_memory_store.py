"""The Chroma memory on a real store in tmp_path, with the hash embedder and no network."""

from __future__ import annotations

import datetime as dt
import os
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Sequence
from pathlib import Path

import pytest

from ribao.errors import MemoryStoreError
from ribao.memory import HashEmbedder, MemoryStore
from tests.support.memory import (
    DAY_A,
    DAY_B,
    LOCAL_HOSTS,
    PAPERS,
    CountingEmbedder,
    NetworkAttempt,
    featured,
    ids,
    near_copy,
)
from tests.support.servers import START_S


@pytest.fixture(autouse=True)
def offline(monkeypatch: pytest.MonkeyPatch) -> None:
    """Fail any non-loopback connection and any call of Chroma's downloading default embedder."""
    from chromadb.utils.embedding_functions import DefaultEmbeddingFunction
    from chromadb.utils.embedding_functions.onnx_mini_lm_l6_v2 import ONNXMiniLM_L6_V2

    def refuse(*args: object, **kwargs: object) -> None:
        raise NetworkAttempt("Chroma's default embedding function was called")

    monkeypatch.setattr(DefaultEmbeddingFunction, "__call__", refuse)
    monkeypatch.setattr(ONNXMiniLM_L6_V2, "__call__", refuse)
    real_getaddrinfo = socket.getaddrinfo

    def local_only(host: object, *args: object, **kwargs: object) -> object:
        if host not in LOCAL_HOSTS:
            raise NetworkAttempt(f"DNS lookup of {host!r}")
        return real_getaddrinfo(host, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(socket, "getaddrinfo", local_only)
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")


@pytest.fixture
def store(tmp_path: Path) -> MemoryStore:
    return MemoryStore.open(tmp_path / "memory", embedder=HashEmbedder())


def test_featured_before_returns_exactly_the_earlier_ones(store: MemoryStore) -> None:
    assert store.remember(DAY_A, featured(PAPERS[:13], DAY_A)) == 13
    asked = ids(PAPERS[8:18]) + ["2602.00001"]
    got = store.featured_before(asked, DAY_B)
    assert [e.arxiv_id for e in got] == ids(PAPERS[8:13])
    assert {e.featured_on for e in got} == {DAY_A}


def test_a_date_never_excludes_its_own_or_later_picks(store: MemoryStore) -> None:
    store.remember(DAY_B, featured(PAPERS[:13], DAY_B))
    assert store.featured_before(ids(PAPERS[:13]), DAY_B) == []
    # Back-filling an older day must not see the newer day either.
    assert store.featured_before(ids(PAPERS[:13]), DAY_A) == []


def test_rerunning_a_date_replaces_its_records(store: MemoryStore) -> None:
    store.remember(DAY_A, featured(PAPERS[:13], DAY_A))
    store.remember(DAY_A, featured(PAPERS[20:30], DAY_A))
    assert store.stats().count == 10
    assert store.featured_before(ids(PAPERS[:13]), DAY_B) == []
    assert [e.arxiv_id for e in store.featured_before(ids(PAPERS[:40]), DAY_B)] == ids(PAPERS[20:30])
    assert store.remember(DAY_A, []) == 0
    assert store.stats().count == 0


def test_remember_keeps_the_first_day_a_paper_was_featured(store: MemoryStore) -> None:
    store.remember(DAY_A, featured(PAPERS[:3], DAY_A))
    assert store.remember(DAY_B, featured(PAPERS[2:5], DAY_B)) == 2
    days = {p.arxiv_id: p.date for p in store.list(limit=100)}
    assert days == {PAPERS[0].arxiv_id: DAY_A, PAPERS[1].arxiv_id: DAY_A, PAPERS[2].arxiv_id: DAY_A} | {
        PAPERS[3].arxiv_id: DAY_B,
        PAPERS[4].arxiv_id: DAY_B,
    }


def test_remember_rejects_bad_input_and_a_failing_embedder_changes_nothing(tmp_path: Path) -> None:
    store = MemoryStore.open(tmp_path, embedder=HashEmbedder())
    store.remember(DAY_A, featured(PAPERS[:3], DAY_A))
    with pytest.raises(MemoryStoreError, match="papers dated"):
        store.remember(DAY_B, featured(PAPERS[:3], DAY_A))
    with pytest.raises(MemoryStoreError, match="repeated ids"):
        store.remember(DAY_A, featured([PAPERS[0], PAPERS[0]], DAY_A))

    class Broken(HashEmbedder):
        def embed(self, texts: Sequence[str]) -> list[list[float]]:
            raise MemoryStoreError("embedder down")

    broken = MemoryStore.open(tmp_path, embedder=Broken())
    with pytest.raises(MemoryStoreError, match="embedder down"):
        broken.remember(DAY_A, featured(PAPERS[5:8], DAY_A))
    assert [p.arxiv_id for p in store.list()] == ids(PAPERS[:3])


def test_near_duplicates_flag_a_copy_under_another_id(store: MemoryStore) -> None:
    store.remember(DAY_A, featured(PAPERS[:13], DAY_A))
    original = PAPERS[4]
    copy = near_copy(original, "2602.99999")
    unrelated = PAPERS[100]
    flags = store.near_duplicates([copy, unrelated], DAY_B, threshold=0.85)
    assert len(flags) == 1
    flag = flags[0]
    assert (flag.arxiv_id, flag.similar_to, flag.featured_on) == (copy.arxiv_id, original.arxiv_id, DAY_A)
    assert flag.similar_title == original.title
    assert 0.85 < flag.similarity <= 1.0
    # A candidate is never flagged against its own id, and a day never against itself.
    assert store.near_duplicates([original], DAY_B) == []
    assert store.near_duplicates([copy], DAY_A) == []


def test_near_duplicates_embed_nothing_without_earlier_records(tmp_path: Path) -> None:
    spy = CountingEmbedder()
    store = MemoryStore.open(tmp_path, embedder=spy)
    assert store.near_duplicates(PAPERS[:20], DAY_B) == []
    store.remember(DAY_B, featured(PAPERS[:3], DAY_B))
    spy.calls.clear()
    assert store.near_duplicates(PAPERS[:20], DAY_B) == []
    assert spy.calls == []


def test_reopening_the_folder_keeps_the_data(tmp_path: Path) -> None:
    first = MemoryStore.open(tmp_path / "memory", embedder=HashEmbedder())
    first.remember(DAY_A, featured(PAPERS[:13], DAY_A))
    del first
    again = MemoryStore.open(tmp_path / "memory", embedder=HashEmbedder())
    stats = again.stats()
    assert (stats.count, stats.dates, stats.embedder, stats.dim) == (13, [DAY_A], "hash-bow-v1", 384)
    assert len(again.featured_before(ids(PAPERS[:13]), DAY_B)) == 13
    assert again.near_duplicates([near_copy(PAPERS[0], "2602.99998")], DAY_B)


@pytest.mark.parametrize(
    ("other", "words"),
    [(HashEmbedder(dim=128), "dim 384"), (HashEmbedder(name="hash-other"), "'hash-other'")],
)
def test_opening_with_another_embedder_fails(tmp_path: Path, other: HashEmbedder, words: str) -> None:
    MemoryStore.open(tmp_path, embedder=HashEmbedder()).remember(DAY_A, featured(PAPERS[:2], DAY_A))
    with pytest.raises(MemoryStoreError, match="hash-bow-v1") as err:
        MemoryStore.open(tmp_path, embedder=other)
    assert words in str(err.value)
    # Another collection in the same folder is fine.
    assert MemoryStore.open(tmp_path, embedder=other, collection="other_papers").stats().count == 0


def test_forget_removes_one_paper(store: MemoryStore) -> None:
    store.remember(DAY_A, featured(PAPERS[:13], DAY_A))
    gone = PAPERS[3].arxiv_id
    assert store.forget(f"{gone}v2") is True
    assert store.forget(gone) is False
    assert store.forget("not an id") is False
    assert gone not in [e.arxiv_id for e in store.featured_before(ids(PAPERS[:13]), DAY_B)]
    assert store.stats().count == 12


@pytest.mark.parametrize("form", ["arXiv:{}", "https://arxiv.org/abs/{}v3", " {} "])
def test_forget_takes_an_id_in_the_forms_the_listing_reads(store: MemoryStore, form: str) -> None:
    store.remember(DAY_A, featured(PAPERS[:13], DAY_A))
    assert store.forget(form.format(PAPERS[5].arxiv_id)) is True
    assert store.stats().count == 12


def test_list_and_search_read_the_records_back(store: MemoryStore) -> None:
    assert store.search("anything") == []
    store.remember(DAY_A, featured(PAPERS[:13], DAY_A))
    store.remember(DAY_B, featured(PAPERS[13:16], DAY_B))
    listed = store.list(limit=5)
    assert [(p.date, p.rank) for p in listed] == [(DAY_B, 1), (DAY_B, 2), (DAY_B, 3), (DAY_A, 1), (DAY_A, 2)]
    assert (listed[0].title, listed[0].abstract) == (PAPERS[13].title, PAPERS[13].abstract)
    assert (listed[0].tier, listed[0].run_id) == ("must_read", "run-test")
    hits = store.search(PAPERS[7].title + "\n\n" + PAPERS[7].abstract, k=3)
    assert len(hits) == 3
    assert hits[0].paper.arxiv_id == PAPERS[7].arxiv_id
    assert hits[0].similarity == pytest.approx(1.0, abs=1e-3)
    assert hits[0].similarity >= hits[1].similarity >= hits[2].similarity


def test_the_offline_guard_catches_chroma_default_embedder(tmp_path: Path) -> None:
    # Proves the autouse guard is live: without explicit embeddings Chroma reaches its default.
    import chromadb
    from chromadb.config import Settings

    client = chromadb.PersistentClient(path=str(tmp_path), settings=Settings(anonymized_telemetry=False))
    col = client.get_or_create_collection("guard_check", embedding_function=None)
    with pytest.raises(NetworkAttempt):
        col.add(ids=["x"], documents=["text without an embedding"])


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_http_client_against_a_loopback_chroma_server(tmp_path: Path) -> None:
    chroma = shutil.which("chroma") or str(Path(sys.executable).with_name("chroma"))
    if not Path(chroma).exists():
        pytest.skip("the chroma server CLI is not installed")
    port = free_port()
    env = os.environ | {"ORT_DISABLE_TELEMETRY": "1"}
    cmd = [chroma, "run", "--path", str(tmp_path / "srv"), "--host", "127.0.0.1", "--port", str(port)]
    server = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env)
    try:
        url = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + START_S  # a guard: chroma's start took 20 s and more at load
        while True:
            try:
                store = MemoryStore.open(url=url, embedder=HashEmbedder())
                break
            except MemoryStoreError:
                if time.monotonic() > deadline or server.poll() is not None:
                    raise
                time.sleep(0.2)
        store.remember(DAY_A, featured(PAPERS[:13], DAY_A))
        assert len(store.featured_before(ids(PAPERS[:13]), DAY_B)) == 13
        assert store.stats().location == url
        with pytest.raises(MemoryStoreError, match="hash-bow-v1"):
            MemoryStore.open(url=url, embedder=HashEmbedder(dim=64))
    finally:
        server.terminate()
        server.wait(timeout=10)


def test_unreachable_server_or_bad_url_is_a_memory_error() -> None:
    with pytest.raises(MemoryStoreError, match="connecting failed"):
        MemoryStore.open(url=f"http://127.0.0.1:{free_port()}", embedder=HashEmbedder())
    with pytest.raises(MemoryStoreError, match="http://host:port"):
        MemoryStore.open(url="chroma.example:8000", embedder=HashEmbedder())


def test_a_days_vectors_are_embedded_once_for_reruns_resumes_and_remember(tmp_path: Path) -> None:
    spy = CountingEmbedder()
    vectors = tmp_path / "cache" / "embeddings"
    store = MemoryStore.open(tmp_path / "memory", embedder=spy, vectors_dir=vectors)
    store.remember(DAY_A, featured(PAPERS[:13], DAY_A))
    assert spy.calls == [13]
    first = store.near_duplicates(PAPERS[20:60], DAY_B, threshold=0.3)
    assert spy.calls == [13, 40]
    # A re-run of the day, the remember step of its picks and a resumed process embed nothing.
    assert store.near_duplicates(PAPERS[20:60], DAY_B, threshold=0.3) == first
    store.remember(DAY_B, featured(PAPERS[20:25], DAY_B))
    resumed = MemoryStore.open(tmp_path / "memory", embedder=spy, vectors_dir=vectors)
    assert resumed.near_duplicates(PAPERS[20:60], DAY_B, threshold=0.3) == first
    assert spy.calls == [13, 40]
    # An edited abstract is a new text: only it is embedded.
    edited = PAPERS[30].model_copy(update={"abstract": PAPERS[30].abstract + " Revised."})
    resumed.near_duplicates([*PAPERS[20:30], edited], DAY_B)
    assert spy.calls == [13, 40, 1]
    assert sorted(p.name for p in (vectors / spy.name).iterdir()) == ["2026-02-17.npz", "2026-02-18.npz"]


def test_a_broken_vector_file_is_embedded_again_and_old_days_are_dropped(tmp_path: Path) -> None:
    from ribao.memory.vectors import DayVectors

    spy = CountingEmbedder()
    store = MemoryStore.open(tmp_path / "memory", embedder=spy, vectors_dir=tmp_path / "vectors")
    store.remember(DAY_A, featured(PAPERS[:3], DAY_A))
    (tmp_path / "vectors" / spy.name / "2026-02-17.npz").write_bytes(b"truncated")
    store.remember(DAY_A, featured(PAPERS[:3], DAY_A))
    assert spy.calls == [3, 3]
    cache = DayVectors(tmp_path / "vectors", spy.name, keep=2)
    for day in (1, 2, 3):
        cache.embed(dt.date(2026, 3, day), ["a text"], lambda texts: HashEmbedder().embed(texts))
    assert sorted(p.name for p in cache.folder.iterdir()) == ["2026-03-02.npz", "2026-03-03.npz"]


def test_runs_of_one_day_started_at_once_embed_the_day_once(tmp_path: Path) -> None:
    import threading

    import numpy as np

    from ribao.memory.vectors import DayVectors

    texts = [f"abstract {i}" for i in range(30)]
    embedded: list[str] = []
    start = threading.Barrier(3)

    def slow_embed(batch: Sequence[str]) -> np.ndarray:
        embedded.extend(batch)
        time.sleep(0.5)  # the other runs reach the cache while this one embeds
        return np.array([[float(len(t)), 1.0] for t in batch])

    results: list[np.ndarray] = []

    def run() -> None:
        cache = DayVectors(tmp_path / "vectors", "minilm")  # each run has its own cache object
        start.wait()
        results.append(cache.embed(dt.date(2026, 2, 17), texts, slow_embed))

    threads = [threading.Thread(target=run) for _ in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(embedded) == sorted(texts)  # each text embedded once, by whichever run came first
    assert len(results) == 3 and all(np.array_equal(r, results[0]) for r in results)

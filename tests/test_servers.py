"""The backend tests' servers start, answer and stop: a throwaway PostgreSQL cluster, a Chroma server."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

from tests.support.servers import ChromaServer, Postgres, _alive, start_postgres

ROOT = Path(__file__).resolve().parents[1]


def test_postgres_database_per_test_answers(postgres_url: str) -> None:
    import psycopg

    with psycopg.connect(postgres_url, autocommit=True) as conn:
        conn.execute("CREATE TABLE t (x int)")
        conn.execute("INSERT INTO t VALUES (41), (1)")
        assert conn.execute("SELECT sum(x) FROM t").fetchone() == (42,)


def test_postgres_stops_by_pid() -> None:
    server = start_postgres()
    assert _alive(server.pid)
    server.stop()
    assert not _alive(server.pid)
    assert not server.folder.exists()


def test_chroma_server_keeps_what_it_is_given(chroma_server: ChromaServer) -> None:
    import chromadb

    client = chromadb.HttpClient(host="127.0.0.1", port=chroma_server.port)
    coll = client.get_or_create_collection("servers_test", embedding_function=None)
    coll.add(ids=["a", "b"], embeddings=np.eye(2, 8).tolist(), documents=["x", "y"])
    assert coll.count() == 2
    hit = coll.query(query_embeddings=[np.eye(2, 8)[1].tolist()], n_results=1)
    assert hit["ids"] == [["b"]]


def test_postgres_fixture_is_shared(postgres: Postgres, postgres_url: str) -> None:
    assert postgres_url.startswith(postgres.url.rsplit("/", 1)[0])


INNER = """
import os, pathlib, time

def test_hold(postgres):
    pathlib.Path(os.environ["RIBAO_TEST_PID_FILE"]).write_text(str(postgres.pid))
    time.sleep(120)
"""


def test_a_pytest_ended_by_sigterm_still_stops_its_postgres(tmp_path: Path) -> None:
    # A CI timeout sends SIGTERM: Python's default exit ran no fixture teardown and left the cluster up.
    (tmp_path / "test_inner.py").write_text(INNER)
    pid_file = tmp_path / "postgres.pid"
    env = {**os.environ, "RIBAO_TEST_PID_FILE": str(pid_file), "PYTHONPATH": str(ROOT)}
    inner = subprocess.Popen(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-p", "tests.support.servers",
         "--rootdir", str(tmp_path), str(tmp_path / "test_inner.py")],
        cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
    )  # fmt: skip
    try:
        deadline = time.monotonic() + 120
        while not pid_file.exists() and inner.poll() is None and time.monotonic() < deadline:
            time.sleep(0.1)
        assert pid_file.exists(), inner.communicate(timeout=30)[0].decode()
        postgres_pid = int(pid_file.read_text())
        inner.send_signal(signal.SIGTERM)
        assert inner.wait(timeout=60) != 0  # interrupted, not passed
    finally:
        if inner.poll() is None:
            inner.kill()
    assert not _alive(postgres_pid)

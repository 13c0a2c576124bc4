"""The backend tests' servers start, answer and stop: a throwaway PostgreSQL cluster, a Chroma server."""

from __future__ import annotations

import numpy as np

from tests.support.servers import ChromaServer, Postgres, _alive, start_postgres


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

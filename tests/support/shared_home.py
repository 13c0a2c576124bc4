"""A home whose runs share paper-level work, for the stub provider, on SQLite or Postgres (pytest plugin:
the `store` fixture), and what the tests count afterwards: requests per tool, calls on record."""

from __future__ import annotations

import collections
from collections.abc import Iterable
from pathlib import Path

import pytest

from ribao.runs.db import RunLog
from ribao.runs.rows import CallRow
from ribao.settings import load_settings
from tests.support.http_run import configure_home, write_config
from tests.support.samples import sample_listing
from tests.support.stub_openai import StubOpenAI


@pytest.fixture(params=["sqlite", "postgres"])
def store(request: pytest.FixtureRequest) -> str | None:
    """The run log's database: the home's SQLite file (None), or a fresh Postgres database."""
    return None if request.param == "sqlite" else str(request.getfixturevalue("postgres_url"))


def home_with_profiles(
    tmp_path: Path, stub: StubOpenAI, monkeypatch: pytest.MonkeyPatch, store: str | None
) -> None:
    """A home for the stub provider with profiles `a` and `b`, the run log in `store`, no memory."""
    home = configure_home(tmp_path, stub, monkeypatch)
    # One request in flight per run: a run failing on one request has no other in flight to waste.
    write_config(home, stub.base_url, "max_concurrency = 1")
    with (home / "config.toml").open("a", encoding="utf-8") as f:
        f.write("[profiles.a]\n[profiles.b]\n")
    if store is not None:
        monkeypatch.setenv("RIBAO_STORE__URL", store)
    monkeypatch.setenv("RIBAO_OUT_DIR", str(tmp_path / "digests"))
    monkeypatch.setenv("RIBAO_SOURCE", str(sample_listing()))
    # Off: two embedded Chroma stores opened at once in one process fail in chromadb's bindings.
    monkeypatch.setenv("RIBAO_MEMORY__ENABLED", "false")


def tools(stub: StubOpenAI, since: int = 0) -> collections.Counter[str]:
    """The tool each chat request since request `since` forced, counted (answered or not)."""
    return collections.Counter(
        r.body["tools"][0]["function"]["name"] for r in stub.chat_requests[since:] if r.body
    )


def calls_on_record(run_ids: Iterable[str]) -> list[CallRow]:
    """The LLM calls the run log of the current settings holds for `run_ids`."""
    settings = load_settings()
    with RunLog.open(settings.home, url=settings.store.url) as log:
        return [c for rid in run_ids for c in log.calls(rid)]

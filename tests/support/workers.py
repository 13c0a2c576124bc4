"""Homes whose runs use the OpenAI stub and whose queue is a test's Postgres database (the worker tests)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

from tests.support.samples import SAMPLE
from tests.support.stub_openai import StubOpenAI

TESTS_DATA = Path(__file__).resolve().parent.parent / "data"


def worker_home(
    home: Path, stub: StubOpenAI, store_url: str, extra: str = "", *, embedder: str | None = None
) -> dict[str, str]:
    """Write `home`'s config (the stub provider, the queue at `store_url`, memory off unless `embedder`
    names one) and return the environment of a `ribao` process using it."""
    home.mkdir(parents=True)
    memory = f'embedder = "{embedder}"' if embedder else "enabled = false"
    (home / "config.toml").write_text(
        f'llm = "stub"\nmax_critic_rounds = 1\n[providers.stub]\nbase_url = "{stub.base_url}"\n'
        f'api_key_env = "STUB_API_KEY"\nmodel = "stub-chat"\n[memory]\n{memory}\n'
        f'[store]\nurl = "{store_url}"\n{extra}',
        encoding="utf-8",
    )
    return {**os.environ, "RIBAO_HOME": str(home), "STUB_API_KEY": "sk-stub-key-0123456789"}


def listings_folder(folder: Path) -> Path:
    """A folder of saved listings named by date: the bundled 2026-02-18 and 40 papers of 2026-02-19."""
    folder.mkdir(parents=True)
    shutil.copy(SAMPLE, folder / "2026-02-18.cs.jsonl")
    shutil.copy(TESTS_DATA / "2026-02-19.first40.jsonl", folder / "2026-02-19.first40.jsonl")
    return folder


def ribao_proc(*args: str, env: dict[str, str], cwd: Path) -> subprocess.Popen[str]:
    """Start `ribao *args` as a real process (output piped)."""
    return subprocess.Popen(
        [sys.executable, "-m", "ribao", *args], env=env, cwd=cwd, text=True,
        stdout=subprocess.PIPE, stderr=subprocess.PIPE,
    )  # fmt: skip


def ribao_ok(*args: str, env: dict[str, str], cwd: Path) -> str:
    """Run `ribao *args` to its end; return its stdout; fail with its stderr on a non-zero exit."""
    proc = ribao_proc(*args, env=env, cwd=cwd)
    out, err = proc.communicate(timeout=300)
    assert proc.returncode == 0, f"ribao {' '.join(args)} exited {proc.returncode}: {err}"
    return out


def jobs(url: str) -> list[dict[str, Any]]:
    """Every job of the queue at `url`: id, status, lock, attempts, args (oldest first)."""
    import psycopg
    from psycopg.rows import dict_row

    with psycopg.connect(url, row_factory=dict_row) as conn:
        return conn.execute(
            "SELECT id, status::text AS status, lock, attempts, args FROM procrastinate_jobs ORDER BY id"
        ).fetchall()

"""A ribao home for the queue benchmarks: the simulated provider, a Postgres store, reader profiles p1…pN.

Shared by scripts/scale_bench.py and scripts/shared_bench.py: the config they write, the database each
phase gets, and `ribao` started in the home as a fresh process.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent

#: Interests of the benchmark's reader profiles (p1, p2, …), cycled.
INTERESTS = ("robot learning", "language models", "computer vision", "reinforcement learning", "databases")


def profiles(n: int) -> list[str]:
    """Return the names of `n` reader profiles: p1…pN."""
    return [f"p{k}" for k in range(1, n + 1)]


def write_config(
    home: Path, base_url: str, store: str, names: list[str], chroma: str | None = None,
    max_concurrency: int | None = None,
) -> None:  # fmt: skip
    """Write `home`'s config.toml: the provider at `base_url` (with `max_concurrency` requests in flight,
    else its default), the store at `store`, one critic round, no full text, a profile per name; the
    memory on the Chroma server `chroma` (hash embedder), or off."""
    readers = "".join(
        f'[profiles.{p}]\ninterests = "{INTERESTS[k % len(INTERESTS)]}"\n' for k, p in enumerate(names)
    )
    memory = f'embedder = "hash"\nurl = "{chroma}"' if chroma else "enabled = false"
    (home / "config.toml").write_text(
        f'llm = "sim"\nmax_critic_rounds = 1\n[providers.sim]\nbase_url = "{base_url}"\n'
        f'api_key_env = "SIM_KEY"\nmodel = "sim-chat"\n'
        + (f"max_concurrency = {max_concurrency}\n" if max_concurrency else "")
        + f"[memory]\n{memory}\n"
        f'[fulltext]\nenabled = false\n[store]\nurl = "{store}"\n{readers}',
        encoding="utf-8",
    )


def environment(home: Path) -> dict[str, str]:
    """Return the environment of `ribao` in `home`: the simulator's key, digests in `<home>/digests`."""
    env = {**os.environ, "RIBAO_HOME": str(home), "SIM_KEY": "sk-sim", "RIBAO_OUT_DIR": str(home / "digests")}
    env["PYTHONPATH"] = str(ROOT)
    return env


def database(pg: Any, name: str) -> str:
    """Create database `name`, retrying while the fresh cluster still starts up."""
    for _ in range(50):
        try:
            return str(pg.create_database(name))
        except Exception:
            time.sleep(0.2)
    return str(pg.create_database(name))


def ribao(env: dict[str, str], *args: str, log: Path | None = None) -> subprocess.Popen[str]:
    """Start `ribao *args`: output piped (read it with communicate), or into the file `log`."""
    out: Any = subprocess.PIPE if log is None else log.open("w", encoding="utf-8")
    return subprocess.Popen(
        [sys.executable, "-m", "ribao", *args], env=env, text=True, stdout=out,
        stderr=subprocess.STDOUT if log is not None else subprocess.PIPE, cwd=env["RIBAO_HOME"],
    )  # fmt: skip

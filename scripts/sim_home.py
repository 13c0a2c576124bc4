"""A ribao home wired to the simulated provider, and `ribao` run in it as a fresh process (for demos)."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

#: The simulated provider's model, priced at ¥2 / ¥8 per million tokens in / out; hash embedder, no full text.
CONFIG = (
    'llm = "sim"\n[providers.sim]\nbase_url = "{base_url}"\napi_key_env = "SIM_KEY"\n'
    'model = "sim-chat"\n[memory]\nembedder = "hash"\n[fulltext]\nenabled = false\n'
    '[prices."sim-chat"]\ninput = 2.0\noutput = 8.0\ncurrency = "CNY"\n'
)


def write_config(home: Path, base_url: str) -> None:
    """Write `home`'s config.toml pointing at the simulated provider at `base_url`."""
    (home / "config.toml").write_text(CONFIG.format(base_url=base_url), encoding="utf-8")


def ribao(home: Path, *args: str, env: dict[str, str] | None = None) -> tuple[float, str]:
    """Run `ribao ARGS` with `home` and `env`; return its wall seconds and stdout (raise on failure)."""
    full = {**os.environ, "RIBAO_HOME": str(home), "SIM_KEY": "sk-sim", **(env or {})}
    started = time.monotonic()
    done = subprocess.run([sys.executable, "-m", "ribao", *args], env=full, capture_output=True, text=True)
    wall = time.monotonic() - started
    if done.returncode:
        raise SystemExit(f"ribao {' '.join(args)} exited {done.returncode}: {done.stderr.strip()}")
    return wall, done.stdout

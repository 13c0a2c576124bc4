"""Run the fast test suite in a poisoned environment, and show that no test reads it.

`RIBAO_HOME` points at a folder whose config.toml sets every setting to an odd value (another
provider, a listing file that does not exist, a prompts folder with a broken template, unreachable
endpoints, EUR, ...) and `RIBAO_MUST_READ=7`, `OPENAI_API_KEY` and `GITHUB_TOKEN` are set. Every
test must still pass (tests/conftest.py gives each test its own home and a clean environment), and
the poisoned folder must be left as it was: nothing read from it may be written back either.

Before running, the script checks that the config really sets every setting: each leaf of
`ribao config show` must come from the file or the environment, so a new setting must be added here.

Usage: python scripts/poisoned_env.py [pytest args...]   (default: -m "not slow" -q -p no:cacheprovider)
Exit status: pytest's, or 2 when the poison misses a setting or the folder was changed.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

CONFIG = """\
categories = ["math.AG"]
include_cross_lists = false
source = "{home}/no-such-listing.jsonl"
out_dir = "{home}/poison-out"
prompts_dir = "{home}/poison-prompts"
must_read = 9
notable = 29
max_critic_rounds = 5
screener_batch_size = 3
screener_abstract_words = 11
triage_abstract_words = 12
shortlist_factor = 7
structured_retries = 0
editor_lead = false
llm = "poison"
holidays = [2026-02-18, 2026-02-19]
currency = "EUR"
site_url = "http://127.0.0.1:9/poison-site"

[providers.poison]
base_url = "http://127.0.0.1:9/v1"
api_key_env = "POISON_API_KEY"
model = "poison-model"
max_concurrency = 1
requests_per_minute = 1
tokens_per_minute = 1
timeout = 0.5
retry_seconds = 0.5
backoff_seconds = 0.01
max_retries = 0
breaker_threshold = 1

[agents.writer]
provider = "poison"
model = "poison-writer"
max_tokens = 7
temperature = 1.9

[arxiv]
endpoint = "http://127.0.0.1:9/api/query"
rss_endpoint = "http://127.0.0.1:9/rss"
rss = false
timeout_seconds = 0.5
delay_seconds = 9.0
retries = 0
backoff_seconds = 9.0
max_wait_seconds = 1.0
page_size = 7
max_results = 7

[memory]
url = "http://127.0.0.1:9"
embedder = "hash"
near_duplicate_threshold = 0.11
enabled = false

[local]
model_path = "{home}/no-such-model.gguf"
n_ctx = 512
max_tokens = 7

[github]
stars = true
token_env = "POISON_GITHUB_TOKEN"
api_url = "http://127.0.0.1:9/github"
timeout_seconds = 0.5

[fulltext]
enabled = false
notables = true
html_endpoint = "http://127.0.0.1:9/html/"
pdf_endpoint = "http://127.0.0.1:9/pdf/"
source_endpoint = "http://127.0.0.1:9/e-print/"
timeout_seconds = 0.5
max_bytes = 7
delay_seconds = 9.0
retries = 0
backoff_seconds = 9.0
extract_seconds = 0.5
extract_memory_mb = 128
max_unpacked_bytes = 7
max_chars = 7
context_tokens = {{ "poison-writer" = 1024 }}
default_context_tokens = 1024

[prices.poison-model]
input = 99.0
output = 99.0
cached = 9.0
currency = "EUR"

[[push]]
name = "poison"
url = "json://127.0.0.1:9/poison"
format = "text"

[delivery]
enabled = false
only = ["poison"]
retries = 0
backoff_seconds = 9.0
timeout_seconds = 0.5
"""

ENV = {
    "RIBAO_MUST_READ": "7",
    "OPENAI_API_KEY": "sk-poison-poison-poison-poison",
    "GITHUB_TOKEN": "ghp_poison",
}


def poison(home: Path) -> None:
    """Write the odd config.toml and a prompts folder whose every template is broken."""
    (home / "config.toml").write_text(CONFIG.format(home=home), encoding="utf-8")
    for agent in ("screener", "critic", "writer", "editor"):
        folder = home / "poison-prompts" / agent
        folder.mkdir(parents=True)
        (folder / "system.md.j2").write_text("{{ poison(", encoding="utf-8")


def unset_settings(env: dict[str, str]) -> list[str]:
    """Return the settings the poison leaves at their defaults (run in a child with `env`)."""
    code = (
        "from ribao.settings_sources import explain_settings\n"
        "for s in explain_settings({}):\n"
        "    if s.origin == 'default' and s.key != 'home': print(s.key)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], env=env, cwd=ROOT, capture_output=True, text=True)
    if out.returncode != 0:
        return [f"(config show failed: {out.stderr.strip()})"]
    return out.stdout.split()


def snapshot(home: Path) -> dict[str, tuple[int, int]]:
    """Return every file under `home` with its size and modification time."""
    return {str(p.relative_to(home)): (p.stat().st_size, p.stat().st_mtime_ns) for p in home.rglob("*")}


def main(argv: list[str]) -> int:
    args = argv or ["-m", "not slow", "-q", "-p", "no:cacheprovider"]
    with tempfile.TemporaryDirectory(prefix="ribao-poison-") as tmp:
        home = Path(tmp)
        poison(home)
        env = {**os.environ, **ENV, "RIBAO_HOME": str(home), "PYTHONPATH": str(ROOT)}
        missing = unset_settings(env)
        if missing:
            print(f"poisoned_env: the config leaves these settings at their defaults: {', '.join(missing)}")
            return 2
        before = snapshot(home)
        started = time.perf_counter()
        code = subprocess.call([sys.executable, "-m", "pytest", *args], env=env, cwd=ROOT)
        seconds = time.perf_counter() - started
        changed = sorted(set(snapshot(home).items()) ^ set(before.items()))
        print(
            f"poisoned_env: pytest exit {code} in {seconds:.0f} s with RIBAO_HOME={home} (every setting odd)"
        )
        if changed:
            print(
                f"poisoned_env: the suite touched the poisoned home: {sorted({name for name, _ in changed})}"
            )
            return 2
        print("poisoned_env: the poisoned home is unchanged")
        return code


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

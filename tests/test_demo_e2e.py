"""`ribao demo` end to end with the real local model (SmolLM2 via llama.cpp) and the real MiniLM memory."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from importlib.util import find_spec
from pathlib import Path

import pytest

from ribao.registry import NODES
from tests.support.samples import sample_listing

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(
        find_spec("llama_cpp") is None or find_spec("sentence_transformers") is None,
        reason="needs the `local` and `embed` extras (scripts/setup.sh installs them)",
    ),
]

DATA = Path(__file__).parent / "data"
PACKAGE = Path(__file__).parent.parent / "ribao"


def ribao(*args: str, cwd: Path, home: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "RIBAO_HOME": str(home), "HF_HUB_OFFLINE": "1"}
    return subprocess.run(
        [sys.executable, "-m", "ribao", *args], cwd=cwd, env=env, capture_output=True, text=True, timeout=1800
    )


def test_demo_then_a_later_day_never_features_the_same_paper_twice(tmp_path: Path) -> None:
    home = tmp_path / "home"
    demo = ribao("demo", cwd=tmp_path, home=home)
    assert demo.returncode == 0, demo.stderr[-3000:]

    md = (tmp_path / "digests" / "2026-02-18.md").read_text(encoding="utf-8")
    data = json.loads((tmp_path / "digests" / "2026-02-18.json").read_text(encoding="utf-8"))
    assert "📅 **2026-02-18 周三** | 🤖 扫描/精选: **180/13**" in md
    assert [int(n) for n in re.findall(r"^### (\d+)\. ", md, flags=re.M)] == [1, 2, 3]
    assert [int(n) for n in re.findall(r"^\| (\d+) \| ", md, flags=re.M)] == list(range(4, 14))
    day_ids = {json.loads(line)["id"] for line in sample_listing().read_text(encoding="utf-8").splitlines()}
    linked = re.findall(r"\(https://arxiv\.org/abs/([0-9.]+?)(?:v\d+)?\)", md)
    assert len(linked) == 13 and set(linked) <= day_ids
    assert data["scanned"] == 180 and [p["rank"] for p in data["picks"]] == list(range(1, 14))
    assert all(p["critic"] for p in data["picks"])
    assert data["usage"]["input_tokens"] > 0 and data["usage"]["output_tokens"] > 0
    assert data["usage"]["cost"] == 0
    # The trace names every node and ends with the output path.
    for node in NODES:
        assert f"✓ {node}" in demo.stderr
    assert "digests/2026-02-18.md" in demo.stdout

    # The run is on record; per-agent tokens add up to the digest's totals.
    listed = ribao("runs", "list", "--json", cwd=tmp_path, home=home)
    assert listed.returncode == 0 and json.loads(listed.stdout)[0]["run_id"] == data["run_id"]
    shown = json.loads(ribao("runs", "show", data["run_id"], "--json", cwd=tmp_path, home=home).stdout)
    agents = shown["by_agent"]
    assert sum(a["input_tokens"] for a in agents.values()) == data["usage"]["input_tokens"]
    assert sum(a["output_tokens"] for a in agents.values()) == data["usage"]["output_tokens"]
    critic = ribao("runs", "trace", data["run_id"], "--agent", "critic", cwd=tmp_path, home=home)
    assert critic.returncode == 0 and "critique round 1" in critic.stdout

    # A later listing that repeats the 13 featured papers plus 40 new ones of 2026-02-19.
    featured = {p["arxiv_id"] for p in data["picks"]}
    rows = [json.loads(line) for line in sample_listing().read_text(encoding="utf-8").splitlines()]
    repeated = [{**r, "announced": "2026-02-19"} for r in rows if r["id"] in featured]
    later = tmp_path / "2026-02-19.jsonl"
    lines = [json.dumps(r) for r in repeated] + (DATA / "2026-02-19.first40.jsonl").read_text().splitlines()
    later.write_text("\n".join(lines) + "\n", encoding="utf-8")
    # The demo picked for the bundled example reader, whose memory is its own: the later run reads for
    # the same reader, written into config.toml as a user would.
    example = (PACKAGE / "data" / "profiles" / "example.toml").read_text(encoding="utf-8")
    (home / "config.toml").write_text(f'[profiles.example]\n{example}out_dir = "digests"\n', encoding="utf-8")
    second = ribao(
        "run", "--llm", "local", "--source", str(later), "--profile", "example", cwd=tmp_path, home=home
    )
    assert second.returncode == 0, second.stderr[-3000:]
    data2 = json.loads((tmp_path / "digests" / "2026-02-19.json").read_text(encoding="utf-8"))
    assert data2["scanned"] == 40
    assert not featured & {p["arxiv_id"] for p in data2["picks"]}
    assert "13 excluded as featured before" in second.stderr

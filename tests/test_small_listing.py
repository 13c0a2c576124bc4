"""Zero picks never crash a run: a small listing writes a shorter digest that says so."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from ribao.memory import HashEmbedder, MemoryStore
from ribao.settings import MemorySettings, Settings
from tests.support.fakes import default_responder
from tests.support.graph import models, run
from tests.support.samples import sample_listing


def test_a_listing_smaller_than_the_picks_writes_an_honest_shorter_digest(tmp_path: Path) -> None:
    small = tmp_path / "small.jsonl"
    small.write_text(
        "".join(sample_listing().read_text(encoding="utf-8").splitlines(True)[:5]), encoding="utf-8"
    )
    settings = Settings(home=tmp_path / "home", source=str(small), out_dir=tmp_path / "out",
                        memory=MemorySettings(embedder="hash"), max_critic_rounds=2)  # fmt: skip

    def critic(name: str, schema: dict[str, Any], messages: list[Any]) -> dict[str, Any]:
        # Replace every pick, naming no alternate: on this listing there is none left.
        args = default_responder(name, schema, messages)
        return {k: {"decision": "replace", "reason": "不够好", "replacement": "none"} for k in args}

    memory = MemoryStore.open(tmp_path / "memory", embedder=HashEmbedder())
    result = run(settings, memory, models(critic=critic))
    data = json.loads(result.json_path.read_text(encoding="utf-8"))
    assert (data["scanned"], data["picked"], data["wanted"]) == (5, 5, 13)
    assert len(data["picks"]) == 5
    assert all(d["decision"] == "keep" for d in data["critiques"][0]["decisions"])
    page = result.digest_path.read_text(encoding="utf-8")
    assert "候选不足：本期只有 5 篇候选，精选 5 篇（计划 13 篇）" in page

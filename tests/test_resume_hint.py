"""A failed run names `ribao runs resume RUN_ID` only when a resume would continue past its start."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.support.resume import configure, in_process_result, use_home
from tests.support.stub_openai import StubOpenAI


def test_a_run_that_failed_before_any_node_finished_names_no_resume(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    broken = tmp_path / "2026-02-18.cs.jsonl"
    broken.write_text('{"id": "2602.15067", "title": \n', encoding="utf-8")  # the listing node fails
    with StubOpenAI() as stub:
        use_home(monkeypatch, configure(tmp_path / "home", stub))
        failed = in_process_result("run", "--source", str(broken), "--out", str(tmp_path / "out"))
        assert failed.exit_code == 1
        (line,) = [x for x in failed.stderr.splitlines() if x.startswith("ribao: error: ")]
        assert "resume" not in failed.stderr, line
        assert not stub.chat_requests

        (tmp_path / "home" / "config.toml").write_text("must_reed = 3\n", encoding="utf-8")
        bad_config = in_process_result("run", "--source", str(broken))
        assert bad_config.exit_code == 1 and "must_reed" in bad_config.stderr
        assert "resume" not in bad_config.stderr

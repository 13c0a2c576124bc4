"""A run stopped while the writers work resumes to the same digest, repaying nothing.

In process (the fast suite): some writers fail the step once others have answered. In a real
`ribao` process killed with SIGKILL (marked slow: three processes, about 8 s).
"""

from __future__ import annotations

import re
import signal
import time
from pathlib import Path

import pytest

from tests.support.http_run import respond
from tests.support.resume import (
    WRITER_TOOLS,
    FailingWriters,
    SlowWriters,
    assert_resumed_like,
    configure,
    in_process,
    in_process_result,
    stored_writers,
    tools,
    use_home,
)
from tests.support.samples import sample_listing
from tests.support.stub_openai import StubOpenAI
from tests.support.workers import ribao_proc


def test_run_failed_in_the_writers_resumes_to_the_same_digest_without_repaying(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    source = str(sample_listing())
    # The reference: the same run, never interrupted.
    with StubOpenAI() as stub:
        stub.responder = respond
        use_home(monkeypatch, configure(tmp_path / "ref-home", stub))
        assert in_process("run", "--source", source, "--out", str(tmp_path / "ref"), "--quiet") == 0
    reference = (tmp_path / "ref" / "2026-02-18.md").read_text(encoding="utf-8")

    with StubOpenAI() as stub:
        writers = FailingWriters(keep=4)
        stub.responder = writers
        use_home(monkeypatch, configure(tmp_path / "home", stub))
        out = tmp_path / "out"
        failed = in_process_result("run", "--source", source, "--out", str(out), "--quiet")
        assert failed.exit_code == 1
        assert not out.exists() or not any(out.iterdir()), "a failed run must leave no digest"
        assert len(writers.answered) == 4
        before = len(stub.chat_requests)
        writers.fail = False

        # The one error line says how to continue: the exact command, with the failed run's id.
        (line,) = failed.stderr.strip().splitlines()
        hint = re.search(r"\(continue with: ribao (runs resume [0-9A-Z]{26})\)$", line)
        assert line.startswith("ribao: error: ") and hint, line
        assert in_process(*hint.group(1).split(), "--quiet") == 0
        after = tools(stub, before)
        assert not {"TriageScores", "ShortlistRanking", "PickReasons", "CriticVerdicts"} & set(after)
        assert set(after) <= WRITER_TOOLS | {"LeadOutput"}
        asked_again = [
            str(r.body["messages"][-1]["content"])
            for r in stub.chat_requests[before:]
            if r.body and r.body["tools"][0]["function"]["name"] in WRITER_TOOLS
        ]
        assert not set(writers.answered) & set(asked_again), "a finished writer was asked again"
        assert len(asked_again) == 13 - 4
        assert after.count("LeadOutput") == 1

    assert_resumed_like(reference, out, tmp_path / "home")


@pytest.mark.slow
def test_killed_run_resumes_to_the_same_digest_without_repaying(tmp_path: Path) -> None:
    source = str(sample_listing())
    # The reference: the same run, never interrupted.
    with StubOpenAI() as stub:
        stub.responder = respond
        env = configure(tmp_path / "ref-home", stub)
        ref = ribao_proc(
            "run", "--source", source, "--out", str(tmp_path / "ref"), "--quiet", env=env, cwd=tmp_path
        )
        assert ref.wait(timeout=300) == 0, ref.stderr.read() if ref.stderr else ""
    reference = (tmp_path / "ref" / "2026-02-18.md").read_text(encoding="utf-8")

    with StubOpenAI() as stub:
        slow = SlowWriters()
        stub.responder = slow
        env = configure(tmp_path / "home", stub)
        out = tmp_path / "out"
        proc = ribao_proc("run", "--source", source, "--out", str(out), "--quiet", env=env, cwd=tmp_path)
        deadline = time.monotonic() + 300
        # Four writers stored (their checkpoints committed), not a pause after their answers: a busy
        # machine had not stored them 0.2 s after, and the resume asked them again.
        while slow.writers_answered < 4 or stored_writers(tmp_path / "home") < 4:
            assert proc.poll() is None and time.monotonic() < deadline, "the run ended before the kill"
            time.sleep(0.05)
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=30)
        assert not out.exists() or not any(out.iterdir()), "a killed run must leave no digest"
        before = len(stub.chat_requests)
        # What the run had finished: an answer the client had not stored yet is rightly asked again.
        done_before = stored_writers(tmp_path / "home")
        slow.slow = False  # the resumed run need not wait: what it repays is counted, not timed

        resumed = ribao_proc("runs", "resume", "latest", "--quiet", env=env, cwd=tmp_path)
        assert resumed.wait(timeout=300) == 0, resumed.stderr.read() if resumed.stderr else ""

        after = tools(stub, before)
        assert not {"TriageScores", "ShortlistRanking", "PickReasons", "CriticVerdicts"} & set(after)
        assert set(after) <= WRITER_TOOLS | {"LeadOutput"}
        assert len([t for t in after if t in WRITER_TOOLS]) <= 13 - done_before
        assert after.count("LeadOutput") == 1

    assert_resumed_like(reference, out, tmp_path / "home")

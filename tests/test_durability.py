"""Finished LLM work survives failures and kill -9: triage batches (7.11), the ranking, writers (7.12).

Each scenario runs in process (the fast suite) and in real `ribao` processes (marked slow: two or
three processes each, and a real SIGKILL).
"""

from __future__ import annotations

import re
import signal
import subprocess
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from ribao.runs.db import RunLog
from ribao.sources import read_listing
from ribao.sources.options import ListingOptions
from tests.support.http_run import respond
from tests.support.resume import (
    WRITER_TOOLS,
    configure,
    in_process,
    in_subprocess,
    kill_at_then_resume,
    stored_tasks,
    tools,
    use_home,
)
from tests.support.samples import sample_listing
from tests.support.stub_openai import StubOpenAI
from tests.support.workers import ribao_proc


def _user_text(body: dict[str, Any]) -> str:
    return str(body["messages"][-1]["content"])


class FailingScreener:
    """Answer like `respond`, except: triage batch `fail_batch` fails with a 400 (not retried) once the
    other 8 batches are stored in `home`'s run log (their writes committed: waiting a fixed time
    after their answers was too short on a busy machine), and the shortlist ranking fails while
    `fail_rank` is set."""

    GUARD = 300.0  # seconds the failing batch waits for the others: only a hang reaches it

    def __init__(self, fail_batch: int | None, fail_rank: bool, home: Path) -> None:
        self.fail_batch, self.fail_rank, self.home = fail_batch, fail_rank, home

    def _others_stored(self) -> None:
        deadline = time.monotonic() + self.GUARD
        while stored_tasks(self.home, "triage_batch") < 8 and time.monotonic() < deadline:
            time.sleep(0.05)

    def __call__(self, body: dict[str, Any]) -> dict[str, Any]:
        name = body["tools"][0]["function"]["name"]
        if name == "TriageScores" and self.fail_batch and f"第 {self.fail_batch}/9 批" in _user_text(body):
            self._others_stored()
            self.fail_batch = None
            return {"status": 400, "body": {"error": {"message": "stub: batch refused"}}}
        if name == "ShortlistRanking" and self.fail_rank:
            return {"status": 400, "body": {"error": {"message": "stub: ranking refused"}}}
        return respond(body)


def _resume_repays_no_finished_triage_batch(
    tmp_path: Path, screener: FailingScreener, runner: Callable[[dict[str, str]], Callable[..., int]]
) -> None:
    """Fail batch 5 of 9, resume (only batch 5 is asked again, then the ranking fails), resume again
    (no triage call at all); `runner(env)` returns how each `ribao` command is run."""
    source = str(sample_listing())
    with StubOpenAI() as stub:
        stub.responder = screener
        run = runner(configure(tmp_path / "home", stub))
        out = str(tmp_path / "out")
        assert run("run", "--source", source, "--out", out, "--quiet") == 1
        assert tools(stub).count("TriageScores") == 9  # 8 answered, batch 5 refused

        # Resume 1: only batch 5 is asked again; then the ranking fails.
        before = len(stub.chat_requests)
        assert run("runs", "resume", "latest", "--quiet") == 1
        assert tools(stub, before).count("TriageScores") == 1
        assert "第 5/9 批" in _user_text(next(r.body for r in stub.chat_requests[before:] if r.body))

        # Resume 2: a run that failed at ranking repays no triage call at all.
        screener.fail_rank = False
        before = len(stub.chat_requests)
        assert run("runs", "resume", "latest", "--quiet") == 0
        assert "TriageScores" not in tools(stub, before)
    assert (tmp_path / "out" / "2026-02-18.md").is_file()
    with RunLog.open(tmp_path / "home") as log:
        row = log.list_runs()[0]
        tasks = [c.task for c in log.calls(row.run_id)]
    assert row.status == "done"
    assert sorted(t for t in tasks if t.startswith("triage")) == sorted(f"triage {n}/9" for n in range(1, 10))


def test_resume_in_process_repays_no_finished_triage_batch(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def runner(env: dict[str, str]) -> Callable[..., int]:
        use_home(monkeypatch, env)
        return in_process

    _resume_repays_no_finished_triage_batch(
        tmp_path, FailingScreener(fail_batch=5, fail_rank=True, home=tmp_path / "home"), runner
    )


@pytest.mark.slow
def test_resume_repays_no_finished_triage_batch(tmp_path: Path) -> None:
    _resume_repays_no_finished_triage_batch(
        tmp_path,
        FailingScreener(fail_batch=5, fail_rank=True, home=tmp_path / "home"),
        lambda env: in_subprocess(env, tmp_path),
    )


class Failing:
    """Answer like `respond`, but refuse requests for `tool` with a 400 (not retried) while `fail` is set."""

    def __init__(self, tool: str) -> None:
        self.tool, self.fail = tool, True

    def __call__(self, body: dict[str, Any]) -> dict[str, Any]:
        if body["tools"][0]["function"]["name"] == self.tool and self.fail:
            return {"status": 400, "body": {"error": {"message": f"stub: {self.tool} refused"}}}
        return respond(body)


def test_a_failure_just_after_the_writers_loses_no_writer_result(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    source = str(sample_listing())
    with StubOpenAI() as stub:
        lead = Failing("LeadOutput")
        stub.responder = lead
        use_home(monkeypatch, configure(tmp_path / "home", stub))
        out = str(tmp_path / "out")
        assert in_process("run", "--source", source, "--out", out, "--quiet") == 1
        assert tools(stub).count("MustReadOutput") + tools(stub).count("NotableOutput") == 13
        assert tools(stub)[-1] == "LeadOutput"
        lead.fail = False
        before = len(stub.chat_requests)
        assert in_process("runs", "resume", "latest", "--quiet") == 0
        after = tools(stub, before)
    assert not WRITER_TOOLS & set(after), after
    assert after == ["LeadOutput"]
    assert (tmp_path / "out" / "2026-02-18.md").is_file()


@pytest.mark.slow
def test_kill_just_after_the_writers_loses_no_writer_result(tmp_path: Path) -> None:
    killed, after = kill_at_then_resume(tmp_path, "LeadOutput")
    assert killed.count("MustReadOutput") + killed.count("NotableOutput") == 13
    assert not WRITER_TOOLS & set(after), after
    assert after == ["LeadOutput"]


def _screened_once(home: Path) -> None:
    """The resumed run in `home` finished, with one ranking and one reasons call answered in its log."""
    with RunLog.open(home) as log:
        row = log.list_runs()[0]
        answered = [c.task for c in log.calls(row.run_id) if not c.error]
    assert row.status == "done"
    assert answered.count("rank round 1") == 1 and answered.count("reasons round 1") == 1


def test_a_failure_in_the_reasons_repays_no_ranking(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    source = str(sample_listing())
    with StubOpenAI() as stub:
        reasons = Failing("PickReasons")
        stub.responder = reasons
        use_home(monkeypatch, configure(tmp_path / "home", stub))
        out = str(tmp_path / "out")
        assert in_process("run", "--source", source, "--out", out, "--quiet") == 1
        assert tools(stub)[-2:] == ["ShortlistRanking", "PickReasons"]
        reasons.fail = False
        before = len(stub.chat_requests)
        assert in_process("runs", "resume", "latest", "--quiet") == 0
        after = tools(stub, before)
    assert after[:2] == ["PickReasons", "CriticVerdicts"], after
    assert not {"TriageScores", "ShortlistRanking"} & set(after)
    assert (tmp_path / "out" / "2026-02-18.md").is_file()
    _screened_once(tmp_path / "home")


@pytest.mark.slow
def test_kill_between_ranking_and_reasons_repays_no_ranking(tmp_path: Path) -> None:
    killed, after = kill_at_then_resume(tmp_path, "PickReasons")
    assert killed.count("ShortlistRanking") == 1
    assert after[:2] == ["PickReasons", "CriticVerdicts"], after
    assert not {"TriageScores", "ShortlistRanking"} & set(after)
    assert (tmp_path / "out" / "2026-02-18.md").is_file()
    _screened_once(tmp_path / "home")


class StaggeredWriters:
    """Answer like `respond`, but the k-th writer request since `restart()` waits 0.3 k s, so writers
    finish one by one and a kill right after the first leaves the others unfinished."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.seen = 0

    def restart(self) -> None:
        with self.lock:
            self.seen = 0

    def __call__(self, body: dict[str, Any]) -> dict[str, Any]:
        if body["tools"][0]["function"]["name"] in WRITER_TOOLS:
            with self.lock:
                self.seen += 1
                k = self.seen
            time.sleep(0.3 * k)
        return respond(body)


def _kill_after_first_writer(proc: subprocess.Popen[str]) -> set[str]:
    """SIGKILL `proc` the moment its trace shows a finished writer; return the papers of every
    `✓ write_summary` line it printed before dying."""
    assert proc.stderr is not None
    lines: list[str] = []
    for line in proc.stderr:
        lines.append(line)
        if line.startswith("✓ write_summary"):
            proc.send_signal(signal.SIGKILL)
            break
    else:
        raise AssertionError(f"the run ended before a writer finished: {''.join(lines)[-2000:]}")
    lines += proc.stderr.read().splitlines()
    proc.wait(timeout=30)
    return {m[1] for line in lines if (m := re.match(r"✓ write_summary \S+ (\S+) \(", line))}


def _writers_asked(stub: StubOpenAI, since: int, titles: dict[str, str]) -> list[str]:
    """Return the papers (canonical ids) of the writer requests since request `since`."""
    asked = []
    for r in stub.chat_requests[since:]:
        if r.body and r.body["tools"][0]["function"]["name"] in WRITER_TOOLS:
            title = re.search(r"^标题：(.*)$", str(r.body["messages"][-1]["content"]), re.M)
            assert title, r.body["messages"][-1]["content"]
            asked.append(titles[title[1]])
    return asked


@pytest.mark.slow
def test_kill_right_after_a_traced_writer_never_repays_it(tmp_path: Path) -> None:
    source = str(sample_listing())
    listing = read_listing(ListingOptions(source))
    titles = {p.title: p.arxiv_id for p in listing.papers}
    with StubOpenAI() as stub:
        writers = StaggeredWriters()
        stub.responder = writers
        env = configure(tmp_path / "home", stub)
        command = ["run", "--source", source, "--out", str(tmp_path / "out")]
        traced: set[str] = set()
        # The run, then three resumes, each killed at its first finished writer; then a last resume.
        for _ in range(4):
            writers.restart()
            before = len(stub.chat_requests)
            killed = _kill_after_first_writer(ribao_proc(*command, env=env, cwd=tmp_path))
            asked = _writers_asked(stub, before, titles)
            assert not traced & set(asked), f"asked again after its ✓ line: {sorted(traced & set(asked))}"
            traced |= killed
            command = ["runs", "resume", "latest"]
        assert len(traced) >= 4
        writers.restart()
        before = len(stub.chat_requests)
        resumed = ribao_proc("runs", "resume", "latest", "--quiet", env=env, cwd=tmp_path)
        assert resumed.wait(timeout=300) == 0, resumed.stderr.read() if resumed.stderr else ""
        asked = _writers_asked(stub, before, titles)
    assert not traced & set(asked), f"asked again after its ✓ line: {sorted(traced & set(asked))}"
    assert len(asked) <= 13 - len(traced)
    assert (tmp_path / "out" / "2026-02-18.md").is_file()

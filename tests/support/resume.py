"""Real and in-process `ribao` runs against the OpenAI stub, killed and resumed (the resume tests)."""

from __future__ import annotations

import json
import os
import re
import signal
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner, Result

from ribao.cli import app
from ribao.runs.db import RunLog
from tests.support.http_run import respond
from tests.support.samples import sample_listing
from tests.support.stub_openai import StubOpenAI
from tests.support.workers import ribao_ok, ribao_proc, worker_home

WRITER_TOOLS = {"MustReadOutput", "NotableOutput"}


def stored_tasks(home: Path, node: str = "write_summary", url: str | None = None) -> int:
    """Return how many finished `node` tasks of `home`'s latest run its run log holds (on `url` when
    given): a task is recorded only once its writes are committed, so a resume does not run it again."""
    log = RunLog.open(home, url=url)
    try:
        newest = log.list_runs(limit=1)
        nodes = log.nodes(newest[0].run_id) if newest else []
        return sum(1 for n in nodes if n.node == node and n.error is None)
    finally:
        log.close()


def stored_writers(home: Path, url: str | None = None) -> int:
    """Return how many writer tasks of `home`'s latest run are stored (see `stored_tasks`)."""
    return stored_tasks(home, "write_summary", url)


class SlowWriters:
    """Answer like `respond`, but the n-th writer request waits n x 0.4 s: writers finish one by one
    (until `slow` is set False, e.g. for the resumed run)."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.writers_seen = 0
        self.writers_answered = 0
        self.slow = True

    def __call__(self, body: dict[str, Any]) -> dict[str, Any]:
        name = body["tools"][0]["function"]["name"]
        if name in WRITER_TOOLS:
            with self.lock:
                self.writers_seen += 1
                n = self.writers_seen
            if self.slow:
                time.sleep(0.4 * n)
            with self.lock:
                self.writers_answered += 1
        return respond(body)


def configure(home: Path, stub: StubOpenAI) -> dict[str, str]:
    """Write a home whose runs use the stub; memory off (each `ribao` process would open Chroma
    afresh; the memory nodes are covered in process by test_graph and test_delivery_run)."""
    home.mkdir(parents=True)
    (home / "config.toml").write_text(
        f'llm = "stub"\nmax_critic_rounds = 1\n[providers.stub]\nbase_url = "{stub.base_url}"\n'
        'api_key_env = "STUB_API_KEY"\nmodel = "stub-chat"\n[memory]\nenabled = false\n',
        encoding="utf-8",
    )
    return {**os.environ, "RIBAO_HOME": str(home), "STUB_API_KEY": "sk-stub-key-0123456789"}


def tools(stub: StubOpenAI, since: int = 0) -> list[str]:
    return [r.body["tools"][0]["function"]["name"] for r in stub.chat_requests[since:] if r.body]


def use_home(monkeypatch: pytest.MonkeyPatch, env: dict[str, str]) -> None:
    """Point this process at the home and key of `configure`'s `env` (for `in_process`)."""
    monkeypatch.setenv("RIBAO_HOME", env["RIBAO_HOME"])
    monkeypatch.setenv("STUB_API_KEY", env["STUB_API_KEY"])


def in_subprocess(env: dict[str, str], cwd: Path) -> Callable[..., int]:
    """Return a runner of `ribao *args` as a real process in `env`: exit code; stderr shown on failure."""

    def run(*args: str) -> int:
        proc = ribao_proc(*args, env=env, cwd=cwd)
        code = proc.wait(timeout=300)
        if code and proc.stderr:
            sys.stderr.write(proc.stderr.read())  # pytest shows it with the failing assertion
        return code

    return run


def assert_resumed_like(reference: str, out: Path, home: Path) -> None:
    """The resumed run's digest in `out` equals `reference` (run ids aside), and its call log in
    `home` holds each screener and critic call once, and every writer."""
    digest = (out / "2026-02-18.md").read_text(encoding="utf-8")
    assert strip(digest) == strip(reference)
    data = json.loads((out / "2026-02-18.json").read_text(encoding="utf-8"))
    assert len(data["picks"]) == 13
    with RunLog.open(home) as log:
        row = log.list_runs()[0]
        assert row.status == "done" and row.run_id == data["run_id"]
        by_task = [c.task for c in log.calls(row.run_id)]
    assert len([t for t in by_task if t.startswith("triage")]) == 9
    assert by_task.count("critique round 1") == 1
    assert len({t for t in by_task if t.startswith("2602.")}) == 13


def in_process(*args: str) -> int:
    """Run `ribao *args` in this process (RIBAO_HOME and the key set by the caller); return its exit code."""
    return in_process_result(*args).exit_code


def in_process_result(*args: str) -> Result:
    """Run `ribao *args` in this process (RIBAO_HOME and the key set by the caller); return the result."""
    return CliRunner().invoke(app, list(args), catch_exceptions=False)


def strip(md: str) -> str:
    return re.sub(r"run [0-9A-Z]{26}", "run ID", md)


class FailingWriters:
    """Answer like `respond`, except: the first `keep` writer requests are answered, every later one
    waits until those have been answered, leaves the client time to store them, then fails with a 400
    (not retried); until `fail` is set False (the resumed run). `answered` holds the answered writers'
    user messages (one per paper)."""

    def __init__(self, keep: int) -> None:
        self.keep, self.fail = keep, True
        self.lock = threading.Lock()
        self.seen = 0
        self.answered: list[str] = []
        self.kept = threading.Event()

    def __call__(self, body: dict[str, Any]) -> dict[str, Any]:
        if body["tools"][0]["function"]["name"] not in WRITER_TOOLS or not self.fail:
            return respond(body)
        with self.lock:
            self.seen += 1
            n = self.seen
        if n > self.keep:
            self.kept.wait(30)
            time.sleep(0.5)  # let the client store the answered writers' results
            return {"status": 400, "body": {"error": {"message": "stub: writer refused"}}}
        reply = respond(body)
        with self.lock:
            self.answered.append(str(body["messages"][-1]["content"]))
            if len(self.answered) == self.keep:
                self.kept.set()
        return reply


class Hanging:
    """Answer like `respond`, but hang requests for `tool` until released (`hang` set False)."""

    def __init__(self, tool: str) -> None:
        self.tool, self.hang = tool, True
        self.arrived = threading.Event()

    def __call__(self, body: dict[str, Any]) -> dict[str, Any]:
        if body["tools"][0]["function"]["name"] == self.tool and self.hang:
            self.arrived.set()
            return {"hang": 60}
        return respond(body)


def kill_at_then_resume(tmp_path: Path, tool: str) -> tuple[list[str], list[str]]:
    """Run the sample day as a real process until it asks for `tool` (held unanswered), kill -9 it and
    resume it; return the tools asked before the kill and those the resumed run asked."""
    with StubOpenAI() as stub:
        held = Hanging(tool)
        stub.responder = held
        env = configure(tmp_path / "home", stub)
        run = ("run", "--source", str(sample_listing()), "--out", str(tmp_path / "out"), "--quiet")
        proc = ribao_proc(*run, env=env, cwd=tmp_path)
        assert held.arrived.wait(300), f"the run never asked for {tool}"
        killed = tools(stub)
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=30)
        held.hang = False
        before = len(stub.chat_requests)
        resumed = ribao_proc("runs", "resume", "latest", "--quiet", env=env, cwd=tmp_path)
        assert resumed.wait(timeout=300) == 0, resumed.stderr.read() if resumed.stderr else ""
        return killed, tools(stub, before)


@contextmanager
def queued_day(
    tmp_path: Path, store_url: str, out: Path
) -> Iterator[tuple[StubOpenAI, SlowWriters, dict[str, str]]]:
    """Queue the sample day for the workers of a home on the queue at `store_url` (digests into `out`),
    against a stub whose writers answer one by one; yield the stub, its responder and the workers' env."""
    with StubOpenAI() as stub:
        slow = SlowWriters()
        stub.responder = slow
        env = worker_home(tmp_path / "home", stub, store_url)
        env["RIBAO_OUT_DIR"] = str(out)
        source = str(sample_listing())
        ribao_ok("enqueue", "run", "--date", "2026-02-18", "--source", source, env=env, cwd=tmp_path)
        yield stub, slow, env

"""Ctrl-C or SIGTERM to a worker mid-job: the worker ends at once with one line and status 0, its job is
queued again (not failed, the run recorded `interrupted`), and the next worker resumes it from the last
checkpoint, repaying no finished call. Marked slow: real worker processes, about 30 s each."""

from __future__ import annotations

import json
import signal
import time
from pathlib import Path

import pytest

from tests.support.resume import SlowWriters, tools
from tests.support.samples import sample_listing
from tests.support.stub_openai import StubOpenAI
from tests.support.workers import jobs, ribao_ok, ribao_proc, worker_home

pytestmark = pytest.mark.slow


@pytest.mark.parametrize(
    "signals", [[signal.SIGINT, signal.SIGINT], [signal.SIGTERM]], ids=["ctrl-c-twice", "term"]
)
def test_a_signal_mid_job_stops_the_worker_and_queues_the_job_to_resume(
    signals: list[signal.Signals], tmp_path: Path, postgres_url: str
) -> None:
    with StubOpenAI() as stub:
        slow = SlowWriters()
        stub.responder = slow
        env = worker_home(tmp_path / "home", stub, postgres_url)
        env["RIBAO_OUT_DIR"] = str(tmp_path / "out")
        ribao_ok(
            "enqueue", "run", "--date", "2026-02-18", "--source", str(sample_listing()), env=env, cwd=tmp_path
        )
        worker = ribao_proc("worker", env=env, cwd=tmp_path)
        deadline = time.monotonic() + 300
        while slow.writers_answered < 2:
            assert worker.poll() is None and time.monotonic() < deadline, worker.communicate()[1][-3000:]
            time.sleep(0.05)
        for sig in signals:
            worker.send_signal(sig)
        # was: the job ran to its end first (a second Ctrl-C: a traceback, the job left running)
        _, err = worker.communicate(timeout=120)
        [job] = jobs(postgres_url)
        assert worker.returncode == 0 and "Traceback" not in err, err[-3000:]
        assert err.strip().splitlines()[-1] == (
            f"ribao: worker stopped ({signals[0].name}); running job(s) {job['id']} queued again, to resume "
            "from their checkpoint"
        )
        assert (job["status"], job["attempts"]) == ("todo", 1)
        assert not (tmp_path / "out" / "2026-02-18.md").exists()
        [run] = json.loads(ribao_ok("runs", "list", "--json", env=env, cwd=tmp_path))
        assert run["status"] == "interrupted"

        before = len(stub.chat_requests)
        slow.slow = False
        ribao_ok("worker", "--until-empty", env=env, cwd=tmp_path)
    [job] = jobs(postgres_url)
    assert job["status"] == "succeeded" and (tmp_path / "out" / "2026-02-18.md").exists()
    assert not {"TriageScores", "ShortlistRanking", "PickReasons", "CriticVerdicts"} & set(
        tools(stub, before)
    )

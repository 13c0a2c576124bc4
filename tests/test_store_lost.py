"""`ribao run` on a Postgres store that goes away mid-run (restarted: fast shutdown, 2 s down): one error
line naming the database and the run to resume (and at most one for the slots it could not give back),
exit status 1; once it is back, `ribao runs resume` finishes the day from the checkpoints, repaying no
finished call. Its own cluster: a restart would end every other test's sessions on the shared one.
Marked slow: real `ribao` processes, about 30 s."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from tests.support.resume import WRITER_TOOLS, SlowWriters, stored_writers, tools
from tests.support.samples import sample_listing
from tests.support.servers import Postgres
from tests.support.stub_openai import StubOpenAI
from tests.support.workers import ribao_ok, ribao_proc, worker_home

pytestmark = pytest.mark.slow


def test_postgres_lost_mid_run_is_one_line_naming_it_and_runs_resume_finishes_repaying_nothing(
    tmp_path: Path,
    own_postgres: Postgres,
) -> None:
    pg = own_postgres
    url = pg.create_database("lost")
    out = tmp_path / "out"
    with StubOpenAI() as stub:
        slow = SlowWriters()
        stub.responder = slow
        env = worker_home(tmp_path / "home", stub, url)
        run = ribao_proc(
            "run", "--source", str(sample_listing()), "--out", str(out), "--quiet", env=env, cwd=tmp_path
        )
        deadline = time.monotonic() + 300
        while stored_writers(tmp_path / "home", url) < 2:
            assert run.poll() is None, "the run ended before two writers were stored"
            assert time.monotonic() < deadline, "no two writers stored within 300 s"
            time.sleep(0.05)
        pg.restart(down_s=2.0)
        slow.slow = False
        _, err = run.communicate(timeout=300)

        assert run.returncode == 1, err
        assert "Traceback" not in err, err[-3000:]
        *before_last, last = err.strip().splitlines()
        # Besides the error, at most one line for the slots a dozen writers could not give back.
        assert len(before_last) <= 1 and all(line.startswith("giving back a slot of") for line in before_last)
        assert last.startswith(
            f"ribao: error: lost the database postgresql://postgres@127.0.0.1:{pg.port}/lost"
        )
        assert "(continue with: ribao runs resume " in last
        assert not any(out.glob("*.md")), "a run cut off from its database writes no digest"

        run_id = last.rsplit(" ", 1)[-1].rstrip(")")
        before = len(stub.chat_requests)
        ribao_ok("runs", "resume", run_id, "--quiet", env=env, cwd=tmp_path)
        after = tools(stub, before)
        assert not {"TriageScores", "ShortlistRanking", "PickReasons", "CriticVerdicts"} & set(after)
        assert len([t for t in after if t in WRITER_TOOLS]) <= 13 - 2
        assert after.count("LeadOutput") == 1
        assert (out / "2026-02-18.md").exists()

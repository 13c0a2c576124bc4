"""Every paid LLM call is on the run log once, whatever point a run dies at: after storing a shared
answer but before its task's writes are committed (the resume reuses the answer and pays nothing), and
after a task's writes are committed but before the recorder saw it (the resume does not run it again).
A death is an exception raised at that point: nothing after it runs in that attempt, as with kill -9."""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from ribao.app.jobs import write_or_resume
from ribao.app.write import RunResult
from ribao.graph.checkpoint import TaskWrites
from ribao.runs.db import RunLog
from ribao.runs.shared import SharedWork
from ribao.settings import load_settings
from tests.support.shared_home import calls_on_record, home_with_profiles, tools
from tests.support.stub_openai import StubOpenAI

if TYPE_CHECKING:
    from ribao.calls import PaidCalls

DAY = dt.date(2026, 2, 18)
SCOPE = "2026-02-18/batch-1"
RUN_ID = "01JOBA0000000000000000000A"


class Died(Exception):
    """The run's process dies here (kill -9): the rest of this attempt never runs."""


class DiesAfterStoringTheRubric(SharedWork):
    """Shared work whose run dies right after storing its first rubric answer."""

    died = False

    def put_many(self, kind: str, values: Mapping[str, str], paid: PaidCalls | None = None) -> None:
        super().put_many(kind, values, paid)
        if kind == "rubric" and not DiesAfterStoringTheRubric.died:
            DiesAfterStoringTheRubric.died = True
            raise Died("after storing the rubric, before the task's writes were committed")


def run_until_done(profile: str | None, scope: str | None) -> list[RunResult | BaseException]:
    """Run the job of (`profile`, DAY) as RUN_ID; while it dies, run it again (a resume)."""
    outcomes: list[RunResult | BaseException] = []
    while not outcomes or not isinstance(outcomes[-1], RunResult):
        assert len(outcomes) < 3, outcomes
        try:
            outcomes.append(asyncio.run(write_or_resume(load_settings(), DAY, RUN_ID, profile, scope)))
        except Died as exc:
            outcomes.append(exc)
    return outcomes


def assert_each_request_on_record_once(stub: StubOpenAI) -> None:
    """Assert the run log holds one call per request the provider got, and run totals that add them up."""
    calls = calls_on_record([RUN_ID])
    assert len(calls) == tools(stub).total()
    settings = load_settings()
    with RunLog.open(settings.home, url=settings.store.url) as log:
        run = log.get_run(RUN_ID)
    assert run.status == "done"
    assert (run.input_tokens, run.output_tokens) == (
        sum(c.input_tokens for c in calls),
        sum(c.output_tokens for c in calls),
    )


def test_a_run_dying_after_storing_a_shared_answer_has_its_call_on_record(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, store: str | None
) -> None:
    monkeypatch.setattr(DiesAfterStoringTheRubric, "died", False)
    monkeypatch.setattr("ribao.app.services.SharedWork", DiesAfterStoringTheRubric)
    with StubOpenAI() as stub:
        home_with_profiles(tmp_path, stub, monkeypatch, store)
        outcomes = run_until_done("a", SCOPE)
        assert DiesAfterStoringTheRubric.died and isinstance(outcomes[0], Died), outcomes
        assert tools(stub)["ShortlistRanking"] == 1  # the resume reused the stored rubric
        assert_each_request_on_record_once(stub)
    [rubric] = [c for c in calls_on_record([RUN_ID]) if c.task.startswith("rubric")]
    settings = load_settings()
    with RunLog.open(settings.home, url=settings.store.url) as log:
        tasks = {(n.node, n.task_id) for n in log.nodes(RUN_ID)}
    assert (rubric.node, rubric.task_id) in tasks  # under the task that paid it, as the recorder names it


def test_a_run_dying_after_a_task_was_committed_has_its_calls_on_record(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    saved = TaskWrites.saved
    died: list[str] = []

    async def saved_then_die(self: TaskWrites, task_id: str) -> None:
        await saved(self, task_id)
        if tools(stub)["CriticVerdicts"] and not died:  # the critic's task: alone in its step
            died.append(task_id)
            raise Died("after the critic's writes were committed, before the recorder saw them")

    monkeypatch.setattr(TaskWrites, "saved", saved_then_die)
    with StubOpenAI() as stub:
        home_with_profiles(tmp_path, stub, monkeypatch, None)
        outcomes = run_until_done(None, None)
        assert died and isinstance(outcomes[0], Died), outcomes
        assert tools(stub)["CriticVerdicts"] == 1  # the resume did not run the committed task again
        assert_each_request_on_record_once(stub)

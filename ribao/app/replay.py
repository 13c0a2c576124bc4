"""Replay one agent of a recorded run with other prompts or another model (`ribao replay`)."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ulid import ULID

from ribao.app.services import compose, settings_of_run
from ribao.app.tracing import export_after_run
from ribao.graph.replay import ReplayOutcome, replay_agent, spec_of
from ribao.runs.db import RunLog
from ribao.runs.recorder import RunRecorder
from ribao.settings import load_settings
from ribao.startup import end_startup


@dataclass
class ReplayReport:
    """A finished replay: the outcome, both run ids, and the cost of each side's calls.

    Costs are the sums of the calls' recorded costs (`ribao.ledger.total_cost`), None when one is
    unknown or the currencies differ.
    """

    outcome: ReplayOutcome
    run_id: str
    replay_id: str
    recorded_cost: float | None
    recorded_currency: str
    new_cost: float | None
    currency: str


def replay_run(
    ref: str,
    agent: str,
    *,
    prompts_dir: str | None = None,
    model: str | None = None,
    home: Path | None = None,
) -> ReplayReport:
    """Replay `agent` of the recorded run `ref` (an id, a unique prefix, or ``latest``) in `home`.

    The run's own settings apply, with `prompts_dir` and `model` (another model for this agent,
    same provider) replacing its prompt folder and the agent's model. The replay is recorded in
    the run log under a new id with status ``replay`` (``failed`` when it raises), its settings
    naming ``replay_of`` and ``replay_agent``; the recorded run and the memory do not change.
    Raises `ReplayError`, `RunNotFound` or the agent's error (`RibaoError` subclasses).
    """
    spec_of(agent)
    home = home or load_settings().home
    with RunLog.open(home) as log:
        row = log.get_run(ref)
    settings = settings_of_run(row.settings)
    updates: dict[str, Any] = {}
    if prompts_dir:
        updates["prompts_dir"] = prompts_dir
    if model:
        agents = {name: a.model_dump() for name, a in settings.agents.items()}
        agents.setdefault(agent, {})["model"] = model
        updates["agents"] = agents
    settings = settings_of_run({**settings.model_dump(), **updates})
    replay_id = str(ULID())
    with compose(settings, memory=False, delivery=False) as services, services.run_log() as log:
        ctx = services.context(replay_id)
        recorder = RunRecorder(log, replay_id)
        labels = {"replay_of": row.run_id, "replay_agent": agent}
        recorder.start(settings, date=row.date, models=services.configs, labels=labels)
        end_startup()
        try:
            outcome = asyncio.run(replay_agent(agent, row.run_id, ctx))
        except BaseException as exc:
            recorder.finish(error=exc, prompts=ctx.prompts.used)
            export_after_run(settings, log, replay_id)
            raise
        log.record_calls(replay_id, agent, outcome.new_calls)
        recorder.finish(status="replay", prompts=ctx.prompts.used)
        export_after_run(settings, log, replay_id)
    return ReplayReport(
        outcome,
        row.run_id,
        replay_id,
        *ctx.total_cost(outcome.recorded_calls),
        *ctx.total_cost(outcome.new_calls),
    )

"""Run an experiment (`ribao eval run`): replay chosen agents, and what follows them, on recorded runs.

Each base run is replayed from the checkpoint where the first chosen agent started, through every
later node up to the editor's lead (`ribao.graph.replay.replay_downstream`): no arXiv request, no
digest file, no memory, no push. All replays (base runs × repeats) run at once in one event loop,
so they share each provider's limits (`ribao.llm.limits`). Each replay is an ordinary run in the
run log (status ``replay``); its outputs are saved for the metrics (`ribao.evals.outputs`) and the
experiment is recorded (`ribao.evals.experiments`).
"""

from __future__ import annotations

import asyncio
import dataclasses
import datetime as dt
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from langchain_core.language_models import BaseChatModel
from ulid import ULID

from ribao.app.judge import judge_all, judge_config
from ribao.app.run_outputs import outputs_of_state, run_outputs
from ribao.app.services import Services, settings_of_run
from ribao.app.write import graph_steps
from ribao.errors import EvalError, ReplayError, RibaoError
from ribao.evals import experiments
from ribao.evals.judge import save_judgements
from ribao.evals.outputs import RunOutputs, save_outputs
from ribao.fulltext.reader import FulltextReader
from ribao.graph.replay import first_agent, replay_downstream
from ribao.prompts import PromptLibrary
from ribao.prompts.routed import RoutedPrompts
from ribao.registry import AGENTS
from ribao.runs.db import RunLog
from ribao.runs.recorder import RunRecorder
from ribao.runs.rows import RunRow
from ribao.settings import Settings
from ribao.startup import end_startup


@dataclass
class ExperimentReport:
    """A finished experiment: its record, the base runs skipped (checkpoints deleted, …) and the
    replays that failed, each with the reason, and the wall seconds of the replays."""

    experiment: experiments.Experiment
    skipped: dict[str, str] = field(default_factory=dict)
    failed: dict[str, str] = field(default_factory=dict)
    seconds: float = 0.0
    missing_days: list[str] = field(default_factory=list)
    judge_errors: dict[str, dict[str, str]] = field(default_factory=dict)

    def as_json(self) -> dict[str, Any]:
        """Return the report as JSON-ready values."""
        return {
            **self.experiment.model_dump(mode="json"),
            "skipped": self.skipped,
            "failed": self.failed,
            "missing_days": self.missing_days,
            "judge_errors": self.judge_errors,
            "seconds": round(self.seconds, 3),
        }


def base_runs(
    log: RunLog, refs: Sequence[str] = (), days: tuple[dt.date, dt.date] | None = None
) -> tuple[list[RunRow], list[str]]:
    """Return the runs to replay: those `refs` name (``all``: the newest finished run of every day on
    record), or the newest finished run of each listing day in `days` (inclusive); and the weekdays
    of `days` that have none. Raises `RunNotFound` for a bad ref."""
    every = list(refs) == ["all"]
    if refs and not every:
        rows = {row.run_id: row for row in (log.get_run(ref) for ref in refs)}
        return list(rows.values()), []
    if days is None and not every:
        raise EvalError("name the runs to replay (--runs ID…) or their days (--days D..D)")
    start, end = days or (dt.date.min, dt.date.max)
    newest: dict[dt.date, RunRow] = {}
    for row in log.list_runs(status="done", limit=100_000):
        if row.date and start <= row.date <= end and row.date not in newest:
            newest[row.date] = row  # list_runs gives the newest first
    if every:
        return [newest[d] for d in sorted(newest)], []
    wanted = [start + dt.timedelta(n) for n in range((end - start).days + 1)]
    missing = [d.isoformat() for d in wanted if d not in newest and d.weekday() < 5]
    return [newest[d] for d in sorted(newest)], missing


def _replay_settings(services: Services, row: RunRow, prompts_dir: str | None) -> Settings:
    """The base run's own settings in this home, with the experiment's prompt folder when given."""
    settings = settings_of_run(row.settings).model_copy(update={"home": services.settings.home})
    return settings.model_copy(update={"prompts_dir": Path(prompts_dir)}) if prompts_dir else settings


@dataclass
class _Replay:
    """One replay to make: its base run, new run id, settings, services and recorder."""

    row: RunRow
    run_id: str
    settings: Settings
    services: Services
    recorder: RunRecorder
    prompts: RoutedPrompts


def _prepare(
    services: Services,
    log: RunLog,
    row: RunRow,
    agents: list[str],
    prompts_dir: str | None,
    labels: dict[str, Any],
) -> _Replay:
    """Make one replay's services (cache-only full text, routed prompts) and record its start."""
    settings = _replay_settings(services, row, prompts_dir)
    base_prompts = PromptLibrary(user_dir=settings_of_run(row.settings).prompts_folder)
    new_prompts = PromptLibrary(user_dir=Path(prompts_dir)) if prompts_dir else base_prompts
    prompts = RoutedPrompts(agents, new_prompts, base_prompts)

    def fulltext(day: dt.date) -> FulltextReader:
        return FulltextReader(settings.fulltext, settings.fulltext_cache, day, cache_only=True)

    mine = dataclasses.replace(services, settings=settings, prompts=None, fulltext=fulltext, memory=None)
    run_id = str(ULID())
    recorder = RunRecorder(log, run_id)
    recorder.start(
        settings, date=row.date, models=services.configs, labels={**labels, "replay_of": row.run_id}
    )
    return _Replay(row, run_id, settings, mine, recorder, prompts)


async def _run_all(replays: list[_Replay], agents: list[str]) -> list[Any]:
    """Replay all at once; return each replay's outcome or the exception it raised."""

    async def one(r: _Replay) -> Any:
        ctx = r.services.context(r.run_id)
        ctx.prompts = r.prompts
        return await replay_downstream(agents, r.row.run_id, ctx, recursion_limit=graph_steps(r.settings))

    return await asyncio.gather(*(one(r) for r in replays), return_exceptions=True)


def run_experiment(
    services: Services,
    *,
    agents: Sequence[str],
    runs: Sequence[str] = (),
    days: tuple[dt.date, dt.date] | None = None,
    prompts_dir: str | None = None,
    model: str | None = None,
    repeat: int = 1,
    name: str = "",
    judge: BaseChatModel | None = None,
) -> ExperimentReport:
    """Replay `agents` (and what follows them) `repeat` times on each base run, record the experiment.

    The base runs are `runs` (ids, prefixes, ``latest``) or the newest finished run of each day in
    `days`. A base run that cannot be replayed (checkpoints deleted) is skipped and named in the
    report; a replay that fails is recorded as failed and named; the others go on. `model` only
    labels the experiment (the services already carry the models). With `judge`, each replay's
    summaries are judged (`ribao.app.judge`), its failures named per item in `judge_errors`.
    Raises `EvalError` when no replay succeeded, `ReplayError` for an unknown agent, `RunNotFound`
    for a bad run id.
    """
    first_agent(list(agents))  # raises for an unknown agent
    agents = sorted(set(agents), key=AGENTS.index)
    home = services.settings.home
    exp = experiments.Experiment(name=name, agents=agents, model=model, prompts_dir=prompts_dir)
    labels = {"replay_agent": ",".join(agents), "experiment": exp.id}
    with services.run_log() as log:
        rows, missing = base_runs(log, runs, days)
        if not rows:
            raise EvalError("no recorded run to replay" + (f" on {', '.join(missing)}" if missing else ""))
        replays = [
            _prepare(services, log, row, agents, prompts_dir, labels) for row in rows for _ in range(repeat)
        ]
        end_startup()
        started = time.perf_counter()
        outcomes = asyncio.run(_run_all(replays, agents))
        seconds = time.perf_counter() - started
        report = ExperimentReport(exp, seconds=seconds, missing_days=missing)
        done = [
            (r, out)
            for r, outcome in zip(replays, outcomes, strict=True)
            if (out := _finish(log, r, outcome, report))
        ]
        if judge is not None and done:
            _judge(log, home, judge, exp.id, done, report, url=services.settings.store.url)
    if not exp.runs:
        why = "; ".join(f"{k}: {v}" for k, v in {**report.skipped, **report.failed}.items())
        raise EvalError(f"no run could be replayed ({why})")
    replayed = {run_id for ids in exp.runs.values() for run_id in ids}
    exp.prompts = {f: p for r in replays if r.run_id in replayed for f, p in r.prompts.used.items()}
    exp.settings_digest = experiments.settings_digest(replays[0].settings.model_dump(mode="json"))
    experiments.save(home, exp)
    return report


def _judge(
    log: RunLog,
    home: Path,
    judge: BaseChatModel,
    seed: str,
    done: list[tuple[_Replay, RunOutputs]],
    report: ExperimentReport,
    *,
    url: str | None = None,
) -> None:
    """Judge the successful replays against their base runs (checkpoints at store `url` when set);
    save each run's judgements."""
    bases = {r.row.run_id: run_outputs(home, r.row, url=url) for r, _ in done}
    judged = asyncio.run(judge_all(judge, seed, [(out, bases[r.row.run_id]) for r, out in done]))
    for j in judged:
        save_judgements(home, j)
        if j.errors:
            report.judge_errors[j.run_id] = j.errors


def _finish(log: RunLog, r: _Replay, outcome: Any, report: ExperimentReport) -> RunOutputs | None:
    """Record how one replay ended; save its outputs and list it in the experiment when it succeeded."""
    base = r.row.run_id
    if isinstance(outcome, ReplayError):
        report.skipped[base] = str(outcome)
        r.recorder.finish(error=outcome, prompts=r.prompts.used)
        return None
    if isinstance(outcome, BaseException):
        if not isinstance(outcome, RibaoError):
            r.recorder.finish(error=outcome, prompts=r.prompts.used)
            raise outcome
        report.failed[r.run_id] = f"replay of {base}: {outcome}"
        r.recorder.finish(error=outcome, prompts=r.prompts.used)
        return None
    by_agent: dict[str, list[Any]] = {}
    for call in outcome.new_calls:
        by_agent.setdefault(call.agent, []).append(call)
    for agent, calls in by_agent.items():
        log.record_calls(r.run_id, agent, calls)
    r.recorder.finish(status="replay", prompts=r.prompts.used)
    outputs = outputs_of_state(r.run_id, r.row.date, r.settings, outcome.values)
    save_outputs(r.settings.home, outputs)
    report.experiment.runs.setdefault(base, []).append(r.run_id)
    return outputs


def parse_days(text: str) -> tuple[dt.date, dt.date]:
    """Parse ``D..D`` (or one day ``D``) into (start, end); raises `ValueError` naming the text."""
    first, _, last = text.partition("..")
    try:
        start = dt.date.fromisoformat(first.strip())
        end = dt.date.fromisoformat((last or first).strip())
    except ValueError:
        raise ValueError(f"--days {text!r}: expected YYYY-MM-DD..YYYY-MM-DD") from None
    if end < start:
        raise ValueError(f"--days {text!r}: the last day is before the first")
    return start, end


def compose_settings(settings: Settings, agents: Sequence[str], model: str | None) -> Settings:
    """Return `settings` with `model` as the model of each of `agents` (same provider)."""
    if not model:
        return settings
    table: dict[str, dict[str, Any]] = {n: a.model_dump() for n, a in settings.agents.items()}
    for agent in agents:
        table.setdefault(agent, {})["model"] = model
    return settings_of_run({**settings.model_dump(), "agents": table})


def eval_run(
    settings: Settings,
    *,
    agents: Sequence[str],
    model: str | None = None,
    judge: str | None = None,
    **options: Any,
) -> ExperimentReport:
    """Run an experiment with the models of `settings` (`model` for the chosen agents; `judge`, else
    the setting `eval.judge`, names the judge's provider[:model]): compose the services (the local
    llama.cpp server, if used, stops when this returns), then `run_experiment`."""
    from ribao.app.services import compose
    from ribao.llm.models import make_chat_model

    settings = compose_settings(settings, agents, model)
    spec = judge or settings.eval.judge
    judge_model = make_chat_model(judge_config(settings, spec)) if spec else None
    with compose(settings, memory=False, delivery=False) as services:
        return run_experiment(services, agents=agents, model=model, judge=judge_model, **options)

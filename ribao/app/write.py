"""Write a day's digest, or resume a run: stream the graph, trace it, record it, report the result."""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from langgraph.errors import GraphRecursionError
from ulid import ULID

from ribao.app.services import Services, absolute_out, compose, sharing
from ribao.app.tracing import export_after_run
from ribao.context import RunContext
from ribao.errors import NoCheckpoint, RibaoError, RunTooLong, StoreUnreachable
from ribao.graph.builder import compile_graph
from ribao.graph.checkpoint import open_checkpointer
from ribao.ledger import add_tokens
from ribao.llm.gates import settle_gates
from ribao.profiles.build import for_profile, profile_settings
from ribao.profiles.names import DEFAULT_PROFILE
from ribao.runs.backend import check_reachable, database_faults, lost_database
from ribao.runs.recorder import RunRecorder
from ribao.runs.trace import Tracer
from ribao.schemas import DeliveryRecord
from ribao.settings import Settings
from ribao.settings_check import check_out_dir
from ribao.sources import check_source, require_announcement_day
from ribao.startup import end_startup
from ribao.state import DigestState, eligible


@dataclass
class RunResult:
    """What a finished run produced: paths, counts, tokens and cost."""

    run_id: str
    date: dt.date
    digest_path: Path
    json_path: Path
    scanned: int
    picks: int
    input_tokens: int
    output_tokens: int
    cost: float | None
    currency: str
    seconds: float
    deliveries: list[DeliveryRecord] = field(default_factory=list)


def graph_steps(settings: Settings) -> int:
    """Return the run's recursion limit: LangGraph's guard against a loop that never ends."""
    # A run whose every critic round revises takes 11 steps + 4 per round (flag, rank, reasons, critique).
    return 14 + 5 * settings.max_critic_rounds


async def write_day(
    services: Services, date: dt.date | None, *, tracer: Tracer | None = None, run_id: str | None = None
) -> RunResult:
    """Write the digest of announcement day `date` (None: the listing's own day, or the latest) as run
    `run_id` (default: a new ULID, also the LangGraph thread id).

    Raises the failing node's error (`RibaoError` subclasses for expected failures); nothing is
    written to the output folder or the memory unless every pick has its summary.
    """
    inputs = {"requested_date": date, "max_critic_rounds": services.settings.max_critic_rounds}
    return await _stream(services, run_id or str(ULID()), inputs, date=date, tracer=tracer or Tracer())


async def resume_run(
    services: Services, run_id: str, *, date: dt.date | None = None, tracer: Tracer | None = None
) -> RunResult:
    """Continue run `run_id` from its last checkpoint: finished nodes and finished writer tasks are not
    run (or paid for) again. Raises `NoCheckpoint` (a `RunNotFound`) when the run has no checkpoint,
    before its record is touched."""
    if await checkpoint_step(services, run_id) is None:
        raise NoCheckpoint(f"run {run_id} has no checkpoint to resume from")
    return await _stream(services, run_id, None, date=date, tracer=tracer or Tracer())


async def checkpoint_step(services: Services, run_id: str) -> int | None:
    """Return the step of run `run_id`'s last checkpoint (-1 and 0: its inputs only, no node finished), None
    when it has none."""
    async with open_checkpointer(services.checkpoints()) as saver:
        config: Any = {"configurable": {"thread_id": run_id}}
        snapshot = await compile_graph(checkpointer=saver).aget_state(config)
    return int(snapshot.metadata.get("step", -1)) if snapshot.values and snapshot.metadata else None


async def _resumable(services: Services, run_id: str) -> str | None:
    """Return `run_id` when a resume would continue past the run's start (some node finished), else None."""
    try:
        step = await checkpoint_step(services, run_id)
    except Exception:  # only advice: a store that cannot answer now must not hide the run's error
        return None
    return run_id if step is not None and step >= 1 else None


async def _stream(
    services: Services, run_id: str, inputs: dict[str, Any] | None, *, date: dt.date | None, tracer: Tracer
) -> RunResult:
    """Run the graph on thread `run_id` (from `inputs`, or resumed when None), recording every task."""
    settings = services.settings
    started = services.clock()
    # Building the context reads the prompt files: off the event loop, as every file access here.
    ctx = await asyncio.to_thread(services.context, run_id)
    if ctx.memory is not None:
        await ctx.memory.connect()  # a memory server that cannot be reached fails here, before any record
    await asyncio.to_thread(settings.home.mkdir, parents=True, exist_ok=True)
    tracer.line(f"[bold]ribao[/bold] {'resuming run' if inputs is None else 'run'} {run_id}")
    # The run log is SQLite with a busy timeout: every write goes through a worker thread, never
    # on the event loop the graph's tasks share.
    log = await asyncio.to_thread(services.run_log)
    url = settings.store.url
    try:
        with database_faults(url):
            recorder = RunRecorder(log, run_id)
            await asyncio.to_thread(
                recorder.start, settings, date=date, models=services.configs, labels=services.labels
            )
            try:
                state = await _run_graph(services, ctx, inputs, tracer, recorder)
                if "digest_path" not in state:
                    raise RibaoError(
                        f"the run ended without writing a digest ({len(state.get('picks', []))} picks); "
                        "nothing written"
                    )
            except BaseException as exc:
                # A run log that is gone cannot record the failure: the error to say stays the run's.
                with contextlib.suppress(StoreUnreachable), database_faults(url):
                    await asyncio.to_thread(recorder.finish, error=exc, prompts=ctx.prompts.used)
                if lost := lost_database(url, exc):  # no moment to ask it what the checkpoints hold
                    lost.resume_id = run_id
                    raise lost from exc
                if isinstance(exc, RibaoError):
                    exc.resume_id = await _resumable(services, run_id)
                raise
            await asyncio.to_thread(recorder.finish, state=state, prompts=ctx.prompts.used)
            if state.get("deliveries"):
                await asyncio.to_thread(log.record_deliveries, run_id, state["deliveries"])
    finally:
        try:
            with contextlib.suppress(StoreUnreachable), database_faults(url):
                await asyncio.to_thread(export_after_run, settings, log, run_id)
        finally:
            await asyncio.to_thread(log.close)
            await settle_gates()
    return _result(ctx, state, seconds=services.clock() - started)


async def _run_graph(
    services: Services, ctx: RunContext, inputs: dict[str, Any] | None, tracer: Tracer, recorder: RunRecorder
) -> DigestState:
    """Stream the graph on the context's thread with a durable checkpoint per step; return its final state.

    A finished task is traced and recorded only once its writes are committed, so a `✓` line is a task
    a resume will not run again, even after a kill -9 right after it; its LLM calls are recorded before
    that wait, so a kill in between leaves none off the run log."""
    limit = services.recursion_limit or graph_steps(services.settings)
    config: Any = {"configurable": {"thread_id": ctx.run_id}, "recursion_limit": limit}
    async with open_checkpointer(services.checkpoints()) as saver:
        graph = compile_graph(checkpointer=saver)
        end_startup()
        # "sync": each step's checkpoint is on disk before the next step starts.
        stream = graph.astream(
            inputs, config, context=ctx, stream_mode=["tasks", "custom"], durability="sync"
        )
        try:
            async for mode, data in stream:
                if mode == "custom":
                    tracer.progress(data)
                    continue
                if "result" in data or "error" in data:
                    # Its calls are paid already: on record now, even if a kill stops the commit below.
                    await asyncio.to_thread(recorder.paid, data)
                    await saver.saved(str(data["id"]))
                tracer.event(data)
                await asyncio.to_thread(recorder.event, data)
        except GraphRecursionError as exc:
            raise RunTooLong(
                f"the run stopped after {limit} graph steps (LangGraph's recursion limit);"
                " nothing was written"
            ) from exc
        return (await graph.aget_state(config)).values  # type: ignore[no-any-return]


def _result(ctx: RunContext, state: DigestState, *, seconds: float) -> RunResult:
    """Return what the finished run produced, from its final state."""
    calls = state.get("llm_calls", [])
    cost, currency = ctx.total_cost(calls)
    tokens = add_tokens(calls)
    return RunResult(
        run_id=ctx.run_id,
        date=state["date"],
        digest_path=Path(state["digest_path"]),
        json_path=Path(state["json_path"]),
        scanned=len(eligible(state)),
        picks=len(state["picks"]),
        input_tokens=tokens.input_tokens,
        output_tokens=tokens.output_tokens,
        cost=cost,
        currency=currency,
        seconds=seconds,
        deliveries=list(state.get("deliveries", [])),
    )


def preflight(settings: Settings, date: dt.date | None) -> None:
    """Fail before any run record, model, key or server is needed: a source that is neither arXiv nor
    a file, an arXiv day without a listing (weekend, holiday), an output folder that cannot be written,
    or a `store.url` database that cannot be reached."""
    check_source(settings.source)
    check_out_dir(settings.out_dir)
    if settings.store.url:
        check_reachable(settings.store.url)
    if settings.source == "arxiv" and date is not None:
        require_announcement_day(date, settings.holidays)


def reader_settings(settings: Settings, profile: str | None) -> Settings:
    """Return the settings of a run for reader `profile` (None: the default): its picks, categories and
    output folder (default `<out_dir>/<name>`, made absolute)."""
    return absolute_out(for_profile(settings, profile) if profile else settings)


@contextlib.contextmanager
def open_run(
    settings: Settings,
    date: dt.date | None,
    *,
    profile: str | None = None,
    refresh: bool = False,
    scope: str | None = None,
) -> Iterator[Services]:
    """Check the run and read a committed `<home>/feedback.toml` (a malformed one fails before any model
    call), then yield the services of a run for reader `profile` (None: the default): its settings, its
    memory collection, its push channels, its relevance and its `profile` label. The local llama.cpp
    server is stopped when the block ends (errors and Ctrl-C too). `scope` names the runs it shares
    paper-level work with (None: none). `ribao run`, `ribao demo`, workers."""
    from ribao.app.feedback import sync_file

    name = None if profile in (None, DEFAULT_PROFILE) else profile
    run = reader_settings(settings, profile)
    push = profile_settings(settings, name).push if name else None
    preflight(run, date)
    sync_file(run)
    with (
        compose(run, refresh=refresh, profile=name, push=push) as services,  # compose labels the profile
        sharing(services, scope) as shared,
    ):
        yield shared


def run_day(
    settings: Settings,
    date: dt.date | None,
    *,
    tracer: Tracer,
    refresh: bool = False,
    profile: str | None = None,
) -> RunResult:
    """Write a day's digest with the real models for reader `profile` (None: the default; its picks,
    categories, output folder, memory and push channels apply). `ribao run` and `ribao demo`."""
    with open_run(settings, date, profile=profile, refresh=refresh) as services:
        return asyncio.run(write_day(services, date, tracer=tracer))


def resume(
    settings: Settings,
    run_id: str,
    date: dt.date | None,
    *,
    tracer: Tracer,
    profile: str | None = None,
    scope: str | None = None,
) -> RunResult:
    """Resume run `run_id` with its recorded `settings` and the real models (`ribao runs resume`);
    `profile` is the reader the run wrote for (its recorded label), whose memory and relevance apply;
    `scope` the runs it shared paper-level work with (its recorded ``shared_scope``)."""
    check_out_dir(settings.out_dir)
    profile = None if profile == DEFAULT_PROFILE else profile
    push = settings.profiles[profile].push if profile and profile in settings.profiles else None
    with (
        compose(absolute_out(settings), profile=profile, push=push) as composed,
        sharing(composed, scope) as services,
    ):
        return asyncio.run(resume_run(services, run_id, date=date, tracer=tracer))

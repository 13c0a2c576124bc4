"""Run the graph once: build the context (models, prompts, memory, listing), stream, trace, report."""

from __future__ import annotations

import contextlib
import datetime as dt
import os
import time
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from langchain_core.language_models import BaseChatModel
from langgraph.errors import GraphRecursionError
from ulid import ULID

from ribao.context import RunContext, StarsClient
from ribao.errors import RibaoError, RunTooLong
from ribao.fulltext.reader import FulltextReader
from ribao.fulltext.tokens import TokenBudget, TokenCounter
from ribao.graph.builder import compile_graph
from ribao.graph.checkpoint import open_checkpointer
from ribao.llm.config import ModelConfig
from ribao.llm.pricing import make_pricing, unpriced
from ribao.llm.structured import model_name
from ribao.llm.usage import Price
from ribao.prompts import PromptLibrary
from ribao.registry import AGENTS
from ribao.runs.db import RunLog, RunNotFound
from ribao.runs.recorder import RunRecorder
from ribao.runs.trace import Tracer
from ribao.schemas import DeliveryRecord, Listing
from ribao.settings import Settings
from ribao.sources import (
    StarsResult,
    check_source,
    fetch_stars,
    read_listing,
    require_announcement_day,
)
from ribao.state import DigestState, screened


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

    @property
    def failed_pushes(self) -> list[DeliveryRecord]:
        """Return the channels that failed after their retries."""
        return [d for d in self.deliveries if d.status != "ok"]


@contextlib.contextmanager
def model_configs(settings: Settings) -> Iterator[dict[str, ModelConfig]]:
    """Yield each agent's `ModelConfig`; with `llm == "local"` (for any agent) the llama.cpp server runs
    for the duration of the block and is stopped afterwards, also on errors and Ctrl-C."""
    needs_local = settings.llm == "local" or any(a.provider == "local" for a in settings.agents.values())
    if not needs_local:
        yield {agent: settings.model_for(agent) for agent in AGENTS}
        return
    from ribao.llm.local import LocalLlamaServer

    path = settings.local.model_path
    log = settings.home / "logs" / "llama-server.log"
    log.parent.mkdir(parents=True, exist_ok=True)
    opts = settings.local
    with LocalLlamaServer(
        path, n_ctx=opts.n_ctx, n_threads=opts.n_threads, n_threads_batch=opts.n_threads_batch,
        flash_attn=opts.flash_attn, log_path=log,
    ) as server:  # fmt: skip
        local = server.model_config(max_tokens=settings.local.max_tokens)
        yield {agent: settings.model_for(agent, local) for agent in AGENTS}


@contextlib.contextmanager
def open_memory(settings: Settings) -> Iterator[Any]:
    """Open the Chroma memory in `<home>/memory` (or at `memory.url`) for the block; None when disabled.

    The day's embeddings are kept in `<home>/cache/embeddings`; the embedder's model starts loading
    in the background now, while the listing is read, and that load is ended when the block is left
    (an error, exit 3, Ctrl-C or success alike): onnxruntime aborts a process that exits mid-load."""
    if not settings.memory.enabled:
        yield None
        return
    from ribao.memory import MemoryStore, make_embedder

    with MemoryStore.open(
        settings.home / "memory",
        url=settings.memory.url,
        embedder=make_embedder(settings.memory.embedder),
        vectors_dir=settings.home / "cache" / "embeddings",
    ) as store:
        store.preload()
        yield store


def read_day(settings: Settings, day: dt.date | None, *, refresh: bool = False) -> Listing:
    """Read the listing of `day` (None = the file's day, or the latest) from `settings.source`,
    through the day cache in `<home>/cache/arxiv` (`refresh` re-reads and replaces it)."""
    return read_listing(
        settings.source,
        date=day,
        categories=settings.categories,
        include_cross_lists=settings.include_cross_lists,
        api=settings.arxiv,
        holidays=settings.holidays,
        cache_dir=settings.arxiv_cache,
        refresh=refresh,
    )


def writer_budget(
    settings: Settings, models: Mapping[str, BaseChatModel], configs: Mapping[str, ModelConfig] | None
) -> TokenBudget:
    """Return the writer model's window (`local.n_ctx` for the local model, else `fulltext.context_tokens`
    by model name), its output reserve (`max_tokens`) and counter (llama.cpp's tokenizer when local)."""
    cfg = (configs or {}).get("writer")
    if cfg is None:
        name = model_name(models["writer"]) if "writer" in models else ""
        return TokenBudget(window=settings.fulltext.context_window(name), reserve=2048)
    if cfg.local and cfg.base_url:
        return TokenBudget(
            window=settings.local.n_ctx,
            reserve=cfg.max_tokens,
            counter=TokenCounter.for_local_server(cfg.base_url),
        )
    return TokenBudget(window=settings.fulltext.context_window(cfg.model), reserve=cfg.max_tokens)


def build_context(
    settings: Settings,
    *,
    models: Mapping[str, BaseChatModel],
    configs: Mapping[str, ModelConfig] | None,
    memory: Any,
    run_id: str,
    refresh: bool = False,
) -> RunContext:
    """Return the context of one run: models, prompt library, listing reader, memory and pricing."""
    prices = {name: Price(**p.model_dump(), source="config") for name, p in settings.prices.items()}
    return RunContext(
        settings=settings,
        models=dict(models),
        prompts=PromptLibrary(user_dir=settings.prompts_folder),
        read_listing=lambda day: read_day(settings, day, refresh=refresh),
        run_id=run_id,
        memory=memory,
        local_agents=frozenset(agent for agent, cfg in (configs or {}).items() if cfg.local),
        price=make_pricing(configs, prices, settings.currency) if configs else unpriced,
        stars=github_stars(settings),
        fulltext=lambda day: FulltextReader(settings.fulltext, settings.fulltext_cache, day),
        writer_budget=writer_budget(settings, models, configs),
    )


def github_stars(settings: Settings) -> StarsClient | None:
    """Return the run's GitHub stars client (token read from `github.token_env` now), or None when off."""
    gh = settings.github
    if not gh.stars:
        return None
    token = os.environ.get(gh.token_env) or None

    def lookup(urls: Sequence[str], day: dt.date) -> StarsResult:
        return fetch_stars(
            urls,
            token=token,
            cache_dir=settings.arxiv_cache,
            day=day,
            timeout=gh.timeout_seconds,
            api_url=gh.api_url,
        )

    return lookup


def thread_config(run_id: str, settings: Settings) -> dict[str, Any]:
    """Return the LangGraph config of a run: its thread (the run id) and a recursion limit."""
    # Each critic round is two steps; triage, full text, writers, lead, stars, the digest, memory, delivery.
    return {"configurable": {"thread_id": run_id}, "recursion_limit": 14 + 4 * settings.max_critic_rounds}


async def run_digest(
    settings: Settings,
    *,
    date: dt.date | None,
    models: Mapping[str, BaseChatModel],
    configs: Mapping[str, ModelConfig] | None = None,
    memory: Any = None,
    tracer: Tracer | None = None,
    run_id: str | None = None,
    resume: bool = False,
    refresh: bool = False,
) -> RunResult:
    """Run the graph for one announcement day (or, with `resume`, continue run `run_id`).

    `models` maps each agent to its chat model (real or fake); `configs` (same keys) prices the
    calls. The checkpointer lives in `<home>/checkpoints.sqlite`, one thread per run id (a ULID);
    a resumed run restarts from its last checkpoint, so finished nodes and finished writer tasks
    are not run (or paid for) again. Raises the node's error (`RibaoError` subclasses for
    expected failures); nothing is written to the output folder or the memory unless every pick
    has its summary.
    """
    tracer = tracer or Tracer()
    if resume and not run_id:
        raise ValueError("resume needs the run id")
    run_id = run_id or str(ULID())
    started = time.perf_counter()
    ctx = build_context(
        settings, models=models, configs=configs, memory=memory, run_id=run_id, refresh=refresh
    )
    settings.home.mkdir(parents=True, exist_ok=True)
    config = thread_config(run_id, settings)
    tracer.line(f"[bold]ribao[/bold] {'resuming run' if resume else 'run'} {run_id}")
    with RunLog.open(settings.home) as log:
        recorder = RunRecorder(log, run_id)
        recorder.start(settings, date=date, models=configs)
        try:
            async with open_checkpointer(settings.home / "checkpoints.sqlite") as saver:
                graph = compile_graph(checkpointer=saver)
                if resume and not (await graph.aget_state(config)).values:
                    raise RunNotFound(f"run {run_id} has no checkpoint to resume from")
                inputs = (
                    None
                    if resume
                    else {"requested_date": date, "max_critic_rounds": settings.max_critic_rounds}
                )
                # "sync": each step's checkpoint and each finished task's writes are on disk before
                # the next step starts, so a kill -9 right after the writers loses none of them.
                stream = graph.astream(
                    inputs, config, context=ctx, stream_mode=["tasks", "custom"], durability="sync"
                )
                try:
                    async for mode, data in stream:
                        if mode == "custom":
                            tracer.progress(data)
                            continue
                        if "result" in data or "error" in data:  # shown and recorded once on disk
                            await saver.saved(str(data["id"]))
                        tracer.event(data)
                        recorder.event(data)
                except GraphRecursionError as exc:
                    raise RunTooLong(
                        f"the run stopped after {config['recursion_limit']} graph steps (LangGraph's"
                        " recursion limit); nothing was written"
                    ) from exc
                state: DigestState = (await graph.aget_state(config)).values  # type: ignore[assignment]
        except BaseException as exc:
            recorder.finish(error=exc, prompts=ctx.prompts.used)
            raise
        if "digest_path" not in state:
            error = RibaoError(
                f"the run ended without writing a digest ({len(state.get('picks', []))} picks); "
                "nothing written"
            )
            recorder.finish(error=error, prompts=ctx.prompts.used)
            raise error
        recorder.finish(state=state, prompts=ctx.prompts.used)
        if state.get("deliveries"):
            log.record_deliveries(run_id, state["deliveries"])
    calls = state.get("llm_calls", [])
    cost, currency = ctx.total_cost(calls)
    return RunResult(
        run_id=run_id,
        date=state["date"],
        digest_path=Path(state["digest_path"]),
        json_path=Path(state["json_path"]),
        scanned=len(screened(state)),
        picks=len(state["picks"]),
        input_tokens=sum(c.input_tokens for c in calls),
        output_tokens=sum(c.output_tokens for c in calls),
        cost=cost,
        currency=currency,
        seconds=time.perf_counter() - started,
        deliveries=list(state.get("deliveries", [])),
    )


def execute(
    settings: Settings,
    *,
    date: dt.date | None,
    tracer: Tracer,
    run_id: str | None = None,
    resume: bool = False,
    refresh: bool = False,
) -> RunResult:
    """Run (or resume) with real models: open the memory, start the local server if needed, run.

    This is what `ribao run`, `ribao demo` and `ribao runs resume` call; the local llama.cpp
    server is stopped when it returns or raises (Ctrl-C included).
    """
    import asyncio
    import gc

    from ribao.delivery.channels import check_env, select
    from ribao.llm.models import make_chat_model

    if settings.delivery.enabled and settings.push:  # a bad channel fails before any LLM call
        check_env(select(settings.push, settings.delivery.only or None))
    if not resume:  # before any run record, model, key or server is needed
        check_source(settings.source)
        if settings.source == "arxiv" and date is not None:
            require_announcement_day(date, settings.holidays)
    # Absolute, so that a resumed run writes where the original would have, whatever the cwd.
    settings = settings.model_copy(update={"out_dir": settings.out_dir.resolve()})
    with open_memory(settings) as memory, model_configs(settings) as configs:
        models = {agent: make_chat_model(cfg) for agent, cfg in configs.items()}
        # Everything alive now (the imported stack: langchain, openai, chromadb; settings, models)
        # lives as long as the process: keep the cyclic collector from walking it again and again
        # during the run and once more at exit (measured: the exit went from 1.6-7 s to 0.5 s).
        gc.freeze()
        return asyncio.run(
            run_digest(
                settings,
                date=date,
                models=models,
                configs=configs,
                memory=memory,
                tracer=tracer,
                run_id=run_id,
                resume=resume,
                refresh=refresh,
            )
        )


def settings_of_run(row_settings: Mapping[str, Any]) -> Settings:
    """Rebuild the settings a recorded run used (its effective values win over env and config)."""
    known = {k: v for k, v in row_settings.items() if k in Settings.model_fields}
    return Settings(**known)

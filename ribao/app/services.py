"""The services a use case runs on, built once per command by `compose` (tests build their own)."""

from __future__ import annotations

import contextlib
import datetime as dt
import os
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from langchain_core.language_models import BaseChatModel

from ribao.context import RunContext, Shared, StarsClient
from ribao.delivery.delivery import Delivery
from ribao.fulltext.reader import FulltextReader
from ribao.fulltext.tokens import TokenBudget, TokenCounter
from ribao.llm.config import ModelConfig
from ribao.llm.pricing import make_pricing, unpriced
from ribao.llm.structured import model_name
from ribao.llm.usage import Price
from ribao.memory import MemoryStore
from ribao.profiles.run import RunProfile
from ribao.prompts import PromptLibrary
from ribao.registry import AGENTS
from ribao.runs.backend import checkpoint_target
from ribao.runs.db import RunLog
from ribao.runs.shared import SharedWork
from ribao.schemas import Listing
from ribao.settings import Settings
from ribao.sources import ListingOptions, StarsResult, fetch_stars, read_listing


@dataclass
class Services:
    """What the use cases need beyond their arguments: one bundle per command.

    `models` maps each agent to its chat model; `configs` (same keys; None for scripted models)
    prices the calls and tells which agents run on the local model; `memory` is None when the
    memory is off; `delivery` is None when no push channel is configured or push is off;
    `clock` measures a run's seconds; `recursion_limit` overrides the graph-step guard
    (`graph_steps(settings)`); `refresh` re-reads the day's listing from arXiv; `fulltext` makes the
    full-text reader of a day (default: one over `settings.fulltext` and `<home>/cache/fulltext`);
    `profile` is the reader the run writes for (None: the editorial stance); `shared` the paper-level
    work of the other runs of its scope (None: nothing shared; see `sharing`); `labels` go into the run's
    record (a profile run's ``profile``, ``day_run``, ``day_profiles`` and ``day_base``).
    """

    settings: Settings
    models: dict[str, BaseChatModel]
    configs: dict[str, ModelConfig] | None = None
    memory: MemoryStore | None = None
    delivery: Delivery | None = None
    prompts: PromptLibrary | None = None
    clock: Callable[[], float] = time.perf_counter
    recursion_limit: int | None = None
    refresh: bool = False
    fulltext: Callable[[dt.date], FulltextReader] | None = None
    profile: RunProfile | None = None
    shared: Shared | None = None
    labels: dict[str, Any] = field(default_factory=dict)

    def prompt_library(self) -> PromptLibrary:
        """Return the prompt library (the given one, else one over `settings.prompts_folder`)."""
        if self.prompts is None:
            self.prompts = PromptLibrary(user_dir=self.settings.prompts_folder)
        return self.prompts

    def run_log(self) -> RunLog:
        """Open the run log, `<home>/runs.sqlite` or at `store.url` (close it, or use it in a `with`)."""
        return RunLog.open(self.settings.home, url=self.settings.store.url)

    def checkpoints(self) -> Path | str:
        """Return where checkpoints live: `store.url` (Postgres), else `<home>/checkpoints.sqlite`."""
        return checkpoint_target(self.settings.home, self.settings.store.url)

    def read_day(self, day: dt.date | None) -> Listing:
        """Read the listing of `day` (None: the file's day, or the latest) through the day cache."""
        return read_day(self.settings, day, refresh=self.refresh)

    def context(self, run_id: str) -> RunContext:
        """Return the context every node of run `run_id` receives."""
        settings = self.settings
        prices = {name: Price(**p.model_dump(), source="config") for name, p in settings.prices.items()}
        configs = self.configs
        return RunContext(
            settings=settings,
            models=dict(self.models),
            prompts=self.prompt_library(),
            read_listing=self.read_day,
            run_id=run_id,
            memory=self.memory,
            local_agents=frozenset(agent for agent, cfg in (configs or {}).items() if cfg.local),
            price=make_pricing(configs, prices, settings.currency) if configs else unpriced,
            stars=github_stars(settings),
            fulltext=self.fulltext
            or (lambda day: FulltextReader(settings.fulltext, settings.fulltext_cache, day)),
            writer_budget=writer_budget(settings, self.models, configs),
            delivery=self.delivery,
            profile=self.profile,
            shared=self.shared,
        )

    def _fulltext_reader(self, day: dt.date) -> FulltextReader:
        return FulltextReader(self.settings.fulltext, self.settings.fulltext_cache, day)


def read_day(settings: Settings, day: dt.date | None, *, refresh: bool = False) -> Listing:
    """Read the listing of `day` (None = the file's day, or the latest) from `settings.source`,
    through the day cache in `<home>/cache/arxiv` (`refresh` re-reads and replaces it)."""
    return read_listing(listing_options(settings), day, refresh=refresh)


def listing_options(settings: Settings) -> ListingOptions:
    """Return what the listing reader needs of `settings`: source, categories, cross-lists, arXiv's
    endpoints and limits, extra holidays, and the day cache `<home>/cache/arxiv`."""
    return ListingOptions(
        source=settings.source,
        categories=tuple(settings.categories),
        include_cross_lists=settings.include_cross_lists,
        api=settings.arxiv,
        holidays=tuple(settings.holidays),
        cache_dir=settings.arxiv_cache,
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


def github_stars(settings: Settings) -> StarsClient | None:
    """Return the run's GitHub stars client (token read from `github.token_env` now), or None when off."""
    gh = settings.github
    if not gh.stars:
        return None
    token = os.environ.get(gh.token_env) or None

    def lookup(urls: Sequence[str], day: dt.date) -> StarsResult:
        return fetch_stars(
            urls, token=token, cache_dir=settings.arxiv_cache, day=day, timeout=gh.timeout_seconds,
            api_url=gh.api_url,
        )  # fmt: skip

    return lookup


def delivery_for(settings: Settings, names: list[str] | None = None) -> Delivery | None:
    """Return the delivery to the configured channels `names` (all when None), or None when no channel
    is configured. Raises `ConfigError` for an unknown name or a channel URL naming an unset
    variable, so that a bad channel fails before any LLM call."""
    if not settings.push:
        return None
    d = settings.delivery
    delivery = Delivery(
        channels=list(settings.push), site_url=settings.site_url, retries=d.retries,
        backoff_seconds=d.backoff_seconds, timeout_seconds=d.timeout_seconds,
    ).only(names)  # fmt: skip
    delivery.check()
    return delivery


@contextlib.contextmanager
def model_configs(settings: Settings) -> Iterator[dict[str, ModelConfig]]:
    """Yield each agent's `ModelConfig`; with `llm == "local"` (for any agent) the llama.cpp server runs
    for the duration of the block and is stopped afterwards, also on errors and Ctrl-C."""
    needs_local = settings.llm == "local" or any(a.provider == "local" for a in settings.agents.values())
    if not needs_local:
        yield {agent: settings.model_for(agent) for agent in AGENTS}
        return
    from ribao.llm.local import LocalLlamaServer

    log = settings.home / "logs" / "llama-server.log"
    log.parent.mkdir(parents=True, exist_ok=True)
    opts = settings.local
    with LocalLlamaServer(
        opts.model_path, n_ctx=opts.n_ctx, n_threads=opts.n_threads, n_threads_batch=opts.n_threads_batch,
        flash_attn=opts.flash_attn, log_path=log,
    ) as server:  # fmt: skip
        local = server.model_config(max_tokens=opts.max_tokens)
        yield {agent: settings.model_for(agent, local) for agent in AGENTS}


@contextlib.contextmanager
def open_memory(settings: Settings, profile: str | None = None) -> Iterator[MemoryStore | None]:
    """Open the Chroma memory in `<home>/memory` (or at `memory.url`) for the block; None when disabled.

    `profile` names the reader whose memory it is (None: the default profile's).

    The day's embeddings are kept in `<home>/cache/embeddings`; the embedder's model starts loading
    in the background now, while the listing is read, and that load is ended when the block is left
    (an error, exit 3, Ctrl-C or success alike): onnxruntime aborts a process that exits mid-load."""
    if not settings.memory.enabled:
        yield None
        return
    from ribao.memory import make_embedder

    with MemoryStore.open(
        settings.home / "memory",
        url=settings.memory.url,
        embedder=make_embedder(settings.memory.embedder),
        profile=profile,
        vectors_dir=settings.home / "cache" / "embeddings",
    ) as store:
        store.preload()
        yield store


@contextlib.contextmanager
def compose(
    settings: Settings,
    *,
    memory: bool = True,
    delivery: bool = True,
    push: list[str] | None = None,
    refresh: bool = False,
    profile: str | None = None,
) -> Iterator[Services]:
    """Build the services of one command from `settings`: the delivery (checked first, so a bad channel
    fails before anything starts; none when `delivery` is False), the memory (unless `memory` is
    False), the models, and the local llama.cpp server when an agent runs on it, stopped when the
    block ends (errors and Ctrl-C too). `push` names the channels to deliver to (None: every
    configured one, or `delivery.only`). `profile` names the `[profiles.NAME]` reader the run writes
    for (resolved here, so a bad library fails before the run starts).
    """
    from ribao.app.profiles import run_profile
    from ribao.llm.models import make_chat_model

    on = delivery and settings.delivery.enabled
    channels = delivery_for(settings, push or settings.delivery.only or None) if on else None
    with (
        open_memory(settings, profile) if memory else contextlib.nullcontext() as store,
        model_configs(settings) as configs,
    ):
        models: dict[str, BaseChatModel] = {agent: make_chat_model(cfg) for agent, cfg in configs.items()}
        yield Services(
            settings=settings,
            models=models,
            configs=configs,
            memory=store,
            delivery=channels,
            refresh=refresh,
            profile=run_profile(settings, profile, models["screener"]) if profile else None,
            # Recorded with the run, so `ribao runs resume` reopens this reader's memory and relevance.
            labels={"profile": profile} if profile else {},
        )


@contextlib.contextmanager
def sharing(services: Services, scope: str | None) -> Iterator[Services]:
    """Yield `services` sharing paper-level work with the other runs of `scope` (None: `services` as
    they are); the scope is recorded with the run (``shared_scope``) so a resume shares it again."""
    if scope is None:
        yield services
        return
    s = services.settings
    work = SharedWork.open(s.home, s.store.url, scope, lease_s=s.store.claim_lease_seconds)
    try:
        yield replace(services, shared=work, labels={**services.labels, "shared_scope": scope})
    finally:
        work.close()


def settings_of_run(row_settings: Mapping[str, Any]) -> Settings:
    """Rebuild the settings a recorded run used (its effective values win over env and config), bar
    `store`: where runs are kept is the deployment's now, not the run's (its password was masked)."""
    known = {k: v for k, v in row_settings.items() if k in Settings.model_fields and k != "store"}
    return Settings(**known)


def absolute_out(settings: Settings) -> Settings:
    """Return `settings` with an absolute `out_dir`, so a resumed run writes where the original would
    have, whatever the working directory."""
    return settings.model_copy(update={"out_dir": Path(settings.out_dir).resolve()})

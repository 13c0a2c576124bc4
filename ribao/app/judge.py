"""Judge an experiment's replays with an LLM (`ribao eval run --judge`): faithfulness and preference."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Sequence
from typing import Any

from langchain_core.language_models import BaseChatModel
from langchain_core.messages import HumanMessage, SystemMessage

from ribao.errors import ConfigError
from ribao.evals.judge import (
    FAITHFUL,
    PAIR,
    SYSTEM,
    Faithfulness,
    Judgements,
    Preference,
    failure,
    shown_swapped,
    summary_text,
)
from ribao.evals.outputs import RunOutputs
from ribao.llm.config import ModelConfig
from ribao.llm.structured import ainvoke_structured, model_name
from ribao.schemas import Summary
from ribao.settings import Settings


def judge_config(settings: Settings, spec: str) -> ModelConfig:
    """Return the judge's model: ``PROVIDER`` (its default model) or ``PROVIDER:MODEL``, any configured
    provider or preset. Raises `ConfigError` naming the known providers for an unknown one."""
    name, _, model = spec.partition(":")
    if name == "local":
        raise ConfigError("--judge local: the local model is too weak to judge; name a provider")
    provider = settings.provider(name)
    chosen = model or provider.model
    if not chosen:
        raise ConfigError(f"--judge {spec}: provider {name!r} has no default model; use {name}:MODEL")
    return ModelConfig(
        model=chosen, base_url=provider.base_url, api_key_env=provider.api_key_env, provider=name,
        **provider.limits(),
    )  # fmt: skip


async def faithfulness(model: BaseChatModel, summary: Summary, source: str) -> int:
    """Return the judge's 1-5 faithfulness score of `summary` to `source`; raises `RibaoError` on failure."""
    prompt = FAITHFUL.format(source=source[:20000], summary=summary_text(summary))
    reply, _ = await ainvoke_structured(
        model, Faithfulness, [SystemMessage(SYSTEM), HumanMessage(prompt)], agent="judge",
        task=f"faithfulness {summary.arxiv_id}",
    )  # fmt: skip
    return reply.score


async def preference(
    model: BaseChatModel, title: str, base: Summary, new: Summary, *, swapped: bool
) -> float:
    """Return 1.0 when the judge prefers `new`, 0.0 for `base`, 0.5 for a tie; `swapped` shows `new`
    as A. Raises `RibaoError` on failure."""
    a, b = (new, base) if swapped else (base, new)
    prompt = PAIR.format(title=title, a=summary_text(a), b=summary_text(b))
    reply, _ = await ainvoke_structured(
        model, Preference, [SystemMessage(SYSTEM), HumanMessage(prompt)], agent="judge",
        task=f"preference {new.arxiv_id}",
    )  # fmt: skip
    if reply.better == "tie":
        return 0.5
    return 1.0 if (reply.better == "A") == swapped else 0.0


async def _judge_one(model: BaseChatModel, seed: str, new: RunOutputs, base: RunOutputs | None) -> Judgements:
    """Judge every summary of `new` (faithfulness) and each paper both versions summarised (preference)."""
    judged = Judgements(run_id=new.run_id, model=model_name(model))
    jobs: list[tuple[str, str, Awaitable[Any]]] = []
    for pid, summary in new.summaries.items():
        jobs.append(("faithfulness", pid, faithfulness(model, summary, new.sources.get(pid, ""))))
        old = base.summaries.get(pid) if base else None
        if old is not None and old == summary:
            judged.preference[pid] = 0.5  # the same text: a tie, not worth a call
        elif old is not None:
            swapped = shown_swapped(seed, new.run_id, pid)
            title = new.titles.get(pid, pid)
            jobs.append(("preference", pid, preference(model, title, old, summary, swapped=swapped)))
    results = await asyncio.gather(*(job for _, _, job in jobs), return_exceptions=True)
    for (kind, pid, _), result in zip(jobs, results, strict=True):
        if isinstance(result, asyncio.CancelledError | KeyboardInterrupt):
            raise result
        if isinstance(result, BaseException):
            judged.errors[f"{kind} {pid}"] = failure(result)
        elif kind == "faithfulness":
            judged.faithfulness[pid] = int(result)
        else:
            judged.preference[pid] = float(result)
    return judged


async def judge_all(
    model: BaseChatModel, seed: str, pairs: Sequence[tuple[RunOutputs, RunOutputs | None]]
) -> list[Judgements]:
    """Judge each (replay outputs, its base run's outputs) at once, under the judge provider's limits."""
    return list(await asyncio.gather(*(_judge_one(model, seed, new, base) for new, base in pairs)))

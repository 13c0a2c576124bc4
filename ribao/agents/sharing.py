"""Reuse paper-level answers another run of the same scope paid for, paying each missing one once
(`RunContext.shared`): the first run to need an answer claims it, the others wait for it."""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import json
from collections.abc import Awaitable, Callable, Mapping
from typing import Any

from ribao.calls import LLMCall
from ribao.context import RunContext, Shared
from ribao.llm.structured import model_name

#: How often a run waiting for another run's answer looks again (seconds).
POLL_SECONDS = 0.25

#: Pays for the answers of some names: returns {name: JSON} and the calls made.
Pay = Callable[[list[str]], Awaitable[tuple[dict[str, str], list[LLMCall]]]]

# Shares or releases of requests their run stopped waiting for, kept referenced until they end.
_settling: set[asyncio.Future[None]] = set()


def work_key(ctx: RunContext, agent: str, *parts: Any) -> str:
    """Return the sha256 of `agent`'s model name and `parts` (rendered prompts, a paper's view): equal
    keys mean an equal request, so its answer can be reused."""
    text = json.dumps([agent, model_name(ctx.model(agent)), *parts], ensure_ascii=False, default=str)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


async def recall(ctx: RunContext, kind: str, keys: Mapping[str, str]) -> dict[str, str]:
    """Return the stored answers {name: JSON} of `keys` ({name: key}); {} when nothing is shared."""
    if ctx.shared is None:
        return {}
    return await asyncio.to_thread(ctx.shared.get_many, kind, keys)


async def once(
    ctx: RunContext, kind: str, keys: Mapping[str, str], pay: Pay
) -> tuple[dict[str, str], list[LLMCall]]:
    """Return the answers {name: JSON} of `keys` ({name: key}) and the calls this run made: answers
    shared already are reused, answers another live run is paying for are waited for, and the rest are
    claimed and paid here (`pay`), then shared. A failing `pay` releases its claims and raises."""
    shared = ctx.shared
    if shared is None:
        return await pay(list(keys))
    answers: dict[str, str] = {}
    calls: list[LLMCall] = []
    todo = dict(keys)
    while todo:
        found, mine = await asyncio.to_thread(shared.claim, kind, todo, ctx.run_id)
        answers.update(found)
        if mine:
            paid, made = await _pay_claimed(shared, kind, {n: todo[n] for n in mine}, ctx.run_id, pay)
            answers.update(paid)
            calls += made
        todo = {n: k for n, k in todo.items() if n not in answers}
        if todo and not mine:
            await asyncio.sleep(POLL_SECONDS)
    return answers, calls


async def _pay_claimed(
    shared: Shared, kind: str, keys: dict[str, str], owner: str, pay: Pay
) -> tuple[dict[str, str], list[LLMCall]]:
    """Pay for the claimed `keys`, renewing the claims meanwhile; share the answers or release the claims."""
    renewing = asyncio.create_task(_renew(shared, kind, keys, owner))
    asking = asyncio.ensure_future(pay(list(keys)))
    try:
        paid, made = await asyncio.shield(asking)
        await asyncio.to_thread(shared.put_many, kind, {keys[n]: v for n, v in paid.items()})
    except asyncio.CancelledError:
        # The run stops (a sibling task failed), but this request is on the wire and will be paid for:
        # let it finish and share its answer while the loop lives on (a worker, a day's other runs).
        asking.add_done_callback(lambda done: _settle(shared, kind, keys, owner, done))
        raise
    except BaseException:
        await _release(shared, kind, keys, owner)
        raise
    finally:
        renewing.cancel()
    return paid, made


def _settle(shared: Shared, kind: str, keys: dict[str, str], owner: str, done: asyncio.Future[Any]) -> None:
    """Share the answer of a request its run stopped waiting for, or release its claims."""
    if not done.cancelled() and done.exception() is None:
        paid, _ = done.result()
        settle = asyncio.to_thread(shared.put_many, kind, {keys[n]: v for n, v in paid.items()})
    else:
        settle = _release(shared, kind, keys, owner)
    task = asyncio.ensure_future(settle)
    _settling.add(task)
    task.add_done_callback(_settling.discard)


async def _release(shared: Shared, kind: str, keys: dict[str, str], owner: str) -> None:
    """Hand `owner`'s claims on `keys` back (shielded: a cancelled run still releases them)."""
    with contextlib.suppress(Exception):
        await asyncio.shield(asyncio.to_thread(shared.release, kind, keys, owner))


async def _renew(shared: Shared, kind: str, keys: dict[str, str], owner: str) -> None:
    """Renew `owner`'s claims on `keys` every third of a lease until cancelled."""
    while True:
        await asyncio.sleep(shared.lease_s / 3)
        await asyncio.to_thread(shared.renew, kind, keys, owner)

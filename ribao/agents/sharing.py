"""Reuse paper-level answers another run of the same scope paid for, paying each missing one once
(`RunContext.shared`): the first run to need an answer claims it, the others wait for it. The calls that
paid for an answer go into the run log with it, in one transaction (`Shared.put_many`), and come back
marked `logged`: a run killed right after storing an answer has them on record, and the run that reuses
the answer (its own resume included) records none."""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import json
from collections.abc import Awaitable, Callable, Mapping
from typing import Any

from langgraph.config import get_config

from ribao.background import keep
from ribao.calls import LLMCall, PaidCalls
from ribao.context import RunContext, Shared
from ribao.llm.structured import model_name

#: How often a run waiting for another run's answer looks again (seconds).
POLL_SECONDS = 0.25

#: Pays for the answers of some names: returns {name: JSON} and the calls made.
Pay = Callable[[list[str]], Awaitable[tuple[dict[str, str], list[LLMCall]]]]

#: Where calls are made: the graph node and task, as the run log names them.
Where = tuple[str, str | None]

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
    at = _where()
    answers: dict[str, str] = {}
    calls: list[LLMCall] = []
    todo = dict(keys)
    while todo:
        found, mine = await _claim(shared, kind, todo, ctx.run_id)
        answers.update(found)
        if mine:
            paid, made = await _pay_claimed(shared, kind, {n: todo[n] for n in mine}, (ctx.run_id, at), pay)
            answers.update(paid)
            calls += made
        todo = {n: k for n, k in todo.items() if n not in answers}
        if todo and not mine:
            await asyncio.sleep(POLL_SECONDS)
    return answers, calls


def _where() -> Where:
    """Return the node and task of the graph task running this code (("shared", None) outside one)."""
    try:
        meta = get_config().get("metadata", {})
    except RuntimeError:
        return "shared", None
    # The task's namespace is "node:task id" (nested: "parent:id|node:id"); the recorder keys by that id.
    task = str(meta.get("langgraph_checkpoint_ns", "")).rpartition(":")[2]
    return str(meta.get("langgraph_node") or "shared"), task or None


def _bill(owner: str, at: Where, made: list[LLMCall]) -> PaidCalls:
    """Return `made` as the calls run `owner` paid at `at`, to be logged with their answers."""
    return PaidCalls(run_id=owner, node=at[0], task_id=at[1], calls=made)


async def _claim(
    shared: Shared, kind: str, keys: dict[str, str], owner: str
) -> tuple[dict[str, str], list[str]]:
    """`shared.claim` in a thread; a run cancelled meanwhile releases what the claim took once it ends."""
    claiming = asyncio.ensure_future(asyncio.to_thread(shared.claim, kind, keys, owner))
    try:
        return await asyncio.shield(claiming)
    except asyncio.CancelledError:
        _keep(_release_after(claiming, shared, kind, keys, owner))
        raise


async def _release_after(
    claiming: asyncio.Future[Any], shared: Shared, kind: str, keys: dict[str, str], owner: str
) -> None:
    with contextlib.suppress(Exception):
        await claiming
    await _release(shared, kind, keys, owner)


def _keep(work: Awaitable[None]) -> None:
    """Run `work` in the background, referenced until it ends."""
    keep(work, "storing an answer a stopped run paid for (the scope's next run asks again)", (_settling,))


async def _pay_claimed(
    shared: Shared, kind: str, keys: dict[str, str], payer: tuple[str, Where], pay: Pay
) -> tuple[dict[str, str], list[LLMCall]]:
    """Pay for the claimed `keys`, renewing the claims meanwhile; share the answers with the calls that
    paid for them (run log rows of `payer`: its run id and where) or release the claims."""
    owner, at = payer
    renewing = asyncio.create_task(_renew(shared, kind, keys, owner))
    asking = asyncio.ensure_future(pay(list(keys)))
    try:
        paid, made = await asyncio.shield(asking)
        values = {keys[n]: v for n, v in paid.items()}
        await asyncio.to_thread(shared.put_many, kind, values, _bill(owner, at, made))
    except asyncio.CancelledError:
        # The run stops (a sibling task failed), but this request is on the wire and will be paid for:
        # let it finish and share its answer while the loop lives on (a worker, a day's other runs).
        asking.add_done_callback(lambda done: _settle(shared, kind, keys, payer, done))
        raise
    except BaseException:
        await _release(shared, kind, keys, owner)
        raise
    finally:
        renewing.cancel()
    return paid, [c.model_copy(update={"logged": True}) for c in made]


def _settle(
    shared: Shared, kind: str, keys: dict[str, str], payer: tuple[str, Where], done: asyncio.Future[Any]
) -> None:
    """Share the answer of a request its run stopped waiting for, with its calls, or release its claims."""
    owner, at = payer
    if not done.cancelled() and done.exception() is None:
        paid, made = done.result()
        values = {keys[n]: v for n, v in paid.items()}
        settle = asyncio.to_thread(shared.put_many, kind, values, _bill(owner, at, made))
    else:
        settle = _release(shared, kind, keys, owner)
    _keep(settle)


async def _release(shared: Shared, kind: str, keys: dict[str, str], owner: str) -> None:
    """Hand `owner`'s claims on `keys` back (shielded: a cancelled run still releases them)."""
    with contextlib.suppress(Exception):
        await asyncio.shield(asyncio.to_thread(shared.release, kind, keys, owner))


async def _renew(shared: Shared, kind: str, keys: dict[str, str], owner: str) -> None:
    """Renew `owner`'s claims on `keys` every third of a lease until cancelled."""
    while True:
        await asyncio.sleep(shared.lease_s / 3)
        await asyncio.to_thread(shared.renew, kind, keys, owner)

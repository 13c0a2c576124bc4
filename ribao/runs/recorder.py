"""Record a run from the graph's `tasks` stream: node tasks, their priced LLM calls, then how it ended."""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel

from ribao.calls import LLMCall
from ribao.errors import LLMOutputError, NoAnnouncement
from ribao.runs.db import RunLog
from ribao.runs.rows import RunStatus, jsonable
from ribao.runs.trace import DESCRIBE
from ribao.schemas import Paper

if TYPE_CHECKING:
    from ribao.llm.config import ModelConfig
    from ribao.settings import Settings


def status_for(error: BaseException | None) -> RunStatus:
    """Return the run status an outcome maps to: done, no_announcement, interrupted or failed."""
    if error is None:
        return "done"
    if isinstance(error, NoAnnouncement):
        return "no_announcement"
    if isinstance(error, KeyboardInterrupt | asyncio.CancelledError):
        return "interrupted"
    return "failed"


def error_text(error: BaseException) -> str:
    """Return ``Type: message`` (just ``Type`` when the message is empty, as for Ctrl-C)."""
    text = str(error).strip()
    return f"{type(error).__name__}: {text}" if text else type(error).__name__


def brief(value: Any, *, items: int | None = None, chars: int | None = None) -> Any:
    """Return `value` as JSON-able data, papers as ``{arxiv_id, title}`` and LLM calls as a count.

    With `items`, lists and mappings keep their first `items` entries and say how many more there
    were; with `chars`, strings are cut to `chars` characters (for node inputs, which repeat the state).
    """
    if isinstance(value, Paper):
        return {"arxiv_id": value.arxiv_id, "title": value.title_display}
    if isinstance(value, BaseModel):
        value = value.model_dump(mode="json")
    if isinstance(value, str):
        return value if chars is None or len(value) <= chars else value[:chars] + "…"
    if isinstance(value, Mapping):
        keys = list(value)
        shown = {
            str(k): (len(value[k]) if k == "llm_calls" else brief(value[k], items=items, chars=chars))
            for k in (keys if items is None else keys[: items * 5])
        }
        if len(shown) < len(keys):
            shown["…"] = f"{len(keys) - len(shown)} more"
        return shown
    if isinstance(value, list | tuple):
        out = [brief(v, items=items, chars=chars) for v in (value if items is None else value[:items])]
        return out + ([f"… {len(value) - len(out)} more"] if len(out) < len(value) else [])
    return jsonable(value)


class RunRecorder:
    """Feed one run's `tasks` stream events into a `RunLog`, each LLM call with the cost it was priced at.

    Keeps what the run record needs as the nodes report it (day, titles, latest picks, every
    critique, output paths), so `finish` works after a failure too, without the final state.
    """

    def __init__(self, log: RunLog, run_id: str) -> None:
        self.log = log
        self.run_id = run_id
        self.values: dict[str, Any] = {"critiques": []}
        self._started: dict[str, tuple[dt.datetime, Any]] = {}
        self._paid: set[str] = set()  # tasks whose calls `paid` recorded

    def start(
        self,
        settings: Settings,
        *,
        date: dt.date | None,
        models: Mapping[str, ModelConfig] | None = None,
        prompts: Mapping[str, Mapping[str, str]] | None = None,
        labels: Mapping[str, Any] | None = None,
    ) -> None:
        """Record the run as running with its (safe) settings and `labels`, requested day, categories
        and models."""
        self.log.start_run(
            self.run_id,
            settings=settings,
            date=date,
            categories=settings.categories,
            prompts=prompts,
            models=models,
            labels=labels,
        )

    def paid(self, data: Mapping[str, Any]) -> None:
        """Record the LLM calls of a finished task (its `tasks` event) now: they are paid whether or not
        its writes get committed (a task killed before that is run again, and its calls are paid again)."""
        if "result" not in data and "error" not in data:
            return
        task_id = str(data["id"])
        calls = [c for c in _calls(data) if not c.logged]  # logged: stored with a shared answer
        if calls:
            self.log.record_calls(self.run_id, str(data["name"]), calls, task_id=task_id)
        self._paid.add(task_id)

    def event(self, data: Mapping[str, Any]) -> None:
        """Handle one `tasks` event: remember a task's start; record its end, outputs and LLM calls
        (unless `paid` recorded them).

        A task that failed with `LLMOutputError` has its rejected attempts recorded as its calls.
        """
        task_id, node = str(data["id"]), str(data["name"])
        now = dt.datetime.now(dt.UTC)
        if "result" not in data and "error" not in data:
            self._started[task_id] = (now, brief(data.get("input"), items=3, chars=200))
            return
        started, inputs = self._started.pop(task_id, (None, None))
        error = data.get("error")
        result = _flatten(dict(data.get("result") or {}))
        calls = _calls(data)
        self._absorb(result, final=False)
        self.log.record_node(
            self.run_id,
            node=node,
            task_id=task_id,
            started_at=started,
            finished_at=now,
            inputs=inputs,
            outputs=brief({**result, "llm_calls": calls} if calls else result),
            error=error_text(error) if isinstance(error, BaseException) else (str(error) if error else None),
            summary=None if error else _describe(node, result),
        )
        if task_id not in self._paid:
            self.paid(data)
        self._paid.discard(task_id)

    def finish(
        self,
        *,
        error: BaseException | None = None,
        status: RunStatus | None = None,
        state: Mapping[str, Any] | None = None,
        prompts: Mapping[str, Mapping[str, str]] | None = None,
    ) -> None:
        """Record how the run ended; status from `error` (see `status_for`) unless given.

        `state` (the graph's final values, e.g. of a resumed run) replaces what the events reported;
        `prompts` is `PromptLibrary.used`. Tokens and cost are the sums over the calls on record.
        """
        if state is not None:
            self._absorb(state, final=True)
        v = self.values
        titles = {p.arxiv_id: p.title_display for p in v.get("candidates", [])}
        picks = [
            {"rank": p.rank, "tier": p.tier, "arxiv_id": p.arxiv_id, "title": titles.get(p.arxiv_id, ""),
             "reason": p.reason, "scores": p.scores.model_dump(), "triage_score": p.triage_score,
             "relevance": p.relevance}
            for p in sorted(v.get("picks", []), key=lambda p: p.rank)
        ]  # fmt: skip
        self.log.finish_run(
            self.run_id,
            status=status or status_for(error),
            date=v.get("date"),
            digest_path=v.get("digest_path"),
            json_path=v.get("json_path"),
            error=error_text(error) if error is not None else None,
            picks=picks,
            critiques=v["critiques"],
            prompts=prompts,
        )

    def _absorb(self, values: Mapping[str, Any], *, final: bool) -> None:
        for key in ("date", "candidates", "picks", "digest_path", "json_path"):
            if values.get(key) is not None:
                self.values[key] = values[key]
        if values.get("critiques"):
            # From a task the key holds the new round (an appending reducer); from the state, all rounds.
            self.values["critiques"] = [*([] if final else self.values["critiques"]), *values["critiques"]]


def _calls(data: Mapping[str, Any]) -> list[LLMCall]:
    """Return the LLM calls of a finished task's event: its result's, or a failed ask's attempts."""
    error = data.get("error")
    if isinstance(error, LLMOutputError):
        return [c for c in error.calls if isinstance(c, LLMCall)]
    result = _flatten(dict(data.get("result") or {}))
    return [c for c in result.get("llm_calls") or [] if isinstance(c, LLMCall)]


def _flatten(result: dict[str, Any]) -> dict[str, Any]:
    """Undo LangGraph's ``{"$writes": [...]}`` wrapping of several writes to one channel (keep lists)."""
    for key, value in result.items():
        if isinstance(value, dict) and isinstance(value.get("$writes"), list):
            writes = value["$writes"]
            result[key] = (
                [x for w in writes for x in w] if all(isinstance(w, list) for w in writes) else writes[-1]
            )
    return result


def _describe(node: str, result: dict[str, Any]) -> str | None:
    """Return the live trace's one-line description of a node's result, None when it has none."""
    if node not in DESCRIBE:
        return None
    try:
        return DESCRIBE[node](result) or None
    except (KeyError, ValueError, IndexError, AttributeError, TypeError):
        return None

"""The graph the LangGraph API serves (`langgraph.json` at the repository root names `graph`).

`langgraph dev` (and LangGraph Studio attached to it) runs this graph: its input is a day and,
optionally, a listing; its one node writes that day's digest exactly as `ribao run` does, with the
settings of the server's `RIBAO_HOME` and ribao's own checkpointed graph inside (the run id is a new
ULID, also that graph's thread id, so `ribao runs resume ID` continues a run the API started).
"""

from __future__ import annotations

import asyncio
import datetime as dt
from typing import Any, NotRequired, TypedDict

from langgraph.graph import END, START, StateGraph
from langgraph.graph.state import CompiledStateGraph
from ulid import ULID

# Imported now, as the server loads the graph: importing inside the node would read files on the loop.
from ribao.app.jobs import write_or_resume
from ribao.app.services import absolute_out
from ribao.errors import BadFlag
from ribao.settings import load_settings


class DayInput(TypedDict):
    """What a client sends: the announcement day, and a listing file or ``arxiv`` (default: settings)."""

    date: str
    source: NotRequired[str]


class DayOutput(TypedDict):
    """What the run wrote: its run id, the digest's paths, and the counts of `ribao run --json`."""

    run_id: str
    date: str
    digest_path: str
    json_path: str
    scanned: int
    picks: int


class DayState(DayInput, DayOutput, total=False):
    """Input and output of the API graph in one state."""


def input_day(state: DayInput) -> dt.date:
    """Return the input's day; raises `BadFlag` naming the input when it is missing or not YYYY-MM-DD
    (the API client sees the message, not a bare KeyError or "day is out of range")."""
    value = state.get("date")
    try:
        return dt.date.fromisoformat(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        raise BadFlag(f"input 'date' must be an announcement day YYYY-MM-DD, got {value!r}") from None


async def write_digest(state: DayInput) -> dict[str, Any]:
    """Write the digest of the state's day (the whole ribao graph, checkpointed in the store)."""
    flags = {"source": state["source"]} if state.get("source") else {}
    # load_settings reads config.toml: file I/O, so off the server's event loop.
    settings = await asyncio.to_thread(lambda: absolute_out(load_settings(**flags)))
    result = await write_or_resume(settings, input_day(state), str(ULID()))
    return {
        "run_id": result.run_id,
        "date": result.date.isoformat(),
        "digest_path": str(result.digest_path),
        "json_path": str(result.json_path),
        "scanned": result.scanned,
        "picks": result.picks,
    }


def make_graph() -> CompiledStateGraph[Any, Any, Any, Any]:
    """Build the compiled API graph: START → write_digest → END."""
    builder = StateGraph(DayState, input_schema=DayInput, output_schema=DayOutput)
    builder.add_node("write_digest", write_digest)
    builder.add_edge(START, "write_digest")
    builder.add_edge("write_digest", END)
    return builder.compile()


graph = make_graph()

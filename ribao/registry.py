"""The registry: the graph's nodes; per agent, its prompt files, the variables passed to each, its replay.

A leaf module (it imports nothing of ribao). Everything that lists nodes derives from `NODES`: the
builder checks it added exactly these (`ribao.graph.builder`), the live trace and the run log describe
each (`ribao.runs.trace`), the replay specs below may name only these. Everything that lists agents
derives from `REGISTRY`:
the settings' agent names and the one model per agent of the services (`ribao.app.services.model_configs`),
the prompt samples (`ribao.agents.prompt_samples`) and `ribao prompts check` (`ribao.prompts.check`),
`--agent` of `ribao replay` and `ribao runs trace`, the replay itself (`ribao.graph.replay`) and the
prompt library, which refuses to render a file with other variables or filters than the ones listed
here — so the code that renders a template cannot drift from this record (`tests/test_prompts_cli.py`
runs the graph and checks every render against it).
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import TypeAlias

#: An agent's name, one of `AGENTS`.
AgentName: TypeAlias = str

SUFFIX = ".md.j2"


#: The graph's nodes in the order the builder adds them (pipeline order), stated once.
NODES: tuple[str, ...] = (
    "fetch_listing",
    "recall_memory",
    "triage_batch",
    "flag_near_duplicates",
    "rank_papers",
    "write_reasons",
    "critique_picks",
    "fetch_fulltext",
    "write_summary",
    "write_lead",
    "fetch_stars",
    "write_digest",
    "remember_digest",
    "deliver",
)


@dataclass(frozen=True)
class PromptSpec:
    """One packaged prompt file, `<agent>/<name>.md.j2`, with the names its renderer passes.

    `variables` are the template variables the code passes (all of them, always);
    `filters` the Jinja filters it adds (only the digest page has any).
    """

    agent: str
    name: str
    variables: frozenset[str] = frozenset()
    filters: frozenset[str] = frozenset()

    @property
    def rel(self) -> str:
        """Path relative to a prompts folder, e.g. ``writer/must_read.md.j2``."""
        return f"{self.agent}/{self.name}{SUFFIX}"


@dataclass(frozen=True)
class ReplaySpec:
    """How `ribao replay` re-runs an agent on a recorded run.

    The replay starts from the recorded checkpoint at which one of the graph nodes `start` is next
    (the first time), runs the graph up to and including the step of node `stop`, and compares what
    that stretch wrote to the state key `output` in the recorded run and in the replay.
    """

    start: tuple[str, ...]
    stop: str
    output: str

    def __post_init__(self) -> None:
        unknown = sorted({*self.start, self.stop} - set(NODES))
        if unknown:  # a programming error in this module, caught at import
            raise TypeError(f"replay spec names {unknown}, not nodes of the graph (ribao.registry.NODES)")


@dataclass(frozen=True)
class AgentSpec:
    """One LLM agent: its name (also its `[agents.NAME]` settings table), prompt files and replay."""

    name: str
    prompts: tuple[PromptSpec, ...]
    replay: ReplaySpec


def _prompt(agent: str, name: str, variables: str = "", filters: str = "") -> PromptSpec:
    """Return the record of `agent/name.md.j2`; `variables` and `filters` are space-separated names."""
    return PromptSpec(agent, name, frozenset(variables.split()), frozenset(filters.split()))


#: The agents in pipeline order; each prompt file notes the module that renders it.
REGISTRY: dict[AgentName, AgentSpec] = {
    spec.name: spec
    for spec in (
        AgentSpec(
            "screener",
            (
                # agents/screener.py
                _prompt("screener", "rank", "round must_read notable candidates critique flags profile"),
                _prompt("screener", "reasons", "candidates profile"),
                _prompt("screener", "system"),
                _prompt("screener", "triage", "batch_index batch_count candidates"),  # agents/triage.py
                _prompt("screener", "triage_rules"),  # agents/triage.py: appended to the system prompt
            ),
            # The first round: every triage batch, then the ranking, then its reasons.
            ReplaySpec(start=("triage_batch", "rank_papers"), stop="write_reasons", output="picks"),
        ),
        AgentSpec(
            "critic",
            (_prompt("critic", "system"), _prompt("critic", "user", "round picks alternates flags profile")),
            ReplaySpec(start=("critique_picks",), stop="critique_picks", output="critiques"),  # round 1
        ),
        AgentSpec(
            "writer",
            (
                _prompt("writer", "must_read", "paper fulltext"),  # agents/writer.py
                _prompt("writer", "notable", "paper fulltext"),
                _prompt("writer", "system"),
            ),
            ReplaySpec(start=("write_summary",), stop="write_summary", output="summaries"),  # every pick
        ),
        AgentSpec(
            "editor",
            (
                _prompt(  # ribao/digest.py renders the page
                    "editor",
                    "digest",
                    "date weekday scanned picked total_tokens cost_text lead must_reads notables categories"
                    " run_id wanted profile",
                    filters="md_inline md_code",
                ),
                _prompt("editor", "system"),
                _prompt("editor", "user", "date items"),  # agents/editor.py
            ),
            ReplaySpec(start=("write_lead",), stop="write_lead", output="lead"),
        ),
    )
}

#: Agent names in pipeline order.
AGENTS: tuple[AgentName, ...] = tuple(REGISTRY)

#: The agent names as an enum, for a command-line choice (an unknown name exits 2).
Agent = StrEnum("Agent", [(a, a) for a in AGENTS])  # type: ignore[misc]

#: The agents as a help text says them: "screener, critic, writer or editor".
AGENTS_TEXT = f"{', '.join(AGENTS[:-1])} or {AGENTS[-1]}"

#: Every prompt file, by its relative path (``agent/name.md.j2``), agents in pipeline order.
PROMPTS: dict[str, PromptSpec] = {p.rel: p for a in REGISTRY.values() for p in a.prompts}


def check_render(rel: str, variables: set[str], filters: set[str]) -> None:
    """Raise `TypeError` unless `rel` is a registered prompt file rendered with exactly its variables
    and filters (a programming error in the renderer or the registry, like a wrong keyword argument)."""
    spec = PROMPTS.get(rel)
    if spec is None:
        raise TypeError(f"prompt file {rel} is not in the agent registry (ribao/registry.py)")
    checks = (("variables", variables, spec.variables), ("filters", filters, spec.filters))
    for kind, passed, listed in checks:
        if passed != listed:
            extra, missing = sorted(passed - listed), sorted(listed - passed)
            raise TypeError(
                f"{rel} rendered with {kind} the agent registry (ribao/registry.py) does not list"
                f" {extra or 'none'}, without listed {missing or 'none'}"
            )

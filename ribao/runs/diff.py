"""Compare two recorded runs: settings, prompt files, picks, per-agent usage and aligned LLM calls.

Pure functions over run-log rows (`RunRow`, `CallRow`); the prompt texts are passed in by sha256
(the run log keeps each file's hash and path, not its text; `ribao.app.rundiff` finds the texts).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, Literal

from ribao.ledger import add_costs
from ribao.runs.diff_calls import align_calls, text_diff
from ribao.runs.diff_models import (
    AgentDelta,
    PickChange,
    PromptChange,
    RunDiff,
    RunSide,
    SettingChange,
    Usage,
)
from ribao.runs.rows import CallRow, RunRow, usage_of


def side(run: RunRow) -> RunSide:
    """Return the summary of one run."""
    return RunSide(
        run_id=run.run_id,
        status=run.status,
        date=run.date.isoformat() if run.date else None,
        replay_of=run.settings.get("replay_of"),
        replay_agent=run.settings.get("replay_agent"),
        cost=run.cost,
        currency=run.currency,
    )


def flatten(data: Mapping[str, Any], prefix: str = "") -> dict[str, Any]:
    """Return nested mappings as one mapping of dotted keys (lists stay values)."""
    out: dict[str, Any] = {}
    for key, value in data.items():
        name = f"{prefix}{key}"
        if isinstance(value, Mapping) and value:
            out.update(flatten(value, name + "."))
        else:
            out[name] = value
    return out


def per_process(key: str, fa: Mapping[str, Any], fb: Mapping[str, Any]) -> bool:
    """True for a recorded setting that both runs' processes picked by themselves, not a choice: the
    base URL of an agent's model on the bundled llama.cpp server (`--llm local` starts it on a free
    port each run). A base URL of any other model is the user's and is compared."""
    parts = key.split(".")
    if len(parts) != 3 or parts[0] != "models" or parts[2] != "base_url":
        return False
    local = f"models.{parts[1]}.local"
    return fa.get(local) is True and fb.get(local) is True


def settings_changes(a: Mapping[str, Any], b: Mapping[str, Any]) -> list[SettingChange]:
    """Return the settings that differ between two recorded (masked) settings, by dotted key (the
    `per_process` ones left out)."""
    fa, fb = flatten(a), flatten(b)
    changes = []
    for key in sorted(fa.keys() | fb.keys()):
        if per_process(key, fa, fb):
            continue
        if key not in fa:
            changes.append(SettingChange(key=key, b=fb[key], missing="a"))
        elif key not in fb:
            changes.append(SettingChange(key=key, a=fa[key], missing="b"))
        elif fa[key] != fb[key]:
            changes.append(SettingChange(key=key, a=fa[key], b=fb[key]))
    return changes


def replayed_agent(a: RunRow, b: RunRow) -> str | None:
    """Return the agent a replay among `a`, `b` re-ran: the only one whose prompts and calls it has."""
    return a.settings.get("replay_agent") or b.settings.get("replay_agent")


UNFINISHED = ("running", "interrupted")  # the run log records a run's prompt files and picks as it ends


def unfinished_note(a: RunRow, b: RunRow, what: str) -> str | None:
    """Say which side has not ended (so recorded no `what` yet); None when both ended."""
    for name, run in (("A", a), ("B", b)):
        if run.status in UNFINISHED:
            return f"run {name} is {run.status}: its {what} are recorded when a run ends"
    return None


def prompt_changes(a: RunRow, b: RunRow, texts: Mapping[str, str]) -> list[PromptChange]:
    """Return the prompt files whose sha256 differs (only the replayed agent's, for a replay), each
    with a text diff when both texts are in `texts` (sha256 -> text)."""
    agent = replayed_agent(a, b)
    files = sorted(f for f in a.prompts.keys() | b.prompts.keys() if not agent or f.startswith(agent + "/"))
    changes = []
    for file in files:
        va, vb = a.prompts.get(file), b.prompts.get(file)
        if va and vb and va.get("sha256") == vb.get("sha256"):
            continue
        status: Literal["changed", "added", "removed"] = (
            "changed" if va and vb else ("added" if vb else "removed")
        )
        change = PromptChange(file=file, status=status, a=va, b=vb)
        if va is None or vb is None:
            change.note = f"used only by run {'B' if vb else 'A'}"
        else:
            lost = [f"{s}'s version ({v.get('sha256', '')[:12]})" for s, v in (("A", va), ("B", vb))
                    if v.get("sha256") not in texts]  # fmt: skip
            if lost:
                change.note = f"text of {' and '.join(lost)} is no longer available: the file changed since"
            else:
                change.diff = text_diff(texts[va["sha256"]], texts[vb["sha256"]], f"A/{file}", f"B/{file}")
        changes.append(change)
    return changes


def pick_changes(a: RunRow, b: RunRow) -> tuple[list[PickChange], str | None]:
    """Return picks added, removed and moved from A to B, or a note when a side records none."""
    if note := unfinished_note(a, b, "picks"):
        return [], note
    for name, run in (("A", a), ("B", b)):
        if not run.picks and (run.status == "replay" or run.settings.get("replay_of")):
            return [], f"run {name} is a replay: it records no picks (a replay writes no digest)"
    pa = {p["arxiv_id"]: p for p in a.picks}
    pb = {p["arxiv_id"]: p for p in b.picks}
    out = []
    for pid in [*pa, *(p for p in pb if p not in pa)]:
        x, y = pa.get(pid), pb.get(pid)
        if x and y and (x.get("rank"), x.get("tier")) == (y.get("rank"), y.get("tier")):
            continue
        change: Literal["added", "removed", "moved"] = "moved" if x and y else ("added" if y else "removed")
        out.append(
            PickChange(
                arxiv_id=pid,
                title=(y or x or {}).get("title", ""),
                change=change,
                a_rank=(x or {}).get("rank"),
                a_tier=(x or {}).get("tier"),
                b_rank=(y or {}).get("rank"),
                b_tier=(y or {}).get("tier"),
            )
        )
    return out, None


def usage(calls: Sequence[CallRow]) -> Usage:
    """Return the totals of `calls` (`usage_of`: cost None when any price is unknown) and their latency."""
    return Usage(**usage_of(calls).model_dump(), latency_s=round(sum(c.latency_s for c in calls), 3))


def delta(agent: str, a: Sequence[CallRow], b: Sequence[CallRow]) -> AgentDelta:
    """Return the usage of `a` and of `b` and B minus A (cost None when either is unknown)."""
    ua, ub = usage(a), usage(b)
    minus_a = None if ua.cost is None else -ua.cost
    cost, currency = add_costs([(ub.cost, ub.currency), (minus_a, ua.currency)])
    d = Usage(
        calls=ub.calls - ua.calls,
        input_tokens=ub.input_tokens - ua.input_tokens,
        output_tokens=ub.output_tokens - ua.output_tokens,
        cached_tokens=ub.cached_tokens - ua.cached_tokens,
        cost=None if cost is None else round(cost, 10),
        currency=currency,
        latency_s=round(ub.latency_s - ua.latency_s, 3),
    )
    return AgentDelta(agent=agent, a=ua, b=ub, delta=d)


def agent_deltas(a: Sequence[CallRow], b: Sequence[CallRow]) -> tuple[list[AgentDelta], AgentDelta]:
    """Return per-agent deltas (agents in order of first call, A's first) and the total."""
    agents = list(dict.fromkeys([c.agent for c in a] + [c.agent for c in b]))
    rows = [delta(g, [c for c in a if c.agent == g], [c for c in b if c.agent == g]) for g in agents]
    return rows, delta("total", a, b)


def diff_runs(
    a: RunRow, b: RunRow, calls_a: Sequence[CallRow], calls_b: Sequence[CallRow], texts: Mapping[str, str]
) -> RunDiff:
    """Return what differs from run A to run B; `texts` maps a prompt file's sha256 to its text.

    When one run is a replay, only the replayed agent's prompt files, calls and usage are compared:
    the replay ran no other agent.
    """
    agent, scope = replayed_agent(a, b), None
    if agent:
        replay, other = ("A", "B") if a.settings.get("replay_agent") else ("B", "A")
        scope = (
            f"run {replay} replays the {agent} of run {other}: only the {agent}'s prompts and calls compared"
        )
        calls_a = [c for c in calls_a if c.agent == agent]
        calls_b = [c for c in calls_b if c.agent == agent]
    picks, picks_note = pick_changes(a, b)
    prompts_note = unfinished_note(a, b, "prompt files")
    agents, total = agent_deltas(calls_a, calls_b)
    return RunDiff(
        a=side(a),
        b=side(b),
        settings=settings_changes(a.settings, b.settings),
        scope=scope,
        prompts=[] if prompts_note else prompt_changes(a, b, texts),
        prompts_note=prompts_note,
        picks=picks,
        picks_note=picks_note,
        agents=agents,
        total=total,
        calls=align_calls(calls_a, calls_b),
    )

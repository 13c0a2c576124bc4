"""Shared data for the run-log tests: three recorded runs written through `RunLog` (no tests here)."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

from ribao.calls import LLMCall
from ribao.runs import RunLog

DATA = Path(__file__).resolve().parents[1] / "data"
#: The first hand-kept migration of the SQLite run log (before Alembic), to build a log that old.
FIRST_MIGRATION = """
CREATE TABLE _migrations (name TEXT PRIMARY KEY, applied_at TEXT NOT NULL);
INSERT INTO _migrations VALUES ('m001_runs_and_calls', '2026-01-01T00:00:00+00:00');
CREATE TABLE runs (
    run_id TEXT PRIMARY KEY, status TEXT NOT NULL, started_at TEXT NOT NULL, finished_at TEXT, date TEXT,
    categories TEXT NOT NULL DEFAULT '[]', settings TEXT NOT NULL DEFAULT '{}',
    prompts TEXT NOT NULL DEFAULT '{}', input_tokens INTEGER NOT NULL DEFAULT 0,
    output_tokens INTEGER NOT NULL DEFAULT 0, cached_tokens INTEGER NOT NULL DEFAULT 0, cost REAL,
    currency TEXT, digest_path TEXT, json_path TEXT, error TEXT, picks TEXT NOT NULL DEFAULT '[]',
    critiques TEXT NOT NULL DEFAULT '[]'
);
CREATE TABLE llm_calls (
    id INTEGER PRIMARY KEY, run_id TEXT NOT NULL REFERENCES runs(run_id) ON DELETE CASCADE,
    seq INTEGER NOT NULL, node TEXT NOT NULL, task_id TEXT, agent TEXT NOT NULL, model TEXT NOT NULL,
    task TEXT NOT NULL, messages TEXT NOT NULL, raw TEXT NOT NULL, parsed TEXT,
    input_tokens INTEGER NOT NULL DEFAULT 0, output_tokens INTEGER NOT NULL DEFAULT 0,
    cached_tokens INTEGER NOT NULL DEFAULT 0, latency_s REAL NOT NULL DEFAULT 0, cost REAL, currency TEXT,
    error TEXT, created_at TEXT NOT NULL, UNIQUE (run_id, seq)
);
"""

RUN_A = "01K0AAAAAAAAAAAAAAAAAAAAAA"  # done, with every agent
RUN_B = "01K0ABBBBBBBBBBBBBBBBBBBBB"  # failed in the writer
RUN_C = "01K1CCCCCCCCCCCCCCCCCCCCCC"  # no announcement
DAY = dt.date(2026, 2, 18)
REPLACE_REASON = "缺少消融实验，结论不可靠"
KEEP_REASON = "方法新颖，实验充分"
ROUND2_REASON = "替换后的论文更有代表性"
PRICE_IN, PRICE_OUT = 2.0, 8.0  # CNY per 1M tokens


def call(agent: str, task: str, tin: int, tout: int, *, parsed: Any = None, error: str | None = None,
         messages: list[dict[str, str]] | None = None) -> LLMCall:  # fmt: skip
    """Return an `LLMCall` whose raw reply is `parsed` as JSON."""
    return LLMCall(
        agent=agent,
        model=f"model-{agent}",
        task=task,
        messages=messages
        or [
            {"role": "system", "content": f"你是{agent}"},
            {"role": "human", "content": f"{agent} prompt {task}"},
        ],
        raw=json.dumps(parsed, ensure_ascii=False) if parsed is not None else "no tool call",
        parsed=parsed,
        input_tokens=tin,
        output_tokens=tout,
        cached_tokens=tin // 10,
        latency_s=0.25,
        error=error,
    )


def price(c: LLMCall) -> float:
    """Return one call's cost in CNY at the test prices."""
    return (c.input_tokens * PRICE_IN + c.output_tokens * PRICE_OUT) / 1_000_000


CRITIC_R1 = {
    "P001": {"decision": "replace", "reason": REPLACE_REASON, "replacement": "P009"},
    "P002": {"decision": "keep", "reason": KEEP_REASON, "replacement": "none"},
}
CRITIC_R2 = {
    "P009": {"decision": "keep", "reason": ROUND2_REASON, "replacement": "none"},
    "P002": {"decision": "keep", "reason": KEEP_REASON, "replacement": "none"},
}
CRITIQUES = [
    {
        "round": 1,
        "verdict": "revise",
        "capped": False,
        "decisions": [
            {
                "arxiv_id": "2602.00001",
                "decision": "replace",
                "reason": REPLACE_REASON,
                "replacement": "2602.00009",
            },
            {"arxiv_id": "2602.00002", "decision": "keep", "reason": KEEP_REASON, "replacement": None},
        ],
    },
    {
        "round": 2,
        "verdict": "accept",
        "capped": False,
        "decisions": [
            {"arxiv_id": "2602.00009", "decision": "keep", "reason": ROUND2_REASON, "replacement": None},
            {"arxiv_id": "2602.00002", "decision": "keep", "reason": KEEP_REASON, "replacement": None},
        ],
    },
]
PICKS = [
    {"rank": 1, "tier": "must_read", "arxiv_id": "2602.00009", "title": "Sparse Experts at Scale",
     "reason": "规模化稀疏专家的系统性研究"},
    {"rank": 2, "tier": "notable", "arxiv_id": "2602.00002", "title": "Long-Context Retrieval",
     "reason": "长上下文检索的新基准"},
]  # fmt: skip
PROMPTS = {
    "critic/system.md.j2": {
        "source": "user",
        "path": "/home/u/prompts/critic/system.md.j2",
        "sha256": "ab" * 32,
    },
    "screener/system.md.j2": {"source": "default", "path": "/pkg/screener/system.md.j2", "sha256": "cd" * 32},
}
SETTINGS = {"llm": "deepseek", "must_read": 1, "notable": 1, "max_critic_rounds": 2, "source": "arxiv",
            "out_dir": "digests", "memory": {"enabled": True, "embedder": "hash", "url": None},
            "models": {"critic": {"model": "model-critic"}}}  # fmt: skip

# (node, task id, calls)
STEPS_A: list[tuple[str, str, list[LLMCall]]] = [
    ("fetch_listing", "t-fetch", []),
    ("recall_memory", "t-recall", []),
    (
        "screen_papers",
        "t-screen-1",
        [call("screener", "triage 1/1", 1000, 200), call("screener", "rank round 1", 800, 150)],
    ),
    ("critique_picks", "t-critic-1", [call("critic", "critique round 1", 700, 120, parsed=CRITIC_R1)]),
    ("screen_papers", "t-screen-2", [call("screener", "rank round 2", 820, 160)]),
    ("critique_picks", "t-critic-2", [call("critic", "critique round 2", 710, 90, parsed=CRITIC_R2)]),
    (
        "write_summary",
        "t-write-1",
        [
            call("writer", "2602.00009", 1500, 600, error="background: too short"),
            call("writer", "2602.00009 (retry 1)", 1600, 640, parsed={"title_zh": "稀疏专家"}),
        ],
    ),
    (
        "write_summary",
        "t-write-2",
        [call("writer", "2602.00002", 900, 80, parsed={"one_line": "长上下文检索"})],
    ),
    ("assemble_digest", "t-assemble", [call("editor", "lead", 500, 100, parsed={"lead": "今天的主题"})]),
    ("remember_digest", "t-remember", []),
]


def record_steps(log: RunLog, run_id: str, steps: list[tuple[str, str, list[LLMCall]]]) -> None:
    """Record each step as a node task of one second, then its calls priced at the test prices."""
    start = dt.datetime(2026, 2, 18, 8, 0, tzinfo=dt.UTC)
    for i, (node, task_id, calls) in enumerate(steps):
        outputs: dict[str, Any] = {"llm_calls": len(calls)}
        if node == "critique_picks":
            outputs["critiques"] = [CRITIQUES[0 if task_id.endswith("1") else 1]]
        log.record_node(run_id, node=node, task_id=task_id, started_at=start + dt.timedelta(seconds=i),
                        finished_at=start + dt.timedelta(seconds=i + 1), inputs={"candidates": {"count": 2}},
                        outputs=outputs, summary=f"{node} done")  # fmt: skip
        if calls:
            priced = [c.model_copy(update={"cost": price(c), "currency": "CNY"}) for c in calls]
            log.record_calls(run_id, node, priced, task_id=task_id)


def populate(home: Path, url: str | None = None) -> None:
    """Record runs A (done), B (failed) and C (no announcement) in `<home>/runs.sqlite` (or at `url`)."""
    with RunLog.open(home, url=url) as log:
        log.start_run(RUN_A, settings=SETTINGS, date=None, categories=["cs.CL", "cs.AI"])
        record_steps(log, RUN_A, STEPS_A)
        log.finish_run(RUN_A, status="done", date=DAY, digest_path=home / "out/2026-02-18.md",
                       json_path=home / "out/2026-02-18.json", picks=PICKS, critiques=CRITIQUES,
                       prompts=PROMPTS)  # fmt: skip
        log.start_run(RUN_B, settings=SETTINGS, date=DAY, categories=["cs.CL"])
        record_steps(log, RUN_B, STEPS_A[:3])
        log.finish_run(RUN_B, status="failed", error="LLMOutputError: writer (2602.00009): broke the schema")
        log.start_run(RUN_C, settings=SETTINGS, date=dt.date(2026, 2, 21), categories=["cs.CL"])
        log.finish_run(RUN_C, status="no_announcement", error="NoAnnouncement: 2026-02-21 is a Saturday")

"""The run page of every kind of run on record: done, failed, no announcement, interrupted, a replay."""

from __future__ import annotations

import base64
import datetime as dt
import gzip
import json
import re
from pathlib import Path

import pytest

from ribao.app.runview import run_record
from ribao.registry import NODES
from ribao.runs import RunLog
from ribao.runs.page import render_run_page
from ribao.runs.page_graph import GraphShape
from tests.support.runs import RUN_A, RUN_B, RUN_C, call, populate

SHAPE = GraphShape(nodes=NODES, edges=tuple((a, b, False) for a, b in zip(NODES, NODES[1:], strict=False)))
REPLAY, CUT = "01K2REPLAYREPLAYREPLAYREPL", "01K3INTERRUPTEDINTERRUPTED"


def page(home: Path, run_id: str) -> str:
    with RunLog.open(home) as log:
        return render_run_page(run_record(log, run_id), SHAPE, secrets=["sk-live-secret-0123456789"])


@pytest.fixture
def home(tmp_path: Path) -> Path:
    populate(tmp_path)
    with RunLog.open(tmp_path) as log:
        log.start_run(REPLAY, settings={}, labels={"replay_of": RUN_A, "replay_agent": "writer"})
        message = {"role": "human", "content": "key sk-live-secret-0123456789"}
        leaky = call("writer", "2602.00009", 900, 80, messages=[message])
        log.record_calls(REPLAY, "writer", [leaky])
        log.finish_run(REPLAY, status="replay")
        log.start_run(CUT, settings={}, date=dt.date(2026, 2, 18))
        now = dt.datetime.now(dt.UTC)
        log.record_node(CUT, node="fetch_listing", task_id="t1", started_at=now, finished_at=now,
                        outputs={"candidates": [{"arxiv_id": "2602.00001", "title": "A"}]})  # fmt: skip
        log.finish_run(CUT, status="interrupted", error="KeyboardInterrupt")
    return tmp_path


@pytest.mark.parametrize(
    ("run_id", "status", "shown"),
    [
        (RUN_A, "done", ["Round 2: accept", "critique_picks", "background: too short"]),
        (RUN_B, "failed", ["LLMOutputError: writer (2602.00009): broke the schema"]),
        (RUN_C, "no_announcement", ["NoAnnouncement: 2026-02-21 is a Saturday", "No picks on record."]),
        (CUT, "interrupted", ["KeyboardInterrupt", "Candidates (1)", "not ranked"]),
        (REPLAY, "replay", [f"replay of {RUN_A} (writer)", "LLM calls (1)"]),
    ],
)
def test_every_kind_of_run_has_a_page(home: Path, run_id: str, status: str, shown: list[str]) -> None:
    html = page(home, run_id)
    assert f'class="badge s-{status}">{status}<' in html
    assert html.count('<g class="box') == len(NODES)
    for text in shown:
        assert text in html, text


def test_the_replays_messages_are_packed_and_masked(home: Path) -> None:
    html = page(home, REPLAY)
    packed = json.loads(re.search(r'id="packed">(.*?)</script>', html, re.S).group(1))  # type: ignore[union-attr]
    data = json.loads(gzip.decompress(base64.b64decode(packed["1"])))
    assert data["messages"][0]["content"].startswith("key ") and "sk-live-secret" not in html
    assert "sk-live-secret" not in data["messages"][0]["content"]

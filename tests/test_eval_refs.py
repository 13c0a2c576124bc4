"""References: Hugging Face Daily Papers over HTTP (a loopback replay of captured days) and graded CSVs."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from ribao.errors import EvalError
from ribao.evals.metrics import upvote_gain
from ribao.evals.refs import (
    featured_days,
    fetch_refs,
    hf_reference,
    import_labels,
    labels_reference,
    load_featured,
    read_featured,
)
from tests.support.hf_daily import HFDaily

D18 = dt.date(2026, 2, 18)


def test_a_listing_day_is_featured_on_that_day_and_five_after() -> None:
    assert featured_days(D18) == [D18 + dt.timedelta(n) for n in range(6)]


def test_fetch_reads_each_featured_day_once_and_keeps_upvotes_and_when(
    tmp_path: Path, hf_daily: HFDaily
) -> None:
    before = dt.datetime.now(dt.UTC)
    days = fetch_refs(tmp_path, hf_daily.endpoint, dt.date(2026, 2, 17), D18, today=dt.date(2026, 2, 20))
    assert sorted(hf_daily.requests) == ["2026-02-17", "2026-02-18", "2026-02-19", "2026-02-20"]
    assert [d.date for d in days] == [dt.date(2026, 2, n) for n in (17, 18, 19, 20)]
    stored = load_featured(tmp_path, D18)
    assert stored is not None and len(stored.papers) == 25
    glm = next(p for p in stored.papers if p.arxiv_id == "2602.15763")
    assert glm.upvotes == 31 and glm.title.startswith("GLM-5") and glm.read_at >= before
    assert load_featured(tmp_path, dt.date(2026, 2, 19)).papers == []  # type: ignore[union-attr]
    ref, missing = hf_reference(tmp_path, D18)
    assert missing == [dt.date(2026, 2, 21), dt.date(2026, 2, 22), dt.date(2026, 2, 23)]
    assert ref.gains["2602.15763"] == upvote_gain(31)


def test_fetch_retries_a_503_and_names_the_endpoint_when_it_stays_down(hf_daily: HFDaily) -> None:
    hf_daily.fail_first = 1
    assert len(read_featured(hf_daily.endpoint, D18).papers) == 25
    hf_daily.fail_first = 5
    with pytest.raises(EvalError, match=f"{hf_daily.endpoint} failed for 2026-02-18: HTTP 503"):
        read_featured(hf_daily.endpoint, D18, attempts=2)


def test_a_day_without_fetched_references_says_how_to_fetch(tmp_path: Path) -> None:
    with pytest.raises(EvalError, match="ribao eval refs fetch --from 2026-02-18 --to 2026-02-18"):
        hf_reference(tmp_path, D18)


def test_imported_grades_merge_and_grade_zero_is_not_relevant(tmp_path: Path) -> None:
    first = tmp_path / "a.csv"
    first.write_text("arxiv_id,grade\n2602.15763v2,3\n2602.15772,0\n", encoding="utf-8")
    second = tmp_path / "b.csv"
    second.write_text("arXiv:2602.15772,2\n\n2602.15823,1\n", encoding="utf-8")
    assert import_labels(tmp_path, first) == {"2602.15763": 3, "2602.15772": 0}
    import_labels(tmp_path, second)
    assert labels_reference(tmp_path).gains == {"2602.15763": 3.0, "2602.15772": 2.0, "2602.15823": 1.0}


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("2602.15763,3\n2602.15772,5\n", r"b\.csv:2: grade '5' is not 0, 1, 2 or 3"),
        ("2602.15763,3\nnot-an-id,1\n", r"b\.csv:2: 'not-an-id' is not an arXiv id"),
        ("arxiv_id,grade\n2602.15763\n", r"b\.csv:2: expected `arxiv_id,grade`, got 1 fields"),
        ("2602.15763,high\n", r"b\.csv:1: grade 'high'"),
        ("\n", r"b\.csv holds no `arxiv_id,grade` line"),
    ],
)
def test_a_bad_line_is_named_and_nothing_is_imported(tmp_path: Path, text: str, message: str) -> None:
    path = tmp_path / "b.csv"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(EvalError, match=message):
        import_labels(tmp_path, path)
    with pytest.raises(EvalError, match="no graded papers"):
        labels_reference(tmp_path)

"""Pooling over days and repeats, the paired bootstrap interval, and the regression rule."""

from __future__ import annotations

import pytest

from ribao.evals.compare import compare, direction, is_regression, paired_interval, pool
from ribao.evals.metrics import Tally


def hits(picked: dict[str, bool]) -> Tally:
    return Tally({pid: (float(p), 0.0) for pid, p in picked.items()}, "count")


def survival(kept: dict[str, bool]) -> Tally:
    return Tally({pid: (float(k), 1.0) for pid, k in kept.items()})


REFS = [f"r{i}" for i in range(12)]


def test_repeats_are_averaged_per_unit_and_days_pooled() -> None:
    version = {
        "D1": [{"m": survival({"a": True, "b": False})}, {"m": survival({"a": False, "b": False})}],
        "D2": [{"m": survival({"c": True}), "h": hits({"c": True, "d": True})}],
    }
    pooled = pool(version)
    assert pooled["m"].parts == {"D1/a": (0.5, 1.0), "D1/b": (0.0, 1.0), "D2/c": (1.0, 1.0)}
    assert pooled["m"].value() == pytest.approx(1.5 / 3)
    assert pooled["h"].days == 1 and pooled["h"].value() == 2.0


def test_the_same_version_twice_flags_nothing() -> None:
    day = {
        "hits@13": hits({r: i < 4 for i, r in enumerate(REFS)}),
        "ndcg": survival({r: i < 5 for i, r in enumerate(REFS)}),
    }
    result = compare({"D1": [day]}, {"D1": [day]})
    assert {r.metric: (r.delta, r.interval) for r in result.rows} == {
        "hits@13": (0.0, (0.0, 0.0)),
        "ndcg": (0.0, (0.0, 0.0)),
    }
    assert result.regressions == []


def test_a_worse_version_is_flagged_and_a_better_one_is_not() -> None:
    good = {"hits@13": hits({r: i < 8 for i, r in enumerate(REFS)})}
    bad = {"hits@13": hits({r: False for r in REFS})}
    worse = compare({"D1": [good]}, {"D1": [bad]})
    (row,) = worse.rows
    assert (row.base, row.new, row.delta) == (8.0, 0.0, -8.0)
    assert row.interval is not None and row.interval[1] < 0
    assert row.regression and worse.regressions == [row]
    assert compare({"D1": [bad]}, {"D1": [good]}).regressions == []


def test_one_unit_gives_no_interval_and_no_flag() -> None:
    cost = {"cost": Tally({"run": (1.0, 0.0)}, "count")}
    dearer = {"cost": Tally({"run": (3.0, 0.0)}, "count")}
    (row,) = compare({"D1": [cost]}, {"D1": [dearer]}).rows
    assert row.delta == 2.0 and row.interval is None and not row.regression


def test_cost_that_rises_every_day_is_a_regression() -> None:
    days = [f"D{i}" for i in range(6)]
    base = {d: [{"cost": Tally({"run": (1.0 + i / 10, 0.0)}, "count")}] for i, d in enumerate(days)}
    new = {d: [{"cost": Tally({"run": (2.0 + i / 10, 0.0)}, "count")}] for i, d in enumerate(days)}
    (row,) = compare(base, new).rows
    assert row.delta == pytest.approx(1.0) and row.interval == pytest.approx((1.0, 1.0))
    assert row.regression


def test_only_the_days_both_versions_have_are_compared() -> None:
    base = {"D1": [{"m": survival({"a": True})}], "D2": [{"m": survival({"b": True})}]}
    new = {"D2": [{"m": survival({"b": False})}], "D3": [{"m": survival({"c": True})}]}
    result = compare(base, new)
    assert result.days == ["D2"] and result.rows[0].base == 1.0 and result.rows[0].new == 0.0


def test_repeats_give_pick_overlap_and_spread_rows() -> None:
    runs = [{"ndcg": survival({"a": True, "b": True})}, {"ndcg": survival({"a": True, "b": False})}]
    picks = {"D1": [{"a", "b"}, {"a", "c"}]}
    rows = {r.metric: r for r in compare({"D1": runs}, {"D1": runs}, base_picks=picks, new_picks=picks).rows}
    assert rows["pick_jaccard"].base == pytest.approx(1 / 3)
    assert rows["spread.ndcg"].new == pytest.approx(0.5)
    assert not rows["spread.ndcg"].regression


def test_directions_and_the_rule() -> None:
    assert direction("hits@13") == "higher" and direction("screener.cost") == "lower"
    assert direction("length.background") is None and direction("spread.ndcg") is None
    assert is_regression("higher", (-0.3, -0.1)) and not is_regression("higher", (-0.3, 0.0))
    assert is_regression("lower", (0.1, 0.4)) and not is_regression(None, (0.1, 0.4))


def test_the_interval_is_seeded() -> None:
    a = pool({"D1": [{"m": survival({r: i % 2 == 0 for i, r in enumerate(REFS)})}]})["m"]
    b = pool({"D1": [{"m": survival({r: i % 3 == 0 for i, r in enumerate(REFS)})}]})["m"]
    assert paired_interval(a, b) == paired_interval(a, b)

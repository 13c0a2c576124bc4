"""Experiments on record: saved one file each, found by id, prefix or name, and a baseline that stays."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from ribao.errors import EvalNotFound
from ribao.evals.experiments import (
    Experiment,
    list_experiments,
    load,
    pin_baseline,
    pinned_baseline,
    save,
    settings_digest,
)


def test_an_experiment_round_trips_and_is_found_by_id_prefix_and_name(tmp_path: Path) -> None:
    exp = Experiment(
        name="terse-screener",
        agents=["screener"],
        model="deepseek-chat",
        prompts={"screener/system.md.j2": {"source": "user", "path": "/p/s.md.j2", "sha256": "ab" * 32}},
        settings_digest=settings_digest({"b": 1, "a": [1, 2]}),
        runs={"RUN1": ["REP1", "REP2"], "RUN2": []},
    )
    path = save(tmp_path, exp)
    assert path == tmp_path / "evals" / "experiments" / f"{exp.id}.json"
    assert load(tmp_path, exp.id) == exp
    assert load(tmp_path, exp.id[:12].lower()) == exp
    assert load(tmp_path, "terse-screener") == exp
    assert load(tmp_path, "latest") == exp
    assert exp.scored_runs() == {"RUN1": ["REP1", "REP2"], "RUN2": ["RUN2"]}


def test_the_settings_digest_ignores_key_order() -> None:
    assert settings_digest({"a": 1, "b": {"c": 2, "d": 3}}) == settings_digest(
        {"b": {"d": 3, "c": 2}, "a": 1}
    )
    assert settings_digest({"a": 1}) != settings_digest({"a": 2})


def test_a_repeated_name_means_the_newest_and_an_unknown_ref_is_named(tmp_path: Path) -> None:
    old, new = Experiment(name="same"), Experiment(name="same")
    save(tmp_path, new)
    save(tmp_path, old)
    assert load(tmp_path, "same").id == max(old.id, new.id)
    with pytest.raises(EvalNotFound, match="no experiment 'nope'"):
        load(tmp_path, "nope")
    assert EvalNotFound.exit_code == 2


def test_experiments_saved_at_once_are_all_kept(tmp_path: Path) -> None:
    exps = [Experiment(name=f"e{i}", runs={f"R{i}": [f"X{i}"]}) for i in range(40)]
    with ThreadPoolExecutor(8) as pool:
        list(pool.map(lambda e: save(tmp_path, e), exps))
    assert sorted(e.id for e in list_experiments(tmp_path)) == sorted(e.id for e in exps)
    assert not [p for p in (tmp_path / "evals" / "experiments").iterdir() if p.suffix != ".json"]


def test_the_baseline_stays_pinned_until_pinned_again(tmp_path: Path) -> None:
    with pytest.raises(EvalNotFound, match="no baseline pinned"):
        pinned_baseline(tmp_path)
    first = Experiment(name="first")
    save(tmp_path, first)
    pin_baseline(tmp_path, "first")
    later = Experiment(name="later")
    save(tmp_path, later)
    assert load(tmp_path, "baseline") == first
    assert load(tmp_path, "latest") == later
    pin_baseline(tmp_path, later.id)
    assert pinned_baseline(tmp_path) == later

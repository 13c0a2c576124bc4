"""`ribao eval`: fetch references, score a recorded run, compare versions, pin a baseline (no model call)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from ribao.app.evals import run_outputs
from ribao.cli import app
from ribao.runs.db import RunLog
from ribao.settings_models import StoreSettings
from tests.support.eval_runs import experiment, fake_replay, featured, recorded_home, store_references
from tests.support.graph import models, run, sample_settings
from tests.support.hf_daily import HFDaily
from tests.support.loopback import free_port

runner = CliRunner()


def invoke(*args: str) -> tuple[int, str]:
    result = runner.invoke(app, list(args))
    return result.exit_code, result.output


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[Path, str]:
    home, run_id = recorded_home(tmp_path)
    monkeypatch.setenv("RIBAO_HOME", str(home))
    return home, run_id


def test_refs_fetch_reads_the_featured_days_of_a_listing_day(
    home: tuple[Path, str], hf_daily: HFDaily, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("RIBAO_EVAL__HF_ENDPOINT", hf_daily.endpoint)
    code, out = invoke("eval", "refs", "fetch", "--from", "2026-02-18", "--to", "2026-02-18", "--json")
    assert code == 0, out
    days = json.loads(out)
    assert [d["date"] for d in days] == [f"2026-02-{n}" for n in range(18, 24)]
    assert [d["papers"] for d in days] == [25, 0, 0, 0, 0, 0]
    code, out = invoke("eval", "refs", "fetch", "--from", "2026-02-18", "--to", "18 Feb")
    assert code == 2 and "--to" in out


def test_score_gives_one_object_per_run_keyed_by_metric(home: tuple[Path, str]) -> None:
    path, run_id = home
    store_references(path)
    code, out = invoke("eval", "score", run_id[:12], "--json")
    assert code == 0, out
    (score,) = json.loads(out)
    with RunLog.open(path) as log:
        outputs = run_outputs(path, log.get_run(run_id))
    picks = {p.arxiv_id for p in outputs.picks}
    ref = set(featured()) & set(outputs.candidates)
    assert len(picks) == 13 and len(ref) == 12
    assert score["run_id"] == run_id and score["date"] == "2026-02-18"
    assert score["reference"] | {"missing_days": []} == {
        "kind": "hf", "profile": None, "source": "hf 2026-02-18..2026-02-23", "papers": 12, "ignored": 13,
        "missing_days": [],
    }  # fmt: skip
    assert score["hits@13"] == len(picks & ref)
    assert 0 < score["ndcg"] < 1 and score["fields_complete"] == 1.0
    assert score["calls"] == 26 and score["screener.calls"] == 11
    code, out = invoke("eval", "score", run_id)
    assert code == 0 and "hits@13" in out and "12 paper(s) among the candidates, 13 ignored" in out


def test_score_without_references_says_how_to_fetch_them(home: tuple[Path, str]) -> None:
    code, out = invoke("eval", "score", "latest")
    assert code == 1 and "ribao eval refs fetch --from 2026-02-18 --to 2026-02-18" in out


def versions(path: Path, run_id: str) -> dict[str, str]:
    """Three screener replays: two picking 8 featured papers, one picking none; an experiment each."""
    with RunLog.open(path) as log:
        outputs = run_outputs(path, log.get_run(run_id))
    ref = [pid for pid in outputs.candidates if pid in featured()]
    rest = [pid for pid in outputs.candidates if pid not in featured()]
    good = ref[:8] + rest[:5]
    fake_replay(path, run_id, "01M0000000000000000000GOOD", good)
    fake_replay(path, run_id, "01M000000000000000000GOOD2", good)
    fake_replay(path, run_id, "01M00000000000000000000BAD", rest[:13])
    return {
        "good": experiment(path, "good", {run_id: ["01M0000000000000000000GOOD"]}).id,
        "same": experiment(path, "same", {run_id: ["01M000000000000000000GOOD2"]}).id,
        "worse": experiment(path, "worse", {run_id: ["01M00000000000000000000BAD"]}).id,
    }


def test_compare_flags_a_worse_version_and_not_the_same_one(home: tuple[Path, str], tmp_path: Path) -> None:
    path, run_id = home
    store_references(path)
    names = versions(path, run_id)
    code, out = invoke("eval", "compare", "good", "worse", "--json", "--fail-on-regression")
    assert code == 6, out
    table = json.loads(out)
    assert {"hits@13", "ndcg"} <= set(table["regressions"]) and table["days"] == [run_id]
    hits = next(r for r in table["rows"] if r["metric"] == "hits@13")
    assert (hits["base"], hits["new"], hits["delta"]) == (8, 0, -8) and hits["interval"][1] < 0
    code, out = invoke("eval", "compare", names["good"], "same", "--fail-on-regression")
    assert code == 0, out
    assert "no regression" in out and "REGRESSION" not in out
    code, out = invoke("eval", "compare", "good", "worse", "--regressions-only")
    assert code == 0 and "REGRESSION" in out and "length.background" not in out
    report = tmp_path / "r" / "report.html"
    code, out = invoke("eval", "compare", "good", "worse", "--html", str(report))
    assert code == 0 and "hits@13" in report.read_text(encoding="utf-8")


def test_the_pinned_baseline_stays_and_runs_can_be_pinned(home: tuple[Path, str]) -> None:
    path, run_id = home
    store_references(path)
    versions(path, run_id)
    code, out = invoke("eval", "baseline", "show")
    assert code == 2 and "no baseline pinned" in out
    assert invoke("eval", "baseline", "pin", "good")[0] == 0
    experiment(path, "later", {run_id: []})
    code, out = invoke("eval", "baseline", "show", "--json")
    assert code == 0 and json.loads(out)["name"] == "good"
    code, out = invoke("eval", "compare", "baseline", "worse", "--json")
    assert code == 0 and "hits@13" in json.loads(out)["regressions"]
    code, out = invoke("eval", "baseline", "pin", run_id)  # the run as it ran
    assert code == 0 and out.startswith("baseline: runs ")
    code, out = invoke("eval", "compare", "baseline", "01M00000000000000000000BAD", "--json")
    assert code == 0 and json.loads(out)["days"] == [run_id]
    code, out = invoke("eval", "list", "--json")
    assert [e["baseline"] for e in json.loads(out)][-1] is True


def test_bad_names_and_files_are_one_line_errors(home: tuple[Path, str], tmp_path: Path) -> None:
    code, out = invoke("eval", "compare", "nope", "latest")
    assert (
        code == 2
        and out.strip()
        == "ribao: error: no experiment or run 'nope' (see `ribao eval list`, `ribao runs list`)"
    )
    bad = tmp_path / "grades.csv"
    bad.write_text("arxiv_id,grade\n2602.15763,3\n2602.15772,7\n", encoding="utf-8")
    code, out = invoke("eval", "refs", "import", str(bad))
    assert code == 1 and out.strip() == f"ribao: error: {bad}:3: grade '7' is not 0, 1, 2 or 3"
    code, out = invoke("eval", "score", "latest", "--refs", "stars")
    assert code == 2


def test_a_readers_feedback_is_a_reference_for_a_profile(home: tuple[Path, str]) -> None:
    path, run_id = home
    store_references(path)
    (path / "config.toml").write_text('[profiles.reader]\ninterests = "RL and agents"\n', encoding="utf-8")
    with RunLog.open(path) as log:
        picks = [p.arxiv_id for p in run_outputs(path, log.get_run(run_id)).picks]
    assert invoke("feedback", "like", *picks[:3], "--profile", "reader")[0] == 0
    assert invoke("feedback", "dislike", picks[3], "--profile", "reader")[0] == 0
    code, out = invoke("eval", "score", run_id, "--profile", "reader", "--json")
    assert code == 0, out
    assert json.loads(out)[0]["liked_share"] == 3 / 4
    code, out = invoke("eval", "score", run_id, "--refs", "feedback", "--profile", "reader", "--json")
    (score,) = json.loads(out)
    assert score["hits@13"] == 3 and score["reference"]["papers"] == 3
    code, out = invoke("eval", "score", run_id, "--profile", "nosuch")
    assert code == 2 and "unknown profile 'nosuch'" in out


def test_score_reads_a_run_recorded_on_the_store_database(
    postgres_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings = sample_settings(tmp_path, store=StoreSettings(url=postgres_url))
    run_id = run(settings, None, models()).run_id
    assert (
        not (settings.home / "runs.sqlite").exists() and not (settings.home / "checkpoints.sqlite").exists()
    )
    store_references(settings.home)
    monkeypatch.setenv("RIBAO_HOME", str(settings.home))
    monkeypatch.setenv("RIBAO_STORE__URL", postgres_url)
    code, out = invoke("eval", "score", run_id, "--json")
    assert code == 0, out
    (score,) = json.loads(out)
    assert score["run_id"] == run_id and score["date"] == "2026-02-18"
    assert score["reference"]["papers"] == 12 and "hits@13" in score and score["calls"] == 26
    code, out = invoke("eval", "baseline", "pin", run_id, "--json")
    assert code == 0 and run_id in out, out


def test_eval_list_in_a_home_without_experiments_says_how_to_record_one(ribao_home: Path) -> None:
    code, out = invoke("eval", "list")
    assert code == 0
    assert out.strip() == "no experiments yet: `ribao eval run` or `ribao eval baseline pin RUN…` records one"
    assert invoke("eval", "list", "--json") == (0, "[]\n")


def test_offline_the_saved_days_are_read_with_archive_and_score_as_the_api_does(
    home: tuple[Path, str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path, run_id = home
    monkeypatch.setenv("RIBAO_EVAL__HF_ENDPOINT", f"http://127.0.0.1:{free_port()}/api/daily_papers")
    day = ("--from", "2026-02-18", "--to", "2026-02-18")
    code, out = invoke("eval", "refs", "fetch", *day)
    assert code == 1 and "offline, read saved days with --archive DIR" in out
    code, out = invoke("eval", "score", run_id)
    assert code == 1 and "(offline: add --archive DIR, a folder of saved days)" in out

    saved = Path(__file__).parent / "data" / "hf-daily"  # the bundled February days, as archived
    code, out = invoke("eval", "refs", "fetch", *day, "--archive", str(saved), "--json")
    assert code == 0, out
    assert [(d["date"], d["papers"]) for d in json.loads(out)] == [("2026-02-18", 25)]  # 19th-23rd not saved
    code, out = invoke("eval", "score", run_id, "--json")
    assert code == 0, out
    (score,) = json.loads(out)
    assert score["reference"]["papers"] == 12 and score["reference"]["source"] == "hf 2026-02-18..2026-02-23"
    assert score["reference"]["missing_days"] == [f"2026-02-{n}" for n in range(19, 24)]

    code, out = invoke("eval", "refs", "fetch", *day, "--archive", str(tmp_path / "nosuch"))
    assert code == 2 and "--archive" in out and "no such folder" in out
    (tmp_path / "empty").mkdir()
    code, out = invoke("eval", "refs", "fetch", *day, "--archive", str(tmp_path / "empty"))
    assert code == 1 and out.strip().endswith("has no featured day 2026-02-18.json … 2026-02-23.json")
    (tmp_path / "bad").mkdir()
    (tmp_path / "bad" / "2026-02-18.json").write_text('{"date": "2026-02-18"}', encoding="utf-8")
    code, out = invoke("eval", "refs", "fetch", *day, "--archive", str(tmp_path / "bad"))
    assert code == 1 and "2026-02-18.json: not a Daily Papers day" in out

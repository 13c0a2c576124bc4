"""`ribao eval run`: experiments replay the chosen agents and what follows them on recorded runs.

The agents are a scripted screener that follows what its prompt asks for
(tests/support/prompt_judge.py) and the default scripted critic, writer and editor; the day is
the bundled 2026-02-18 (180 papers) with its captured Hugging Face references.
"""

from __future__ import annotations

import datetime as dt
import sqlite3
from dataclasses import replace
from pathlib import Path

import pytest

from ribao.app.evals import compare_versions, run_outputs, score_runs
from ribao.app.experiment import compose_settings, parse_days, run_experiment
from ribao.app.services import Services
from ribao.errors import EvalError, ReplayError
from ribao.evals import experiments
from ribao.evals.judge import load_judgements, shown_swapped
from ribao.evals.outputs import load_outputs
from ribao.fulltext.reader import FulltextReader
from ribao.runs.db import RunLog
from ribao.settings_models import FulltextOptions
from tests.support.eval_runs import store_references
from tests.support.fakes import ScriptedChatModel, valid_args
from tests.support.graph import models, run, sample_settings
from tests.support.papers import paper
from tests.support.prompt_judge import WORSE_SYSTEM, responder
from tests.support.stub_openai import closed_port_url


def _agents() -> dict:
    return models(screener=responder)


@pytest.fixture(scope="module")
def recorded(tmp_path_factory: pytest.TempPathFactory) -> tuple[Services, str]:
    """A home with one run of the sample day by the prompt-following screener, and its references."""
    tmp = tmp_path_factory.mktemp("evalrun")
    settings = sample_settings(tmp, fulltext=FulltextOptions(enabled=False))
    result = run(settings, None, _agents())
    store_references(settings.home)
    worse = tmp / "worse"
    (worse / "screener").mkdir(parents=True)
    (worse / "screener" / "system.md.j2").write_text(WORSE_SYSTEM, encoding="utf-8")
    return Services(settings, _agents()), result.run_id


def test_a_worse_screener_prompt_is_flagged_and_the_same_prompt_twice_is_not(
    recorded: tuple[Services, str],
) -> None:
    services, base = recorded
    home = services.settings.home
    worse_dir = str(home.parent / "worse")
    for name, prompts_dir in (("same-1", None), ("same-2", None), ("worse", worse_dir)):
        report = run_experiment(
            services, agents=["screener"], runs=[base], prompts_dir=prompts_dir, name=name
        )
        assert list(report.experiment.runs) == [base] and not report.skipped and not report.failed
    same = compare_versions(home, "same-1", "same-2")
    assert same.table.regressions == []
    worse = compare_versions(home, "same-1", "worse")
    flagged = {r.metric for r in worse.table.regressions}
    assert "ndcg" in flagged, [(r.metric, r.base, r.new, r.interval) for r in worse.table.rows[:6]]
    rows = {r.metric: r for r in worse.table.rows}
    assert rows["ndcg"].new < rows["ndcg"].base
    # The experiment names the prompt files it used, with their hashes: the worse system prompt is the user's.
    exp = experiments.load(home, "worse")
    assert exp.prompts["screener/system.md.j2"]["source"] == "user"
    assert exp.prompts["writer/system.md.j2"]["source"] == "default"


def test_a_replay_is_a_run_on_record_whose_outputs_and_calls_are_its_own(
    recorded: tuple[Services, str],
) -> None:
    services, base = recorded
    home = services.settings.home
    report = run_experiment(services, agents=["writer"], runs=[base], repeat=2, name="writer-twice")
    (replays,) = report.experiment.runs.values()
    assert len(replays) == 2
    with RunLog.open(home) as log:
        row = log.get_run(replays[0])
        usage = log.usage_by_agent(replays[0])
        base_row = log.get_run(base)
    assert row.status == "replay" and row.settings["replay_of"] == base
    assert row.settings["experiment"] == report.experiment.id
    # The writer and what follows it (the editor's lead) ran again; the screener's calls were not repaid.
    assert set(usage) == {"writer", "editor"}
    outputs = load_outputs(home, replays[0])
    assert outputs is not None and [p.arxiv_id for p in outputs.picks] == [
        p["arxiv_id"] for p in base_row.picks
    ]
    assert set(outputs.summaries) == {p["arxiv_id"] for p in base_row.picks}
    # Stability over repeats is in the comparison (the scripted writer is deterministic: full overlap).
    table = {r.metric: r for r in compare_versions(home, "writer-twice", "writer-twice").table.rows}
    assert table["pick_jaccard"].new == 1.0
    scores = score_runs(home, replays)
    assert all(s.base_run == base for s in scores)


def test_a_run_whose_checkpoints_were_deleted_is_named_and_the_others_go_on(tmp_path: Path) -> None:
    settings = sample_settings(tmp_path, fulltext=FulltextOptions(enabled=False))
    kept = run(settings, None, _agents()).run_id
    gone = run(settings, None, _agents()).run_id
    with sqlite3.connect(settings.home / "checkpoints.sqlite") as db:
        for table in ("checkpoints", "writes"):
            db.execute(f"DELETE FROM {table} WHERE thread_id = ?", (gone,))
    services = Services(settings, _agents())
    report = run_experiment(services, agents=["critic"], runs=[kept, gone])
    assert list(report.experiment.runs) == [kept]
    assert gone in report.skipped and "no checkpoints" in report.skipped[gone]
    with pytest.raises(EvalError, match=f"no run could be replayed.*{gone}"):
        run_experiment(services, agents=["critic"], runs=[gone])


def test_days_pick_the_newest_finished_run_of_each_day_and_name_days_without_one(
    recorded: tuple[Services, str],
) -> None:
    services, base = recorded
    report = run_experiment(services, agents=["editor"], days=parse_days("2026-02-17..2026-02-18"))
    assert list(report.experiment.runs) == [base]
    assert report.missing_days == ["2026-02-17"]


def test_bad_experiment_input_is_refused_before_any_replay(recorded: tuple[Services, str]) -> None:
    services, base = recorded
    with pytest.raises(ReplayError, match="unknown agent 'judge'"):
        run_experiment(services, agents=["judge"], runs=[base])
    with pytest.raises(ValueError, match="expected YYYY-MM-DD"):
        parse_days("yesterday")
    with pytest.raises(ValueError, match="before the first"):
        parse_days("2026-02-20..2026-02-17")


def test_the_judge_scores_faithfulness_randomises_the_pair_order_and_never_counts_a_failure(
    recorded: tuple[Services, str],
) -> None:
    services, base = recorded
    home = services.settings.home
    with RunLog.open(home) as log:
        first = log.get_run(base).picks[0]
        source = run_outputs(home, log.get_run(base)).sources[first["arxiv_id"]][:60]

    def other_writer(tool: str, schema: dict, messages: list) -> dict:
        return valid_args(schema, text="换一种写法的中文摘要")

    def judge(tool: str, schema: dict, messages: list) -> dict:
        prompt = "\n".join(str(m.content) for m in messages)  # re-asks come after the question
        if tool == "Faithfulness":
            # One paper's judgement keeps breaking the schema: reported, not scored.
            return {"score": 9, "reason": "x"} if source in prompt else {"score": 4, "reason": "ok"}
        return {"better": "A", "reason": "A comes first"}  # a judge that favours whatever comes first

    judge_model = ScriptedChatModel(responder=judge, model_name="judge")
    writer = replace(services, models={**services.models, "writer": models(writer=other_writer)["writer"]})
    report = run_experiment(writer, agents=["writer"], runs=[base], judge=judge_model, name="judged")
    (replay,) = report.experiment.runs[base]
    judged = load_judgements(home, replay)
    assert judged is not None
    assert judged.errors.keys() == {f"faithfulness {first['arxiv_id']}"}
    assert report.judge_errors[replay] == judged.errors
    assert first["arxiv_id"] not in judged.faithfulness and set(judged.faithfulness.values()) == {4}
    # Shown in a seeded random order, a first-position bias favours each side about half the time.
    assert set(judged.preference.values()) == {0.0, 1.0}
    swapped = [shown_swapped(report.experiment.id, replay, pid) for pid in judged.preference]
    assert [p == 1.0 for p in judged.preference.values()] == swapped
    (score,) = score_runs(home, [replay])
    assert score.values()["judge_faithfulness"] == 4.0


def test_a_replay_reads_full_text_from_the_cache_only_and_leaves_no_abstract_result_behind(
    tmp_path: Path,
) -> None:
    day = dt.date(2026, 2, 18)
    # Endpoints on a closed port: any request would fail with a connection error, not this message.
    closed = closed_port_url()
    options = FulltextOptions(
        html_endpoint=f"{closed}/html/", pdf_endpoint=f"{closed}/pdf/", source_endpoint=f"{closed}/e-print/"
    )
    reader = FulltextReader(options, tmp_path, day, cache_only=True)
    read = reader.read(paper(1))
    assert read.used == "abstract"
    assert {f.error for f in read.fallbacks} == {"not in the full-text cache (replays do not ask arXiv)"}
    assert reader.cache.result(reader.cache.stem(paper(1).arxiv_id, paper(1).version)) is None


def test_model_replaces_the_model_of_the_replayed_agents_only(tmp_path: Path) -> None:
    settings = sample_settings(tmp_path, llm="deepseek")
    changed = compose_settings(settings, ["writer", "editor"], "deepseek-reasoner")
    assert changed.model_for("writer").model == changed.model_for("editor").model == "deepseek-reasoner"
    assert changed.model_for("screener").model == settings.model_for("screener").model == "deepseek-chat"
    assert compose_settings(settings, ["writer"], None) is settings

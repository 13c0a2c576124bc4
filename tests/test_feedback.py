"""A reader's feedback: like / dislike / not-interested per profile, list, undo, reset, feedback.toml."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from ribao.cli import app
from ribao.profiles.feedback import FeedbackStore
from tests.support.http_run import configure_home, run_cli
from tests.support.stub_openai import StubOpenAI


def cli(*args: str) -> object:
    return CliRunner().invoke(app, list(args))


def profiles_config(home: Path) -> None:
    (home / "config.toml").write_text('[profiles.alice]\ninterests = "LLM agents"\n', encoding="utf-8")


def test_like_dislike_list_undo_reset_per_profile(ribao_home: Path) -> None:
    profiles_config(ribao_home)
    assert cli("feedback", "like", "2602.15067", "arXiv:2602.15100v2").exit_code == 0
    assert cli("feedback", "not-interested", "https://arxiv.org/abs/2602.15200", "-p", "alice").exit_code == 0
    assert cli("feedback", "dislike", "2602.15100").exit_code == 0  # changes its mind: newest wins

    rows = json.loads(cli("feedback", "list", "--json").output)
    assert [(r["profile"], r["verb"], r["arxiv_id"]) for r in rows] == [
        ("default", "like", "2602.15067"),
        ("default", "like", "2602.15100"),
        ("alice", "not-interested", "2602.15200"),
        ("default", "dislike", "2602.15100"),
    ]
    with FeedbackStore.open(ribao_home) as store:
        sig = store.signals("default")
        assert [p.arxiv_id for p in sig.liked] == ["2602.15067"]
        assert [p.arxiv_id for p in sig.disliked] == ["2602.15100"]
        assert [p.arxiv_id for p in store.signals("alice").disliked] == ["2602.15200"]  # not-interested

    undone = cli("feedback", "undo")
    assert "dislike 2602.15100 [default]" in undone.output
    with FeedbackStore.open(ribao_home) as store:
        assert [p.arxiv_id for p in store.signals("default").liked] == ["2602.15067", "2602.15100"]

    assert "forgot 2 feedback" in cli("feedback", "reset", "--yes").output
    left = json.loads(cli("feedback", "list", "--json").output)
    assert [r["profile"] for r in left] == ["alice"]  # another profile's feedback is untouched
    assert cli("feedback", "undo").output.strip() == "nothing to undo"


def test_bad_profile_or_id_is_a_usage_error_and_records_nothing(ribao_home: Path) -> None:
    profiles_config(ribao_home)
    res = cli("feedback", "like", "2602.15067", "--profile", "alcie")
    assert res.exit_code == 2
    assert "unknown profile 'alcie' (did you mean 'alice'?); known: default, alice, example" in res.output
    res = cli("feedback", "like", "2602.15067", "not-an-id")
    assert res.exit_code == 2
    assert "'not-an-id' is not an arXiv id" in res.output
    assert json.loads(cli("feedback", "list", "--json").output) == []


def test_feedback_names_papers_no_run_had_as_candidates(
    tmp_path: Path, openai_stub: StubOpenAI, monkeypatch: pytest.MonkeyPatch
) -> None:
    configure_home(tmp_path, openai_stub, monkeypatch)
    assert run_cli("--date", "2026-02-18", "--no-push").exit_code == 0
    res = cli("feedback", "like", "2602.15034", "2501.00001")
    assert res.exit_code == 0
    assert "EduResearchBench" in res.output  # the candidate's title, from the run log
    assert "not a candidate of any recorded run: 2501.00001;" in res.output
    assert "2602.15034" not in res.output.split("not a candidate")[1]
    rows = json.loads(cli("feedback", "list", "--json").output)
    assert [r["arxiv_id"] for r in rows] == ["2602.15034", "2501.00001"]  # both kept


def test_feedback_file_is_read_once_per_change(ribao_home: Path) -> None:
    profiles_config(ribao_home)
    path = ribao_home / "feedback.toml"
    path.write_text(
        '[default]\nlike = ["2602.15067", "arXiv:2602.15100v3"]\n[alice]\nnot-interested = ["2602.15200"]\n',
        encoding="utf-8",
    )
    with FeedbackStore.open(ribao_home) as store:
        first = store.sync_file(path, ["default", "alice"])
        again = store.sync_file(path, ["default", "alice"])
        assert (first.added, first.removed) == (3, 0)
        assert (again.added, again.removed) == (0, 0)  # a second run does not count it twice
        assert len(store.entries()) == 3
        path.write_text('[default]\nlike = ["2602.15067"]\n', encoding="utf-8")  # the reader took lines out
        edited = store.sync_file(path, ["default", "alice"])
        assert (edited.added, edited.removed) == (0, 2)
        assert [p.arxiv_id for p in store.signals("default").liked] == ["2602.15067"]
        assert store.signals("alice").disliked == []


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ('[bob]\nlike = ["2602.15067"]\n', "unknown profile 'bob'; known: default, example"),
        ('[default]\nlove = ["2602.15067"]\n', "[default] unknown verb 'love'"),
        ('[default]\nlike = ["x"]\n', "[default] like: 'x' is not an arXiv id"),
        ("[default\n", "feedback.toml: "),
    ],
)
def test_malformed_feedback_file_fails_the_run_before_any_model_call(
    tmp_path: Path, openai_stub: StubOpenAI, monkeypatch: pytest.MonkeyPatch, text: str, message: str
) -> None:
    home = configure_home(tmp_path, openai_stub, monkeypatch)
    (home / "feedback.toml").write_text(text, encoding="utf-8")
    res = run_cli("--date", "2026-02-18", "--no-push")
    assert res.exit_code == 1
    assert message in res.output and str(home / "feedback.toml") in res.output
    assert openai_stub.chat_requests == []


_WRITER = """
import sys
from pathlib import Path
from ribao.profiles.feedback import FeedbackStore
home, tag = Path(sys.argv[1]), int(sys.argv[2])
with FeedbackStore.open(home) as store:
    for i in range(60):
        store.add("default", "like", [f"2602.{tag}{i:03d}"])
"""


def test_two_processes_giving_feedback_at_once_lose_nothing(ribao_home: Path) -> None:
    FeedbackStore.open(ribao_home).close()
    procs = [
        subprocess.Popen([sys.executable, "-c", _WRITER, str(ribao_home), tag], stderr=subprocess.PIPE)
        for tag in ("1", "2")
    ]
    for p in procs:
        _, err = p.communicate(timeout=120)
        assert p.returncode == 0, err.decode()
    with FeedbackStore.open(ribao_home) as store:
        ids = [e.arxiv_id for e in store.entries("default")]
    assert len(ids) == 120 and len(set(ids)) == 120


def test_feedback_lives_in_the_store_database(ribao_home: Path, postgres_url: str) -> None:
    url = postgres_url.replace("postgresql://", "postgresql+psycopg://")
    with FeedbackStore.open(ribao_home, url) as store:
        store.add("default", "like", ["2602.15067"])
        store.add("default", "not-interested", ["2602.15067"])
    with FeedbackStore.open(ribao_home, url) as store:  # another process, another machine: the same rows
        assert [p.arxiv_id for p in store.signals("default").disliked] == ["2602.15067"]
    assert not (ribao_home / "feedback.sqlite").exists()

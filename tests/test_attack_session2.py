"""Faults found attacking this session's features as a demanding user: the OTLP export, runs diff,
feedback and its feedback.toml, profile names and the memory commands. Each test failed before its fix."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from ribao.cli import app
from tests.support.otlp_collector import Collector
from tests.support.runs import RUN_A, populate


def cli(home: Path, *args: str) -> Any:
    return CliRunner().invoke(app, list(args), env={"RIBAO_HOME": str(home)})


@pytest.fixture
def trickling() -> Iterator[Collector]:
    c = Collector()
    c.trickle = True
    yield c
    c.close()


def test_an_export_to_a_collector_that_trickles_its_reply_gives_up_at_the_deadline(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, trickling: Collector
) -> None:
    populate(tmp_path)
    monkeypatch.setattr("ribao.runs.otlp.DEADLINE_S", 0.5)
    result = cli(tmp_path, "runs", "export", RUN_A, "--endpoint", trickling.endpoint)
    assert result.exit_code == 1
    assert result.output.splitlines() == [
        f"ribao: error: could not export run {RUN_A} to the OTLP collector at {trickling.endpoint}: "
        "no complete answer within 0.5 s"
    ]


# `ribao runs export` with the export's deadline (7 s) and read timeout (5 s) as guards only: on a busy
# machine the export gave up at its deadline (exit 1) before the test's Ctrl-C reached it.
PATIENT_EXPORT = (
    "import ribao.runs.otlp as otlp; otlp.DEADLINE_S = otlp.TIMEOUT_S = 300.0; "
    "from ribao.cli import main; main()"
)


def test_ctrl_c_during_an_export_interrupts_it(tmp_path: Path, trickling: Collector) -> None:
    populate(tmp_path)
    env = {**os.environ, "RIBAO_HOME": str(tmp_path)}
    args = [sys.executable, "-c", PATIENT_EXPORT, "runs", "export", RUN_A, "--endpoint", trickling.endpoint]
    with subprocess.Popen(args, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) as proc:
        assert trickling.received.wait(60)
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=60)
    assert proc.returncode == 130, (out, err)
    assert out == "" and err.strip() == "ribao: interrupted"


@pytest.mark.parametrize(
    "endpoint",
    ["localhost:4318", "127.0.0.1:4318/v1/traces", "ftp://host/v1/traces", "http://", "http://h:99999/v1/traces",
     "not a url"],
)  # fmt: skip
def test_a_malformed_otlp_endpoint_fails_when_the_settings_load(tmp_path: Path, endpoint: str) -> None:
    (tmp_path / "config.toml").write_text(f'[tracing]\notlp_endpoint = "{endpoint}"\n', encoding="utf-8")
    result = cli(tmp_path, "config", "show")
    assert result.exit_code == 1
    [line] = result.output.splitlines()
    assert line.startswith("ribao: error: invalid settings: tracing.otlp_endpoint: ")
    assert f"OTLP endpoint {endpoint!r} is not an http(s) URL with a host" in line


def test_an_empty_otlp_endpoint_is_off_and_a_malformed_flag_is_a_usage_error(tmp_path: Path) -> None:
    populate(tmp_path)
    (tmp_path / "config.toml").write_text('[tracing]\notlp_endpoint = ""\n', encoding="utf-8")
    off = cli(tmp_path, "runs", "export", RUN_A)
    assert off.exit_code == 1 and "no OTLP endpoint" in off.output
    bad = cli(tmp_path, "runs", "export", RUN_A, "--endpoint", "localhost:4318")
    assert bad.exit_code == 2
    assert bad.output.splitlines() == [
        "ribao: error: --endpoint: OTLP endpoint 'localhost:4318' is not an http(s) URL with a host "
        "(e.g. http://127.0.0.1:4318/v1/traces)"
    ]


def test_reading_feedback_in_an_empty_home_creates_nothing(tmp_path: Path) -> None:
    home = tmp_path / "home"
    assert cli(home, "feedback", "list", "--json").output.strip() == "[]"
    assert cli(home, "feedback", "undo").output.strip() == "nothing to undo"
    assert cli(home, "feedback", "reset", "--yes").exit_code == 0
    assert not home.exists()


def test_two_processes_giving_their_first_feedback_at_once_lose_nothing(tmp_path: Path) -> None:
    import multiprocessing

    ctx = multiprocessing.get_context("spawn")
    with ctx.Manager() as manager, ctx.Pool(4) as pool:
        barrier = manager.Barrier(4)  # all four open the new database at the same moment
        pool.starmap(_give_feedback, [(str(tmp_path), k, barrier) for k in range(4)])
    from ribao.profiles.feedback import FeedbackStore

    with FeedbackStore.open(tmp_path) as store:
        assert len(store.entries()) == 4 * 5


def _give_feedback(home: str, k: int, barrier: Any) -> None:
    from ribao.profiles.feedback import FeedbackStore

    barrier.wait()
    with FeedbackStore.open(Path(home)) as store:  # all four create the table at once
        for i in range(5):
            store.add("default", "like", [f"2602.{k}{i:04d}"])


@pytest.mark.parametrize(
    "bad",
    [
        "2602.15067,2602.15100",
        "see 2602.15067",
        "２６０２.１５０６７",
        "2602.1506",
        "9913.12345",
        "1412.12345",
    ],
)
def test_feedback_takes_one_whole_arxiv_id_per_argument(tmp_path: Path, bad: str) -> None:
    result = cli(tmp_path, "feedback", "like", bad)
    assert result.exit_code == 2 and len(result.output.splitlines()) == 1, result.output
    assert cli(tmp_path, "feedback", "list", "--json").output.strip() == "[]"


def test_feedback_still_takes_every_form_of_one_id(tmp_path: Path) -> None:
    forms = ["ArXiv:2602.15067V2", "https://arxiv.org/pdf/2602.15100v1.pdf", "hep-ph/0301050", "0704.0001"]
    assert cli(tmp_path, "feedback", "like", *forms).exit_code == 0
    import json

    rows = json.loads(cli(tmp_path, "feedback", "list", "--json").output)
    assert [r["arxiv_id"] for r in rows] == ["2602.15067", "2602.15100", "hep-ph/0301050", "0704.0001"]


@pytest.mark.parametrize(
    ("text", "error"),
    [
        ("[default]\nlike = [2602.15060]\n", 'quote each id ("2602.15067"), got 2602.1506'),
        ('[default]\nlike = ["2602.15060"]\ndislike = ["2602.15060"]\n',
         "2602.15060 is under both like and dislike"),
    ],
)  # fmt: skip
def test_a_feedback_file_with_unquoted_or_contradicting_ids_is_refused(
    tmp_path: Path, text: str, error: str
) -> None:
    from ribao.errors import ConfigError
    from ribao.profiles.feedback import read_file

    path = tmp_path / "feedback.toml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ConfigError, match=error.replace("(", r"\(").replace(")", r"\)")):
        read_file(path, ["default"])


def test_a_feedback_file_saved_with_a_byte_order_mark_is_read(tmp_path: Path) -> None:
    from ribao.profiles.feedback import read_file

    path = tmp_path / "feedback.toml"
    path.write_bytes('\ufeff[default]\nlike = ["2602.15060"]\n'.encode())
    assert list(read_file(path, ["default"])) == [("default", "like", "2602.15060")]


@pytest.mark.parametrize("name", ["alice-", "bob_"])
def test_a_profile_name_its_memory_collection_cannot_have_is_refused_at_load(
    tmp_path: Path, name: str
) -> None:
    (tmp_path / "config.toml").write_text(f'[profiles.{name}]\ninterests = "LLM"\n', encoding="utf-8")
    result = cli(tmp_path, "feedback", "list")
    assert result.exit_code == 1
    assert f"profile name {name!r}: use letters, digits, '-' and '_', beginning and ending" in result.output


def test_runs_diff_html_checks_its_folder_before_reading_and_writes_stdout_for_dash(tmp_path: Path) -> None:
    populate(tmp_path)
    blocker = tmp_path / "a-file"
    blocker.write_text("x", encoding="utf-8")
    bad = cli(tmp_path, "runs", "diff", RUN_A, RUN_A, "--html", str(blocker / "diff.html"))
    assert bad.exit_code == 2
    assert bad.output.splitlines() == [
        f"ribao: error: --html {blocker / 'diff.html'}: {blocker} is a file, not a folder"
    ]
    made = cli(tmp_path, "runs", "diff", RUN_A, RUN_A, "--html", str(tmp_path / "new" / "diff.html"))
    assert made.exit_code == 0 and (tmp_path / "new" / "diff.html").read_text(encoding="utf-8").startswith(
        "<!doctype"
    )
    out = cli(tmp_path, "runs", "diff", RUN_A, RUN_A, "--html", "-")
    assert out.exit_code == 0 and out.output.startswith("<!doctype html>") and not (Path.cwd() / "-").exists()


def test_runs_diff_of_an_unfinished_run_does_not_call_its_prompts_and_picks_missing(tmp_path: Path) -> None:
    from ribao.runs.diff import diff_runs
    from ribao.runs.rows import RunRow

    populate(tmp_path)
    from ribao.runs import RunLog

    with RunLog.open(tmp_path) as log:
        done = log.get_run(RUN_A)
    running = RunRow.model_validate(
        {**done.model_dump(), "status": "interrupted", "prompts": {}, "picks": []}
    )
    diff = diff_runs(running, done, [], [], {})
    assert diff.prompts == [] and diff.picks == []
    assert diff.prompts_note == "run A is interrupted: its prompt files are recorded when a run ends"
    assert diff.picks_note == "run A is interrupted: its picks are recorded when a run ends"


def test_memory_commands_for_a_profile_with_no_memory_yet_create_no_collection(tmp_path: Path) -> None:
    from ribao.memory import make_embedder
    from ribao.memory.store import DEFAULT_COLLECTION, MemoryStore

    (tmp_path / "config.toml").write_text(
        '[memory]\nembedder = "hash"\n[profiles.zed]\ninterests = "LLM"\n', encoding="utf-8"
    )
    MemoryStore.open(tmp_path / "memory", embedder=make_embedder("hash")).close()  # the default one's
    stats = cli(tmp_path, "memory", "stats", "--profile", "zed")
    assert stats.exit_code == 0 and "papers     0" in stats.output
    assert cli(tmp_path, "memory", "list", "-p", "zed", "--json").output.strip() == "[]"
    assert cli(tmp_path, "memory", "search", "agents", "-p", "zed", "--json").output.strip() == "[]"
    assert cli(tmp_path, "memory", "forget", "2602.15067", "-p", "zed").exit_code == 1
    assert cli(tmp_path, "memory", "forget", "2602.15067,2602.15100").exit_code == 2
    assert MemoryStore.has_collection(tmp_path / "memory", url=None, collection=DEFAULT_COLLECTION)
    assert not MemoryStore.has_collection(
        tmp_path / "memory", url=None, collection=f"{DEFAULT_COLLECTION}__zed"
    )

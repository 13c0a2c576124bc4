"""Bad inputs to `ribao run`, `runs resume` and the settings, each one line with its exit status and
nothing written: found by driving the real commands against the loopback OpenAI stub."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from ribao.cli import app
from ribao.runs.db import RunLog
from tests.support.http_run import configure_home, respond
from tests.support.loopback import Webhook
from tests.support.samples import sample_listing
from tests.support.stub_openai import StubOpenAI


@pytest.fixture
def home(tmp_path: Path, openai_stub: StubOpenAI, monkeypatch: pytest.MonkeyPatch) -> Path:
    return configure_home(tmp_path, openai_stub, monkeypatch)


def ribao(*args: str) -> Any:
    return CliRunner().invoke(app, list(args))


def one_error_line(result: Any) -> str:
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("ribao: error: "), result.stderr
    assert "Traceback" not in result.output
    return lines[0]


@pytest.mark.parametrize("where", ["file", "under a file"])
def test_run_with_out_on_a_file_fails_in_one_line_before_any_llm_call(
    home: Path, tmp_path: Path, openai_stub: StubOpenAI, where: str
) -> None:
    blocker = tmp_path / "notes.txt"
    blocker.write_text("keep me", encoding="utf-8")
    out = blocker if where == "file" else blocker / "digests"
    result = ribao("run", "--source", str(sample_listing()), "--out", str(out), "--no-fulltext", "-q")
    assert result.exit_code == 1
    line = one_error_line(result)
    assert f"{blocker} is a file, not a folder" in line
    assert openai_stub.chat_requests == []  # refused before the model was paid
    assert blocker.read_text(encoding="utf-8") == "keep me"


def test_resume_of_a_run_whose_out_became_a_file_fails_in_one_line(
    home: Path, tmp_path: Path, openai_stub: StubOpenAI
) -> None:
    out = tmp_path / "out"
    openai_stub.responder = None  # every request answered 400: the run fails at triage
    failed = ribao("run", "--source", str(sample_listing()), "--out", str(out), "--no-fulltext", "-q")
    assert failed.exit_code == 1, failed.output
    out.write_text("not a folder", encoding="utf-8")
    openai_stub.responder = respond
    before = len(openai_stub.chat_requests)
    result = ribao("runs", "resume", "latest", "-q")
    assert result.exit_code == 1
    assert f"{out} is a file, not a folder" in one_error_line(result)
    assert len(openai_stub.chat_requests) == before


def test_resume_refuses_a_replay_and_keeps_its_record(home: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    done = ribao("run", "--source", str(sample_listing()), "--out", str(out), "--no-fulltext", "-q")
    assert done.exit_code == 0, done.output
    replayed = ribao("replay", "latest", "--agent", "editor")
    assert replayed.exit_code == 0, replayed.output
    with RunLog.open(home) as log:
        (replay,) = log.list_runs(status="replay")
    result = ribao("runs", "resume", replay.run_id)
    assert result.exit_code == 1
    line = one_error_line(result)
    assert "is a replay" in line and replay.settings["replay_of"] in line
    with RunLog.open(home) as log:
        after = log.get_run(replay.run_id)
    assert after.status == "replay" and after.settings["replay_of"] == replay.settings["replay_of"]
    assert after.finished_at == replay.finished_at


@pytest.mark.parametrize(
    ("name", "value"),
    [("RIBAO_CATEGORIES", "cs.CL,cs.AI"), ("RIBAO_HOLIDAYS", "2026-12-24"), ("RIBAO_FULLTEXT", "off")],
)
@pytest.mark.parametrize("command", [["fetch", "--json"], ["config", "show"]])
def test_an_env_list_or_table_that_is_not_json_names_the_variable(
    home: Path, monkeypatch: pytest.MonkeyPatch, name: str, value: str, command: list[str]
) -> None:
    monkeypatch.setenv(name, value)
    result = ribao(*command, *(["--source", str(sample_listing())] if command[0] == "fetch" else []))
    assert result.exit_code == 1
    line = one_error_line(result)
    assert f"{name}={value!r}" in line and "JSON" in line
    assert "config.toml" not in line  # the file is not what is wrong


def test_an_env_list_in_json_is_read(home: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RIBAO_CATEGORIES", json.dumps(["cs.CL"]))
    result = ribao("fetch", "--json", "--source", str(sample_listing()))
    assert result.exit_code == 0, result.output
    papers = [json.loads(line) for line in result.stdout.splitlines()]
    assert papers and all("cs.CL" in p["categories"] for p in papers)


def test_a_digest_write_that_fails_is_one_output_error(tmp_path: Path) -> None:
    import datetime as dt

    from langgraph.runtime import Runtime

    from ribao.agents.editor import write_digest
    from ribao.errors import OutputError
    from ribao.settings import Settings
    from tests.support.graph import context
    from tests.support.papers import paper, pick, summary

    def disk_full(files: object) -> None:
        raise OSError(28, "No space left on device")

    a = paper(1)
    state: dict[str, Any] = {
        "date": dt.date(2026, 2, 18),
        "candidates": [a],
        "picks": [pick(a, 1)],
        "summaries": {a.arxiv_id: summary(a, "must_read")},
        "llm_calls": [],
    }
    ctx = context(Settings(home=tmp_path / "home", out_dir=tmp_path / "out"))
    ctx.write_files = disk_full
    with pytest.raises(OutputError, match="No space left on device"):
        write_digest(state, Runtime(context=ctx))  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("damage", "words"),
    [
        (lambda r: r.pop("scanned"), "scanned: Field required"),
        (lambda r: r["picks"][0].pop("title"), "picks.0.title: Field required"),
        (lambda r: r["picks"][0].pop("summary"), "picks.0.summary: Field required"),
        (lambda r: r.update(picks=5), "picks: Input should be a valid array"),
    ],
)
def test_site_build_names_a_digest_record_missing_a_field_and_keeps_the_old_site(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, damage: Any, words: str
) -> None:
    import datetime as dt

    from tests.support.digests import write_day

    monkeypatch.chdir(tmp_path)
    for day in (dt.date(2026, 2, 18), dt.date(2026, 2, 19)):
        write_day(tmp_path / "digests", day)
    assert ribao("site", "build", "--out", "site").exit_code == 0
    before = {p.name: p.read_bytes() for p in (tmp_path / "site").iterdir()}
    path = tmp_path / "digests" / "2026-02-18.json"
    record = json.loads(path.read_text(encoding="utf-8"))
    damage(record)
    path.write_text(json.dumps(record), encoding="utf-8")
    result = ribao("site", "build", "--out", "site")
    assert result.exit_code == 1
    line = one_error_line(result)
    assert "2026-02-18.json" in line and words in line
    assert {p.name: p.read_bytes() for p in (tmp_path / "site").iterdir()} == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["digests", "site"]


def push_config(home: Path, hook: Webhook) -> None:
    (home / "config.toml").write_text(
        f'[[push]]\nname = "hook"\nurl = "{hook.url()}"\n'
        f'[[push]]\nname = "card"\nurl = "{hook.url("/card")}"\nformat = "card"\n'
        "[delivery]\nretries = 0\n",
        encoding="utf-8",
    )


def push_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, webhook: Webhook) -> Path:
    """Make `tmp_path/home` the test's home, with the two channels of `push_config`; return it."""
    home = tmp_path / "home"
    home.mkdir()
    monkeypatch.setenv("RIBAO_HOME", str(home))
    push_config(home, webhook)
    return home


def test_push_of_a_record_missing_a_field_is_one_error_line_naming_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, webhook: Webhook
) -> None:
    import datetime as dt

    from tests.support.digests import write_day

    push_home(tmp_path, monkeypatch, webhook)
    path = write_day(tmp_path / "digests", dt.date(2026, 2, 18))
    record = json.loads(path.read_text(encoding="utf-8"))
    del record["picks"][0]["tier"]
    path.write_text(json.dumps(record), encoding="utf-8")
    result = ribao("push", "2026-02-18", "--out", str(tmp_path / "digests"))
    assert result.exit_code == 1, result.output
    line = one_error_line(result)  # the record is read (and checked) once, before any channel
    assert "2026-02-18.json" in line and "picks.0.tier: Field required" in line
    assert webhook.requests == []


def test_push_of_a_record_that_is_not_an_object_is_one_error_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, webhook: Webhook
) -> None:
    import datetime as dt

    from tests.support.digests import write_day

    push_home(tmp_path, monkeypatch, webhook)
    write_day(tmp_path / "digests", dt.date(2026, 2, 18)).write_text("[1]", encoding="utf-8")
    result = ribao("push", "2026-02-18", "--out", str(tmp_path / "digests"))
    assert result.exit_code == 1
    assert "Input should be an object" in one_error_line(result)
    assert webhook.requests == []


@pytest.mark.parametrize(
    ("command", "flag"),
    [
        (["push", "2026-02-18", "--out"], "--out"),
        (["site", "build", "--out", "site", "--digests"], "--digests"),
    ],
)
@pytest.mark.parametrize("kind", ["missing", "file"])
def test_a_folder_flag_naming_no_folder_is_bad_usage(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    webhook: Webhook,
    command: list[str],
    flag: str,
    kind: str,
) -> None:
    monkeypatch.chdir(tmp_path)
    push_home(tmp_path, monkeypatch, webhook)
    folder = tmp_path / "nosuch"
    if kind == "file":
        folder.write_text("x", encoding="utf-8")
    result = ribao(*command, str(folder))
    assert result.exit_code == 2
    line = one_error_line(result)
    assert line.startswith(f"ribao: error: {flag} {folder}: ")
    assert ("not a folder" if kind == "file" else "no such folder") in line
    assert not (tmp_path / "site").exists() and webhook.requests == []


@pytest.mark.parametrize(
    "command", [["run", "--source", "SAMPLE"], ["replay", "latest", "--agent", "writer"]]
)
def test_a_prompts_dir_that_is_a_file_is_named_as_such(
    home: Path, tmp_path: Path, command: list[str]
) -> None:
    notes = tmp_path / "notes.txt"
    notes.write_text("x", encoding="utf-8")
    args = [str(sample_listing()) if a == "SAMPLE" else a for a in command]
    result = ribao(*args, "--prompts-dir", str(notes))
    assert result.exit_code == 2
    assert f"--prompts-dir {notes}: is a file, not a folder" in one_error_line(result)


def test_a_resumed_run_keeps_the_picks_rounds_and_prompt_files_of_its_first_part(
    home: Path, tmp_path: Path, openai_stub: StubOpenAI
) -> None:
    def lead_fails(body: dict[str, Any]) -> dict[str, Any]:
        if body["tools"][0]["function"]["name"] == "LeadOutput":
            return {"status": 400, "body": {"error": {"message": "scripted"}}}
        return respond(body)

    openai_stub.responder = lead_fails
    out = tmp_path / "out"
    failed = ribao("run", "--source", str(sample_listing()), "--out", str(out), "--no-fulltext", "-q")
    assert failed.exit_code == 1, failed.output
    with RunLog.open(home) as log:
        first = log.get_run("latest")
    assert len(first.picks) == 13 and first.critiques
    assert any(name.startswith("screener/") for name in first.prompts)

    again = ribao("runs", "resume", "latest", "-q")  # the lead fails again
    assert again.exit_code == 1, again.output
    with RunLog.open(home) as log:
        second = log.get_run(first.run_id)
    assert second.status == "failed"
    assert second.picks == first.picks and second.critiques == first.critiques
    assert set(second.prompts) >= set(first.prompts)

    openai_stub.responder = respond
    done = ribao("runs", "resume", "latest", "-q")
    assert done.exit_code == 0, done.output
    with RunLog.open(home) as log:
        last = log.get_run(first.run_id)
    assert last.status == "done" and len(last.picks) == 13
    assert set(last.prompts) >= set(first.prompts) | {"editor/user.md.j2", "editor/digest.md.j2"}


def test_a_failed_replay_is_not_latest_and_cannot_be_resumed(
    home: Path, tmp_path: Path, openai_stub: StubOpenAI
) -> None:
    def critic_fails(body: dict[str, Any]) -> dict[str, Any]:
        if body["tools"][0]["function"]["name"] == "CriticVerdicts":
            return {"status": 400, "body": {"error": {"message": "scripted"}}}
        return respond(body)

    openai_stub.responder = critic_fails
    failed = ribao("run", "--source", str(sample_listing()), "--out", str(tmp_path / "out"), "-q")
    assert failed.exit_code == 1, failed.output
    with RunLog.open(home) as log:
        run_id = log.get_run("latest").run_id
    openai_stub.responder = respond
    never = ribao("replay", "latest", "--agent", "writer")  # the run never reached the writers
    assert never.exit_code == 1 and "never reached write_summary" in one_error_line(never)
    with RunLog.open(home) as log:
        assert log.get_run("latest").run_id == run_id  # not the failed replay
        (replay,) = [r for r in log.list_runs() if r.settings.get("replay_of") == run_id]
    assert replay.status == "failed"
    again = ribao("replay", "latest", "--agent", "screener")
    assert again.exit_code == 0, again.output
    refused = ribao("runs", "resume", replay.run_id)
    assert refused.exit_code == 1 and f"is a replay of {run_id}" in one_error_line(refused)
    resumed = ribao("runs", "resume", "latest", "-q")
    assert resumed.exit_code == 0, resumed.output
    with RunLog.open(home) as log:
        assert log.get_run(run_id).status == "done" and log.get_run(replay.run_id).status == "failed"


def test_a_channel_named_twice_is_sent_once(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, webhook: Webhook
) -> None:
    import datetime as dt

    from tests.support.digests import write_day

    push_home(tmp_path, monkeypatch, webhook)
    write_day(tmp_path / "digests", dt.date(2026, 2, 18))
    result = ribao("push", "2026-02-18", "--out", str(tmp_path / "digests"), "--to", "hook", "--to", "hook")
    assert result.exit_code == 0, result.output
    assert [r["path"] for r in webhook.requests] == ["/hook"]


def test_two_push_tables_with_one_name_are_a_config_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, webhook: Webhook
) -> None:
    import datetime as dt

    from tests.support.digests import write_day

    home = push_home(tmp_path, monkeypatch, webhook)
    with (home / "config.toml").open("a", encoding="utf-8") as fh:
        fh.write(f'[[push]]\nname = "hook"\nurl = "{webhook.url("/second")}"\n')
    write_day(tmp_path / "digests", dt.date(2026, 2, 18))
    result = ribao("push", "2026-02-18", "--out", str(tmp_path / "digests"))
    assert result.exit_code == 1
    assert "more than one [[push]] table is named hook" in one_error_line(result)
    assert webhook.requests == []


@pytest.mark.parametrize(
    ("assignment", "words"),
    [
        ("must_reed=3", "'must_reed' (did you mean 'must_read'?)"),
        ("memory.embeder=hash", "'memory.embeder' (did you mean 'memory.embedder'?)"),
    ],
)
def test_config_show_set_of_an_unknown_key_is_bad_usage(home: Path, assignment: str, words: str) -> None:
    result = ribao("config", "show", "--set", assignment)
    assert result.exit_code == 2
    assert f"--set: unknown setting {words}" in one_error_line(result)


def test_replay_in_a_home_without_runs_creates_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    home = tmp_path / "fresh"
    monkeypatch.setenv("RIBAO_HOME", str(home))
    result = ribao("replay", "latest", "--agent", "writer")
    assert result.exit_code == 2
    assert "no runs recorded yet" in one_error_line(result)
    assert not home.exists()


def test_resume_of_a_run_whose_process_is_alive_is_refused(home: Path, openai_stub: StubOpenAI) -> None:
    import os

    from ribao.settings import Settings

    with RunLog.open(home) as log:  # recorded as running by this (live) process
        log.start_run("01LIVERUN", settings=Settings(home=home))
    result = ribao("runs", "resume", "01LIVERUN")
    assert result.exit_code == 1
    assert f"is still running (process {os.getpid()} on " in one_error_line(result)
    assert openai_stub.chat_requests == []
    with RunLog.open(home) as log:
        assert log.get_run("01LIVERUN").status == "running"


def test_resume_of_a_run_without_checkpoints_leaves_its_record_alone(
    home: Path, tmp_path: Path, openai_stub: StubOpenAI
) -> None:
    openai_stub.responder = None  # every request answered 400: the run fails at triage
    out = tmp_path / "out"
    failed = ribao("run", "--source", str(sample_listing()), "--out", str(out), "--no-fulltext", "-q")
    assert failed.exit_code == 1, failed.output
    with RunLog.open(home) as log:
        before = log.get_run("latest")
    (home / "checkpoints.sqlite").unlink()  # the user reclaimed the space, as the README says
    result = ribao("runs", "resume", "latest", "-q")
    assert result.exit_code == 1
    assert "has no checkpoint to resume from" in one_error_line(result)
    with RunLog.open(home) as log:
        after = log.get_run(before.run_id)
    assert (after.status, after.error, after.settings) == (before.status, before.error, before.settings)

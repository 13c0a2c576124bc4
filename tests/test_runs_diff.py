"""`ribao runs diff A B`: a run and its replay with an edited prompt, two days, the --json shape, the
--html page in a real browser, and picks moved or prompt texts gone (from the shared run-log data)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from ribao.calls import LLMCall
from ribao.cli import app
from ribao.llm.local import LocalLlamaServer
from ribao.registry import AGENTS
from ribao.runs import RunLog
from ribao.settings import load_settings
from tests.support.browser import ARTIFACTS, launch_chromium, no_overflow, open_page
from tests.support.http_run import respond, write_config
from tests.support.runs import PICKS, PROMPTS, RUN_A, RUN_B, SETTINGS, populate
from tests.support.samples import sample_listing
from tests.support.stub_openai import StubOpenAI

DAY2 = Path(__file__).parent / "data" / "2026-02-19.first40.jsonl"
EDITED_LINE = "新的提示词写出的一句话"


@dataclass
class Recorded:
    home: Path
    run: str
    replay: str
    same_replies: str
    day2: str


def writer_edited(body: dict[str, Any]) -> dict[str, Any]:
    """Answer as `respond`, but with another one-line summary (what the edited prompt asks for)."""
    if body["tools"][0]["function"]["name"] == "NotableOutput":
        return {**respond(body), "args": {"one_line": EDITED_LINE}}
    return respond(body)


@pytest.fixture(scope="module")
def recorded(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Recorded]:
    """A home with a run of the bundled day, its writer replayed with an edited prompt (answered with
    other summaries, then again with the same ones), and a run of 2026-02-19, all against the
    loopback OpenAI stub."""
    tmp = tmp_path_factory.mktemp("diff")
    home = tmp / "home"
    home.mkdir()
    edited = tmp / "edited"
    (edited / "writer").mkdir(parents=True)
    (edited / "writer" / "notable.md.j2").write_text("用一句话介绍：{{ paper.title }}\n", encoding="utf-8")
    runner = CliRunner()
    with StubOpenAI() as stub, pytest.MonkeyPatch.context() as mp:
        write_config(home, stub.base_url)
        mp.setenv("RIBAO_HOME", str(home))
        mp.setenv("STUB_API_KEY", "sk-stub-key-0123456789")
        stub.responder = respond
        for source in (sample_listing(), DAY2):
            out = runner.invoke(app, ["run", "--source", str(source), "--out", str(tmp / "out"), "--quiet"])
            assert out.exit_code == 0, out.output
            if source == DAY2:
                break
            replay = ["replay", "latest", "--agent", "writer", "--prompts-dir", str(edited)]
            stub.responder = writer_edited
            out = runner.invoke(app, replay)
            assert out.exit_code == 0, out.output
            stub.responder = respond
            with RunLog.open(home) as log:
                first = log.list_runs()[1].run_id
            out = runner.invoke(app, [*replay[:1], first, *replay[2:]])
            assert out.exit_code == 0, out.output
    with RunLog.open(home) as log:
        day2, same_replies, replay, run = (r.run_id for r in log.list_runs())
    yield Recorded(home, run, replay, same_replies, day2)


def diff_cli(monkeypatch: pytest.MonkeyPatch, home: Path, *args: str) -> Any:
    monkeypatch.setenv("RIBAO_HOME", str(home))
    monkeypatch.setenv("COLUMNS", "200")
    return CliRunner().invoke(app, ["runs", "diff", *args])


def test_a_run_and_its_replay_with_an_edited_prompt(
    recorded: Recorded, monkeypatch: pytest.MonkeyPatch
) -> None:
    result = diff_cli(monkeypatch, recorded.home, recorded.run[:10], recorded.replay)
    assert result.exit_code == 0, result.output
    out = result.output
    assert "replays the writer of run A" in out and "prompts_dir: None → " in out
    assert "replay_of: (not recorded) → " + repr(recorded.run) in out
    # The prompt file's text diff: the packaged text removed, the edited one added.
    assert "writer/notable.md.j2  changed  (default → user)" in out
    assert "+用一句话介绍：{{ paper.title }}" in out and "-标题：{{ paper.title }}" in out
    assert "run B is a replay: it records no picks" in out
    assert "writer  13 → 13 (±0)" in out and "total   13 → 13 (±0)" in out
    # 3 must-read summaries are untouched by the edited notable prompt; the 10 notable replies changed.
    assert "(3 same, 10 changed, 0 only in A, 0 only in B)" in out
    assert (
        '-    "one_line": "这是一段用于测试的中文内容"' in out and f'+    "one_line": "{EDITED_LINE}"' in out
    )


def test_a_replay_answered_alike_still_shows_each_call_s_prompt_change(
    recorded: Recorded, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The model answers the edited prompt with the same summaries (as the simulated provider does):
    the calls differ in what was sent, not in the reply, and the diff says so."""
    result = diff_cli(monkeypatch, recorded.home, recorded.run, recorded.same_replies)
    assert result.exit_code == 0, result.output
    assert "(3 same, 10 changed, 0 only in A, 0 only in B)" in result.output
    assert result.output.count("prompt changed, same reply") == 10
    data = json.loads(
        diff_cli(monkeypatch, recorded.home, recorded.run, recorded.same_replies, "--json").output
    )
    with RunLog.open(recorded.home) as log:
        notable = {
            p["arxiv_id"]: p["title"] for p in log.get_run(recorded.run).picks if p["tier"] == "notable"
        }
    changed = {p["task"]: p for p in data["calls"] if p["status"] == "changed"}
    assert set(changed) == set(notable)
    for pid, pair in changed.items():
        # The prompt as rendered and sent: the packaged template's lines out, the edited line in.
        assert pair["diff"] == "" and f"+用一句话介绍：{notable[pid]}" in pair["prompt_diff"].splitlines()
        assert any(line.startswith("-标题：") for line in pair["prompt_diff"].splitlines())


def test_json_schema(recorded: Recorded, monkeypatch: pytest.MonkeyPatch) -> None:
    result = diff_cli(monkeypatch, recorded.home, recorded.run, recorded.replay, "--json")
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert set(data) == {
        "a",
        "b",
        "settings",
        "scope",
        "prompts",
        "prompts_note",
        "picks",
        "picks_note",
        "agents",
        "total",
        "calls",
    }
    assert set(data["a"]) == {"run_id", "status", "date", "replay_of", "replay_agent", "cost", "currency"}
    assert data["b"]["replay_of"] == recorded.run and data["b"]["replay_agent"] == "writer"
    assert {"key": "prompts_dir", "a": None, "b": data["settings"][0]["b"], "missing": None} in data[
        "settings"
    ]
    [prompt] = data["prompts"]
    assert set(prompt) == {"file", "status", "a", "b", "diff", "note"}
    assert (
        prompt["file"] == "writer/notable.md.j2"
        and prompt["b"]["source"] == "user"
        and prompt["note"] is None
    )
    assert set(prompt["a"]) == {"source", "path", "sha256"}
    usage = {"calls", "input_tokens", "output_tokens", "cached_tokens", "cost", "currency", "latency_s"}
    [writer] = data["agents"]
    assert writer["agent"] == "writer" and set(writer) == {"agent", "a", "b", "delta"}
    assert all(set(writer[k]) == usage for k in ("a", "b", "delta"))
    assert writer["a"]["calls"] == writer["b"]["calls"] == 13 and writer["delta"]["cost"] == 0.0
    assert data["total"]["b"]["cost"] == pytest.approx(13 * (1000 * 2 + 100 * 8) / 1e6)
    side = {"seq", "node", "model", "input_tokens", "output_tokens", "latency_s", "cost", "currency", "error"}
    for pair in data["calls"]:
        assert set(pair) == {"node", "task", "agent", "status", "a", "b", "prompt_diff", "diff"}
        assert set(pair["a"]) == set(pair["b"]) == side
        # Aligned by node and task: the replay's calls (recorded under the agent) take the run's node.
        assert pair["node"] == pair["a"]["node"] == pair["b"]["node"] == "write_summary"
    assert sorted(p["status"] for p in data["calls"]).count("changed") == 10


def test_two_days(recorded: Recorded, monkeypatch: pytest.MonkeyPatch) -> None:
    result = diff_cli(monkeypatch, recorded.home, recorded.run, recorded.day2, "--json")
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert (data["a"]["date"], data["b"]["date"], data["scope"]) == ("2026-02-18", "2026-02-19", None)
    assert any(s["key"] == "source" and s["b"].endswith("first40.jsonl") for s in data["settings"])
    assert data["prompts"] == []  # the same packaged prompt files on both days
    changes = {p["change"] for p in data["picks"]}
    assert changes == {"added", "removed"} and data["picks_note"] is None
    assert sum(p["change"] == "added" for p in data["picks"]) == 13
    assert [a["agent"] for a in data["agents"]] == ["screener", "critic", "writer", "editor"]
    screener = data["agents"][0]
    assert (
        screener["delta"]["calls"] == screener["b"]["calls"] - screener["a"]["calls"] < 0
    )  # 40 papers: fewer batches
    calls = data["calls"]
    aligned = [(p["node"], p["task"]) for p in calls if p["a"] and p["b"]]
    assert ("triage_batch", "triage 1/2") not in aligned  # "1/9" and "1/2" are different tasks
    assert ("rank_papers", "rank round 1") in aligned and ("critique_picks", "critique round 1") in aligned
    writers = [p for p in calls if p["agent"] == "writer"]
    assert {p["status"] for p in writers} == {"only_a", "only_b"}  # other days, other papers
    assert [p["node"] for p in calls] == sorted((p["node"] for p in calls), key=NODE_ORDER.index)


NODE_ORDER = ["triage_batch", "rank_papers", "write_reasons", "critique_picks", "write_summary", "write_lead"]


def test_html_page_opens_in_chromium(
    recorded: Recorded, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    page_file = tmp_path / "diff.html"
    result = diff_cli(monkeypatch, recorded.home, recorded.run, recorded.replay, "--html", str(page_file))
    assert result.exit_code == 0 and f"wrote {page_file}" in result.output
    html = page_file.read_text(encoding="utf-8")
    assert "<script" not in html and "http://" not in html.replace(recorded.home.as_uri(), "")
    ARTIFACTS.mkdir(exist_ok=True)
    with launch_chromium() as browser:
        for width in (375, 1280):
            page, errors = open_page(browser, page_file.as_uri(), width)
            assert page.locator("details.call").count() == 13
            assert page.locator("summary.changed").count() == 10
            assert EDITED_LINE in page.inner_text("#calls ~ details.call[open]")
            assert "+用一句话介绍：{{ paper.title }}" in page.inner_text("span.add")
            assert no_overflow(page), f"horizontal overflow at {width} px"
            page.screenshot(path=str(ARTIFACTS / f"runs-diff-{width}.png"), full_page=True)
            assert errors == []
            page.close()


def test_picks_moved_and_prompt_texts_no_longer_available(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    populate(tmp_path)
    moved = [
        {**PICKS[1], "rank": 1, "tier": "must_read"},
        {"rank": 2, "tier": "notable", "arxiv_id": "2602.00005", "title": "New Pick", "reason": "新"},
    ]
    prompts = {**PROMPTS, "critic/system.md.j2": {**PROMPTS["critic/system.md.j2"], "sha256": "ef" * 32}}
    with RunLog.open(tmp_path) as log:
        log.start_run("01K0D", settings={**SETTINGS, "must_read": 2}, date=None)
        log.finish_run("01K0D", status="done", picks=moved, prompts=prompts)
    result = diff_cli(monkeypatch, tmp_path, RUN_A, "01K0D", "--json")
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert data["settings"] == [{"key": "must_read", "a": 1, "b": 2, "missing": None}]
    picks = {p["arxiv_id"]: p for p in data["picks"]}
    assert picks["2602.00009"]["change"] == "removed" and picks["2602.00005"]["change"] == "added"
    assert picks["2602.00002"] == {
        "arxiv_id": "2602.00002",
        "title": "Long-Context Retrieval",
        "change": "moved",
        "a_rank": 2,
        "a_tier": "notable",
        "b_rank": 1,
        "b_tier": "must_read",
    }
    [prompt] = data["prompts"]
    assert prompt["diff"] is None and prompt["note"] == (
        f"text of A's version ({'ab' * 6}) and B's version ({'ef' * 6}) is no longer available: "
        "the file changed since"
    )
    assert [p["status"] for p in data["calls"]] == ["only_a"] * 9  # run D made no calls


def test_bad_flags_and_unknown_runs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    populate(tmp_path)
    both = diff_cli(monkeypatch, tmp_path, RUN_A, RUN_A, "--json", "--html", str(tmp_path / "x.html"))
    assert both.exit_code == 2 and "ribao: error: give --json or --html, not both" in both.output
    unknown = diff_cli(monkeypatch, tmp_path, RUN_A, "nosuch")
    assert unknown.exit_code == 2 and "no run 'nosuch'" in unknown.output
    same = diff_cli(monkeypatch, tmp_path, RUN_A, RUN_A)
    assert same.exit_code == 0 and "Settings (0 differ)" in same.output and "(9 same," in same.output


def test_a_failed_run_and_hostile_replies_on_the_page(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    populate(tmp_path)
    hostile = '<script>alert(1)</script><img src=x onerror="alert(2)">'
    with RunLog.open(tmp_path) as log:
        log.record_calls(
            RUN_B,
            "write_summary",
            [LLMCall(agent="writer", model="m", task="2602.00009", messages=[], raw=hostile, error=hostile)],
            task_id="t-write-1",
        )
    result = diff_cli(monkeypatch, tmp_path, RUN_A, RUN_B, "--json")
    data = json.loads(result.output)
    assert data["b"]["status"] == "failed" and {p["change"] for p in data["picks"]} == {"removed"}
    pair = next(p for p in data["calls"] if p["task"] == "2602.00009")
    assert pair["status"] == "changed" and f"+{hostile}" in pair["diff"].splitlines()
    page = tmp_path / "diff.html"
    assert diff_cli(monkeypatch, tmp_path, RUN_A, RUN_B, "--html", str(page)).exit_code == 0
    html = page.read_text(encoding="utf-8")
    assert "<script" not in html and "<img" not in html and "&lt;script&gt;alert(1)&lt;/script&gt;" in html


def record_models(home: Path, run_id: str, llm: str, local_port: int | None = None) -> None:
    """Record a finished run whose agents' models resolve as `ribao run --llm LLM` resolves them (for
    ``local``: the llama.cpp server's config at `local_port`, as if it had started there)."""
    settings = load_settings(llm=llm)
    local = None
    if local_port is not None:
        server = LocalLlamaServer()
        server.port = local_port  # what `start` picks: a free loopback port, another each run
        local = server.model_config(max_tokens=settings.local.max_tokens)
    models = {agent: settings.model_for(agent, local) for agent in AGENTS}
    with RunLog.open(home) as log:
        log.start_run(run_id, settings=settings, date=None, models=models)
        log.finish_run(run_id, status="done")


def test_the_local_model_server_s_port_is_no_difference_a_user_s_base_url_is(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("RIBAO_HOME", str(tmp_path))
    record_models(tmp_path, "01K2LOCAL1", "local", local_port=41209)
    record_models(tmp_path, "01K2LOCAL2", "local", local_port=42797)
    result = diff_cli(monkeypatch, tmp_path, "01K2LOCAL1", "01K2LOCAL2")
    assert result.exit_code == 0, result.output
    assert "Settings (0 differ)" in result.output and "127.0.0.1" not in result.output
    # The user moves their own OpenAI-compatible server: that is a change, for every agent using it.
    (tmp_path / "config.toml").write_text(
        '[providers.lab]\nbase_url = "http://127.0.0.1:8001/v1"\napi_key_env = "LAB_KEY"\nmodel = "qwen"\n',
        encoding="utf-8",
    )
    record_models(tmp_path, "01K2LAB1", "lab")
    (tmp_path / "config.toml").write_text(
        '[providers.lab]\nbase_url = "http://127.0.0.1:8002/v1"\napi_key_env = "LAB_KEY"\nmodel = "qwen"\n',
        encoding="utf-8",
    )
    record_models(tmp_path, "01K2LAB2", "lab")
    data = json.loads(diff_cli(monkeypatch, tmp_path, "01K2LAB1", "01K2LAB2", "--json").output)
    moved = {s["key"]: (s["a"], s["b"]) for s in data["settings"]}
    urls = ("http://127.0.0.1:8001/v1", "http://127.0.0.1:8002/v1")
    assert moved["providers.lab.base_url"] == urls
    assert all(moved[f"models.{agent}.base_url"] == urls for agent in AGENTS)
    # From the local server to the user's server: the base URL is a difference too.
    data = json.loads(diff_cli(monkeypatch, tmp_path, "01K2LOCAL1", "01K2LAB1", "--json").output)
    moved = {s["key"]: (s["a"], s["b"]) for s in data["settings"]}
    assert moved["models.writer.base_url"] == ("http://127.0.0.1:41209/v1", urls[0])

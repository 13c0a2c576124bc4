"""`ribao prompts`: list, show, edit, diff, reset, check; and the catalogue against what the agents render."""

from __future__ import annotations

import asyncio
import shlex
import sys
from pathlib import Path
from typing import Any

import pytest
import typer
from pydantic import BaseModel
from typer.testing import CliRunner, Result

from ribao.agents.prompt_samples import sample_variables
from ribao.app.services import Services
from ribao.app.write import write_day
from ribao.commands.prompts import prompts_app
from ribao.prompts import PACKAGE_DIR, PromptLibrary
from ribao.prompts.check import check_prompts, prompt_files
from ribao.registry import PROMPTS
from ribao.runs.trace import Tracer
from ribao.settings import MemorySettings, Settings
from tests.support.fakes import ScriptedChatModel, default_responder, valid_args

app = typer.Typer()
app.add_typer(prompts_app, name="prompts")

NOTABLE = "writer/notable.md.j2"
APPENDED = "请保持简洁。"


@pytest.fixture(autouse=True)
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("RIBAO_HOME", str(tmp_path / "home"))
    monkeypatch.delenv("VISUAL", raising=False)
    return tmp_path / "home"


@pytest.fixture
def user(home: Path) -> Path:
    return home / "prompts"


def invoke(*args: str, input: str | None = None) -> Result:
    return CliRunner().invoke(app, ["prompts", *args], input=input, catch_exceptions=False)


def override(user: Path, rel: str, text: str) -> Path:
    path = user / rel
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def sources(output: str) -> dict[str, str]:
    """Map ``agent/file`` to the source column of `prompts list`."""
    rows = [line.split() for line in output.splitlines()[1:]]
    return {f"{agent}/{file}": source for agent, file, source, _ in rows}


def test_list_shows_default_then_user_after_an_override(user: Path) -> None:
    before = invoke("list")
    assert before.exit_code == 0
    assert before.output.splitlines()[0].split() == ["agent", "file", "source", "sha256"]
    listed = sources(before.output)
    assert set(listed) == {f.rel for f in prompt_files()} and set(listed.values()) == {"default"}

    override(user, NOTABLE, "一句话：{{ paper.title }}\n")
    after = sources(invoke("list").output)
    assert after[NOTABLE] == "user"
    assert {k for k, v in after.items() if v == "default"} == set(listed) - {NOTABLE}


def test_show_prints_the_user_text_when_overridden(user: Path) -> None:
    default = (PACKAGE_DIR / NOTABLE).read_text(encoding="utf-8")
    assert invoke("show", "writer", "notable").output == default
    override(user, NOTABLE, "一句话：{{ paper.title }}\n")
    assert invoke("show", "writer", "notable.md.j2").output == "一句话：{{ paper.title }}\n"
    assert invoke("show", "writer/notable").output == "一句话：{{ paper.title }}\n"
    whole = invoke("show", "writer").output
    assert f"==> {NOTABLE} (user: {user / NOTABLE}) <==" in whole
    assert "==> writer/system.md.j2 (default:" in whole


def editor_script(tmp_path: Path) -> str:
    script = tmp_path / "editor.py"
    script.write_text(
        f"import sys\nwith open(sys.argv[1], 'a', encoding='utf-8') as f:\n"
        f"    f.write({APPENDED!r} + '\\n')\n",
        encoding="utf-8",
    )
    return f"{shlex.quote(sys.executable)} {shlex.quote(str(script))}"


def test_edit_copies_the_default_then_runs_the_editor(
    user: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("EDITOR", editor_script(tmp_path))
    result = invoke("edit", "writer", "notable")
    assert result.exit_code == 0
    default = (PACKAGE_DIR / NOTABLE).read_text(encoding="utf-8")
    assert (user / NOTABLE).read_text(encoding="utf-8") == default + APPENDED + "\n"
    # A second edit keeps the user's copy instead of copying the default again.
    invoke("edit", "writer/notable.md.j2")
    assert (user / NOTABLE).read_text(encoding="utf-8") == default + 2 * (APPENDED + "\n")


def test_edit_needs_one_file_and_a_working_editor(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    result = invoke("edit", "writer")
    assert result.exit_code == 1
    assert "name one file of writer to edit; known: must_read, notable, system" in result.output
    monkeypatch.setenv("EDITOR", str(tmp_path / "no-such-editor"))
    result = invoke("edit", "writer", "system")
    assert result.exit_code == 1 and "not found; set $EDITOR" in result.output


def test_diff_shows_the_change_and_reset_removes_it(user: Path, tmp_path: Path) -> None:
    assert invoke("diff", "writer").output == ""
    path = override(user, NOTABLE, (PACKAGE_DIR / NOTABLE).read_text(encoding="utf-8") + APPENDED + "\n")
    out = invoke("diff", "writer", "notable").output.splitlines()
    assert out[0] == f"--- {PACKAGE_DIR / NOTABLE}" and out[1] == f"+++ {path}"
    assert f"+{APPENDED}" in out and not [line for line in out[3:] if line.startswith("-")]

    assert invoke("reset", "writer", "notable", input="n\n").exit_code == 1  # declined: aborted
    assert path.exists()
    result = invoke("reset", "writer", "notable", "--yes")
    assert result.exit_code == 0 and f"removed {path}" in result.output
    assert not path.exists()
    assert invoke("diff", "writer").output == ""
    assert "nothing to reset" in invoke("reset", "writer", "--yes").output


def test_unknown_agent_or_file_names_the_known_ones() -> None:
    result = invoke("show", "reviewer")
    assert result.exit_code == 1
    assert (
        result.output.strip()
        == "ribao: error: unknown agent 'reviewer'; known: screener, critic, writer, editor"
    )
    result = invoke("diff", "writer", "summary")
    assert result.exit_code == 1
    assert "writer/must_read.md.j2, writer/notable.md.j2, writer/system.md.j2" in result.output


def test_check_passes_on_the_package_defaults() -> None:
    result = invoke("check")
    assert result.exit_code == 0
    assert result.output.strip() == f"{len(prompt_files())} prompt files OK"


def test_check_names_file_line_and_variable_of_an_unknown_variable(user: Path) -> None:
    path = override(
        user, NOTABLE, "标题：{{ paper.title }}\n{% if paper.comment %}{{ nonsense }}{% endif %}\n"
    )
    result = invoke("check")
    assert result.exit_code == 1
    # Found although the sample paper has no comment: names are checked statically too.
    assert f"{path}:2: 'nonsense' is undefined (variables of this file: fulltext, paper)" in result.output
    assert "1 problem(s)" in result.output


def test_check_names_an_unknown_attribute_with_its_line(user: Path) -> None:
    path = override(
        user, "critic/user.md.j2", "第 {{ round }} 轮\n{% for p in picks %}\n{{ p.score }}{% endfor %}\n"
    )
    problems = check_prompts(PromptLibrary(user_dir=user), sample_variables())
    assert [(p.path, p.line, p.variable) for p in problems] == [(path, 3, "score")]
    assert "has no attribute 'score'" in problems[0].message


def test_check_reports_a_syntax_error_and_a_stray_file(user: Path) -> None:
    path = override(user, "editor/user.md.j2", "日期：{{ date }}\n{% for item in items %}\n")
    stray = override(user, "writer/mustread.md.j2", "{{ paper.title }}\n")
    result = invoke("check")
    assert result.exit_code == 1
    lines = result.stdout.splitlines()
    assert any(line.startswith(f"{path}:2: syntax error: ") for line in lines), lines
    assert f"{stray}: overrides no packaged prompt file, so ribao never reads it" in lines
    assert sources(invoke("list").output)["writer/mustread.md.j2"] == "unused"


def test_prompts_dir_option_replaces_the_home_folder(user: Path, tmp_path: Path) -> None:
    other = tmp_path / "elsewhere"
    override(other, NOTABLE, "{{ nonsense }}\n")
    assert invoke("check").exit_code == 0
    result = invoke("check", "--prompts-dir", str(other))
    assert result.exit_code == 1 and "'nonsense' is undefined" in result.output


def test_the_registry_lists_every_packaged_file_and_the_samples_its_variables() -> None:
    packaged = {p.relative_to(PACKAGE_DIR).as_posix() for p in PACKAGE_DIR.glob("*/*.md.j2")}
    assert {f.rel for f in prompt_files()} == set(PROMPTS) == packaged
    assert len(prompt_files()) == 13
    samples = sample_variables()
    assert {rel: set(v) for rel, v in samples.items()} == {rel: p.variables for rel, p in PROMPTS.items()}


def test_the_library_renders_only_what_the_registry_lists() -> None:
    """A renderer passing a variable the registry does not list, or leaving one out, is refused."""
    library = PromptLibrary()
    paper = sample_variables()[NOTABLE]["paper"]
    assert paper.title in library.render("writer", "notable", paper=paper, fulltext=None)
    with pytest.raises(TypeError, match=r"does not list \['tone'\], without listed none"):
        library.render("writer", "notable", paper=paper, fulltext=None, tone="brief")
    with pytest.raises(TypeError, match=r"does not list none, without listed \['fulltext'\]"):
        library.render("writer", "notable", paper=paper)
    with pytest.raises(TypeError, match="not in the agent registry"):
        library.render("writer", "haiku", paper=paper)
    with pytest.raises(TypeError, match="filters"):
        library.render_file("editor/user.md.j2", filters={"md_inline": str}, date="2026-02-18", items=[])
    assert list(library.used) == [NOTABLE]


def shape(value: Any) -> Any:
    """The structure a template can see: dict keys, list element shape, model class; scalars are alike."""
    if value is None:
        return None
    if isinstance(value, dict):
        return {k: shape(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [shape(value[0])] if value else []
    if isinstance(value, BaseModel):
        return type(value).__name__
    return "value"


def agree(real: Any, sample: Any) -> bool:
    """Whether two shapes match; an empty list (no flags in this run) matches any list, None (no profile
    in this run) anything."""
    if real is None or sample is None:
        return True
    if isinstance(real, list) and isinstance(sample, list):
        return not real or not sample or agree(real[0], sample[0])
    if isinstance(real, dict) and isinstance(sample, dict):
        return real.keys() == sample.keys() and all(agree(real[k], sample[k]) for k in real)
    return bool(real == sample)


def test_the_catalogue_matches_what_the_agents_render(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Run the graph with scripted models; every file the agents render gets the catalogue's variables."""
    seen: dict[str, list[dict[str, Any]]] = {}

    class Recording(PromptLibrary):
        def render_file(self, rel: str, *, filters: dict[str, Any] | None = None, **variables: Any) -> str:
            seen.setdefault(rel, []).append(variables)
            return super().render_file(rel, filters=filters, **variables)

    rounds: list[int] = []

    def critic(name: str, schema: dict[str, Any], messages: list[Any]) -> dict[str, Any]:
        args = valid_args(schema)
        rounds.append(1)
        first = next(iter(args))
        decision = "replace" if len(rounds) == 1 else "keep"  # one revise, so rank sees a critique
        args[first] = {**args[first], "decision": decision}
        return args

    settings = Settings(
        home=tmp_path / "home",
        source=str(PACKAGE_DIR.parent / "data" / "2026-02-18.cs.jsonl"),
        out_dir=tmp_path / "out",
        memory=MemorySettings(embedder="hash", enabled=False),
    )
    models = {
        agent: ScriptedChatModel(responder=critic if agent == "critic" else default_responder)
        for agent in ("screener", "critic", "writer", "editor")
    }
    prompts = Recording(user_dir=settings.prompts_folder)
    asyncio.run(write_day(Services(settings, models, prompts=prompts), None, tracer=Tracer(quiet=True)))

    samples = sample_variables()
    assert set(seen) == set(samples) == set(PROMPTS)
    for rel, calls in seen.items():
        for variables in calls:
            assert set(variables) == PROMPTS[rel].variables, rel
            assert agree(shape(variables), shape(samples[rel])), rel
    assert any(call["critique"] for call in seen["screener/rank.md.j2"])


@pytest.mark.parametrize(
    "command",
    [
        ["run", "--source", "listing.jsonl", "--prompts-dir", "{missing}"],
        ["replay", "latest", "--agent", "writer", "--prompts-dir", "{missing}"],
        ["prompts", "list", "--prompts-dir", "{missing}"],
    ],
    ids=["run", "replay", "prompts-list"],
)
def test_a_prompts_dir_that_does_not_exist_is_bad_usage(tmp_path: Path, command: list[str]) -> None:
    from ribao.cli import app as cli

    missing = tmp_path / "no-such-folder"
    result = CliRunner().invoke(cli, [a.format(missing=missing) for a in command], catch_exceptions=False)
    assert result.exit_code == 2
    assert result.output.splitlines() == [
        f"ribao: error: --prompts-dir {missing}: no such folder "
        "(create it, or copy a prompt there with `ribao prompts edit`)"
    ]


def test_a_prompts_dir_in_config_that_does_not_exist_is_an_error(home: Path, tmp_path: Path) -> None:
    from ribao.cli import app as cli

    home.mkdir()
    (home / "config.toml").write_text(f'prompts_dir = "{tmp_path / "gone"}"\n', encoding="utf-8")
    result = CliRunner().invoke(cli, ["run", "--source", "listing.jsonl"], catch_exceptions=False)
    assert result.exit_code == 1
    assert result.output.startswith(f"ribao: error: prompts_dir {tmp_path / 'gone'}: no such folder")


def test_edit_writes_where_the_run_reads_with_prompts_dir_in_config(
    home: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from ribao.settings import load_settings

    mine = tmp_path / "my-prompts"
    mine.mkdir()
    home.mkdir()
    (home / "config.toml").write_text(
        f'prompts_dir = "{mine}"\nmax_critic_rounds = 1\n[memory]\nenabled = false\n', encoding="utf-8"
    )
    monkeypatch.setenv("EDITOR", editor_script(tmp_path))
    assert invoke("edit", "writer", "notable").exit_code == 0
    assert (mine / NOTABLE).read_text(encoding="utf-8").endswith(APPENDED + "\n")

    first40 = Path(__file__).parent / "data" / "2026-02-19.first40.jsonl"
    settings = load_settings(source=str(first40), out_dir=tmp_path / "out")
    writer = ScriptedChatModel(responder=default_responder)
    models = {a: ScriptedChatModel(responder=default_responder) for a in ("screener", "critic", "editor")}
    asyncio.run(write_day(Services(settings, {**models, "writer": writer}), None, tracer=Tracer(quiet=True)))
    notables = writer.calls_for("NotableOutput")
    assert notables and all(APPENDED in r["messages"][-1] for r in notables)

"""`ribao config show` (origins: flag, env, file, default) and `ribao graph` (Mermaid)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import typer
from typer.testing import CliRunner, Result

from ribao.commands.config import config_app, graph, parse_assignments
from ribao.masking import MASK, mask_value
from ribao.registry import NODES
from ribao.settings_sources import explain_settings

app = typer.Typer()
app.add_typer(config_app, name="config")
app.command("graph")(graph)


@pytest.fixture(autouse=True)
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    for name in list(os.environ):
        if name.upper().startswith("RIBAO_"):
            monkeypatch.delenv(name)
    home = tmp_path / "home"
    home.mkdir()
    (home / "config.toml").write_text(
        'must_read = 4\nllm = "qwen"\n[memory]\nembedder = "hash"\n[agents.writer]\nmodel = "qwen-max"\n',
        encoding="utf-8",
    )
    monkeypatch.setenv("RIBAO_HOME", str(home))
    monkeypatch.setenv("RIBAO_LLM", "deepseek")
    monkeypatch.setenv("RIBAO_MEMORY__URL", "http://admin:hunter2@127.0.0.1:8000")
    return home


def invoke(*args: str) -> Result:
    return CliRunner().invoke(app, list(args), catch_exceptions=False)


def by_key(output: str) -> dict[str, dict[str, Any]]:
    return {row["key"]: row for row in json.loads(output)}


def test_config_show_reports_each_origin(home: Path) -> None:
    result = invoke("config", "show", "--json", "--set", "must_read=5", "--set", "memory.enabled=false")
    assert result.exit_code == 0
    rows = by_key(result.output)
    toml = str(home / "config.toml")
    assert (rows["must_read"]["value"], rows["must_read"]["label"]) == (5, "flag")  # flag beats the file
    assert (rows["memory.enabled"]["value"], rows["memory.enabled"]["origin"]) == (False, "flag")
    assert (rows["llm"]["value"], rows["llm"]["label"]) == (
        "deepseek",
        "env (RIBAO_LLM)",
    )  # env beats the file
    assert rows["home"]["label"] == "env (RIBAO_HOME)"
    assert (rows["memory.embedder"]["value"], rows["memory.embedder"]["label"]) == ("hash", f"file ({toml})")
    assert rows["agents.writer.model"]["label"] == f"file ({toml})"
    assert rows["agents.writer.max_tokens"]["origin"] == "default"
    assert (rows["notable"]["value"], rows["notable"]["label"]) == (10, "default")
    assert rows["arxiv.retries"]["origin"] == "default"


def test_config_show_table_masks_url_passwords(home: Path) -> None:
    lines = invoke("config", "show").output.splitlines()
    url = next(line for line in lines if line.startswith("memory.url "))
    assert url.split() == [
        "memory.url",
        f'"http://admin:{MASK}@127.0.0.1:8000"',
        "env",
        "(RIBAO_MEMORY__URL)",
    ]
    assert "hunter2" not in "\n".join(lines)
    embedder = next(line for line in lines if line.startswith("memory.embedder "))
    assert embedder.split()[-2:] == ["file", f"({home / 'config.toml'})"]


def test_secret_looking_keys_and_values_are_masked() -> None:
    assert mask_value("api_key", "abc") == MASK
    assert mask_value("auth_token", "abc") == MASK and mask_value("ssh_key", "abc") == MASK
    assert mask_value("api_key_env", "OPENAI_API_KEY") == "OPENAI_API_KEY"
    assert mask_value("max_tokens", 3072) == 3072 and mask_value("monkey", "banana") == "banana"
    assert mask_value("source", "sk-abcdefghijklmnopqrstuvwx") == MASK
    assert mask_value("source", "see pk-abcdefghijkl12") == f"see {MASK}"
    assert mask_value("api_key", "") == ""  # unset: nothing to hide


def test_invalid_settings_fail_in_one_line(home: Path) -> None:
    result = invoke("config", "show", "--set", "must_read=99")
    assert result.exit_code == 2  # a flag's value: bad usage
    assert (
        result.output.strip()
        == "ribao: error: invalid settings: must_read: Input should be less than or equal to 10"
    )
    (home / "config.toml").write_text("must_read = [\n", encoding="utf-8")
    result = invoke("config", "show")
    assert result.exit_code == 1 and "config.toml" in result.output


def test_parse_assignments_nests_dotted_keys_and_reads_json() -> None:
    flags = parse_assignments(["memory.embedder=hash", "must_read=5", 'categories=["cs.CL"]', "llm=local"])
    assert flags == {"memory": {"embedder": "hash"}, "must_read": 5, "categories": ["cs.CL"], "llm": "local"}
    assert explain_settings(flags)[1].key == "categories"


def test_graph_prints_mermaid_with_every_node() -> None:
    result = invoke("graph")
    assert result.exit_code == 0
    out = result.output
    assert out.startswith("---\nconfig:") and "\ngraph TD;\n" in out
    for node in NODES:
        assert f"\t{node}(" in out, node
    assert "critique_picks -.-> flag_near_duplicates;" in out
    assert "flag_near_duplicates --> rank_papers;" in out


@pytest.mark.parametrize(
    ("toml", "expected"),
    [
        ("must_reed = 5\n", "unknown setting 'must_reed' (did you mean 'must_read'?)"),
        ("[fulltxt]\nenabled = false\n", "unknown setting 'fulltxt'"),
        (
            "[memory]\nembeder = 'hash'\n",
            "unknown setting 'memory.embeder' (did you mean 'memory.embedder'?)",
        ),
        (
            "[providers.mine]\nbase_ur = 'http://x'\n",
            "'providers.mine.base_ur' (did you mean 'providers.mine.base_url'?)",
        ),
    ],
)
def test_unknown_config_keys_are_errors_naming_key_file_and_nearest(
    home: Path, toml: str, expected: str
) -> None:
    (home / "config.toml").write_text(toml, encoding="utf-8")
    result = invoke("config", "show")
    assert result.exit_code == 1
    [line] = result.output.strip().splitlines()
    assert str(home / "config.toml") in line and expected in line


def test_valid_keys_come_from_the_settings_models(home: Path) -> None:
    from ribao.settings import Settings
    from ribao.settings_check import unknown_keys

    valid = {"must_read": 3, "arxiv": {"endpoint": "x"}, "holidays": [], "agents": {"critic": {"model": "m"}}}
    assert list(unknown_keys(valid, Settings)) == []


def test_unknown_env_names_the_nearest_variable_and_walks_nested_keys() -> None:
    from ribao.settings import Settings
    from ribao.settings_check import unknown_env

    environ = {
        "RIBAO_MUST_READ": "3",
        "RIBAO_FULLTEXT__ENABLED": "false",
        "RIBAO_AGENTS__WRITER__MODEL": "qwen-max",  # a [agents.NAME] table takes any name
        "RIBAO_PROVIDERS__MINE__BASE_URL": "http://x",
        "ribao_llm": "qwen",  # read case-insensitively, as pydantic-settings does
        "OTHER_MUST_REED": "5",
        "RIBAO_MUST_REED": "5",
        "RIBAO_FULLTXT__ENABLED": "true",
        "RIBAO_PROVIDERS__MINE__BASEURL": "http://x",
        "RIBAO_MUST_READ__X": "1",
    }
    assert dict(unknown_env(environ, Settings)) == {
        "RIBAO_MUST_REED": "RIBAO_MUST_READ",
        "RIBAO_FULLTXT__ENABLED": "RIBAO_FULLTEXT__ENABLED",
        "RIBAO_PROVIDERS__MINE__BASEURL": "RIBAO_PROVIDERS__MINE__BASE_URL",
        "RIBAO_MUST_READ__X": None,
    }


def test_a_mistyped_env_variable_is_one_warning_line_and_the_command_goes_on(home: Path) -> None:
    env = {**os.environ, "RIBAO_MUST_REED": "5", "RIBAO_FULLTEXT__ENABLED": "false", "RIBAO_QQQQQ": "1"}
    done = subprocess.run(
        [sys.executable, "-m", "ribao", "config", "show", "--json"], env=env, capture_output=True, text=True
    )
    assert done.returncode == 0
    assert done.stderr.splitlines() == [
        "ribao: warning: RIBAO_MUST_REED matches no setting; did you mean RIBAO_MUST_READ?",
        "ribao: warning: RIBAO_QQQQQ matches no setting",
    ]
    assert by_key(done.stdout)["must_read"]["value"] == 4  # config.toml's value, the typo set nothing

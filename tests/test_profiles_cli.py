"""`ribao profile list | show NAME` and `ribao run --profile NAME` on bad names and keys."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from ribao.cli import app
from tests.support.profiles import PROFILE_DATA
from tests.support.samples import sample_listing

CONFIG = f"""
[profiles.robots]
interests = "机器人学习：灵巧操作"
keywords = ["robot learning", "robotic manipulation"]
seed_papers = ["2602.13718", "2602.15010"]
library = "{PROFILE_DATA / "library.bib"}"
authors = ["Zhenchen Dong"]
floor = 0.4

[profiles.speech]
interests = "speech recognition, spoken dialogue"
"""


@pytest.fixture
def home(ribao_home: Path) -> Path:
    (ribao_home / "config.toml").write_text(CONFIG, encoding="utf-8")
    return ribao_home


def test_profile_list_names_each_reader(home: Path) -> None:
    out = CliRunner().invoke(app, ["profile", "list"])
    assert out.exit_code == 0, out.output
    lines = out.output.splitlines()
    assert (
        lines[0].startswith("robots") and "机器人学习：灵巧操作" in lines[0] and "2 seed papers" in lines[0]
    )
    assert lines[1].startswith("speech") and "0 seed papers" in lines[1]


def test_profile_list_without_profiles_says_the_default_applies(ribao_home: Path) -> None:
    out = CliRunner().invoke(app, ["profile", "list"])
    assert out.exit_code == 0 and "default editorial stance" in out.output


def test_profile_show_prints_what_the_profile_resolves_to(home: Path) -> None:
    out = CliRunner().invoke(app, ["profile", "show", "robots"])
    assert out.exit_code == 0, out.output
    assert "keywords (set in the profile): robot learning, robotic manipulation" in out.output
    assert "seed papers: 2 found of 2" in out.output
    assert "2602.15010  BPP: Long-Context Robot Imitation Learning" in out.output
    assert f"library: 3 papers in {PROFILE_DATA / 'library.bib'}" in out.output
    assert "relevance weight 0.5, floor 0.4" in out.output
    speech = CliRunner().invoke(app, ["profile", "show", "speech"])
    assert "keywords (the interests as written): speech recognition, spoken dialogue" in speech.output


@pytest.mark.parametrize("argv", [["profile", "show", "nobody"], ["run", "--profile", "nobody"]])
def test_an_unknown_profile_lists_the_known_ones(home: Path, argv: list[str]) -> None:
    out = CliRunner().invoke(app, [*argv, *(["--source", str(sample_listing())] if argv[0] == "run" else [])])
    assert out.exit_code == 2
    known = "default, robots, speech, example"
    assert out.output.strip() == f"ribao: error: unknown profile 'nobody'; known: {known}"


def test_a_broken_library_stops_the_run_before_it_starts(home: Path) -> None:
    config = CONFIG.replace("library.bib", "broken.bib")
    (home / "config.toml").write_text(config, encoding="utf-8")
    out = CliRunner().invoke(app, ["profile", "show", "robots"])
    assert out.exit_code == 1
    assert (
        out.output.strip()
        == f"ribao: error: library {PROFILE_DATA / 'broken.bib'}:16: unbalanced braces in a BibTeX entry"
    )


def test_an_unknown_key_in_a_profile_is_an_error(home: Path) -> None:
    (home / "config.toml").write_text(CONFIG + 'intrests = "typo"\n', encoding="utf-8")
    out = CliRunner().invoke(app, ["profile", "list"])
    assert out.exit_code != 0 and "intrests" in out.output


def test_profile_show_counts_the_feedback_relevance_reads(home: Path) -> None:
    for argv in (["like", "2602.15010"], ["not-interested", "2602.14099"], ["dislike", "2602.13718"]):
        given = CliRunner().invoke(app, ["feedback", *argv, "--profile", "robots"])
        assert given.exit_code == 0, given.output
    out = CliRunner().invoke(app, ["profile", "show", "robots"])
    assert "feedback: 1 liked, 2 disliked or not interested" in out.output


def test_the_demos_reader_is_known_without_configuring_it(ribao_home: Path) -> None:
    """After `ribao demo` a newcomer can look into the reader it wrote for; looking creates nothing."""
    out = CliRunner().invoke(app, ["profile", "show", "example"])
    assert out.exit_code == 0, out.output
    assert "keywords (set in the profile): robot learning" in out.output
    assert "seed papers: 4 found of 4" in out.output
    assert list(ribao_home.iterdir()) == []  # no feedback.sqlite for a read
    listed = CliRunner().invoke(app, ["profile", "list"])
    assert "`ribao profile show example` shows the demo's bundled reader" in listed.output
    given = CliRunner().invoke(app, ["feedback", "like", "2602.15827", "--profile", "example"])
    assert given.exit_code == 0, given.output
    shown = CliRunner().invoke(app, ["feedback", "list", "--profile", "example", "--json"])
    assert "2602.15827" in shown.output


def test_a_configured_example_profile_replaces_the_bundled_one(ribao_home: Path) -> None:
    (ribao_home / "config.toml").write_text('[profiles.example]\ninterests = "speech"\n', encoding="utf-8")
    out = CliRunner().invoke(app, ["profile", "show", "example"])
    assert out.exit_code == 0 and "interests: speech" in out.output
    assert "seed papers: 0 found of 0" in out.output

"""`ribao site build --out DIR` never costs the user a file: an --out that is, holds or sits in the
digests or home folder, the current folder, or a folder with files the site did not write is refused
(exit status 2, one line); an earlier site is rebuilt; a failed build leaves the old site as it was."""

from __future__ import annotations

import datetime as dt
import errno
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from ribao.cli import app
from tests.support.digests import write_day

DAYS = [dt.date(2026, 2, 18), dt.date(2026, 2, 19)]


@pytest.fixture(autouse=True)
def cwd(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Work in a temporary folder: out_dir's default `digests` is relative to it."""
    monkeypatch.chdir(tmp_path)
    return tmp_path


def snapshot(folder: Path) -> dict[str, bytes]:
    """Every file under `folder` (relative name -> bytes)."""
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def digests(folder: Path, days: list[dt.date] = DAYS) -> Path:
    for day in days:
        write_day(folder, day)
    return folder


def site(*args: str) -> Any:
    return CliRunner().invoke(app, ["site", "build", *args])


def refused(result: Any, words: str) -> None:
    """Exit status 2 (bad usage), one `ribao: error:` line naming the reason, no traceback."""
    assert result.exit_code == 2, result.output
    assert isinstance(result.exception, SystemExit)
    lines = result.output.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("ribao: error: --out") and words in lines[0], lines


def test_an_out_that_is_the_digests_folder_is_refused_and_keeps_every_digest(cwd: Path) -> None:
    folder = digests(cwd / "outcopy")
    before = snapshot(folder)
    assert len([n for n in before if n.endswith((".md", ".json"))]) == 4
    refused(site("--out", "outcopy", "--digests", "outcopy"), "is the digests folder")
    refused(site("--out", "outcopy", "--digests", "outcopy", "--force"), "is the digests folder")
    assert snapshot(folder) == before


def test_an_out_holding_the_configured_digests_folder_is_refused(
    cwd: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    project = cwd / "project"
    digests(project / "digests")
    (project / "notes.md").write_text("my notes", encoding="utf-8")
    monkeypatch.setenv("RIBAO_OUT_DIR", str(project / "digests"))
    before = snapshot(project)
    refused(site("--out", "project"), "contains the digests folder")
    refused(site("--out", "project", "--force"), "contains the digests folder")
    refused(site("--out", "project/digests/site"), "is inside the digests folder")
    assert snapshot(project) == before


@pytest.mark.parametrize(
    "where, words",
    [
        ("home", "is the home folder"),
        ("home/site", "is inside the home folder"),
        ("", "contains the home folder"),
    ],
)
def test_an_out_at_the_home_folder_is_refused(
    cwd: Path, where: str, words: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    home = cwd / "elsewhere" / "home"
    home.mkdir(parents=True)
    (home / "config.toml").write_text("must_read = 3\n", encoding="utf-8")
    monkeypatch.setenv("RIBAO_HOME", str(home))
    digests(cwd / "digests")
    before = snapshot(home)
    refused(site("--out", str(cwd / "elsewhere" / where)), words)
    assert snapshot(home) == before


def test_out_dot_is_refused_in_one_line(cwd: Path) -> None:
    digests(cwd / "digests")
    (cwd / "README.md").write_text("my project", encoding="utf-8")
    before = snapshot(cwd)
    refused(site("--out", "."), "is the current folder")
    refused(site("--out", ".."), "contains the current folder")
    assert snapshot(cwd) == before


def test_a_folder_with_files_the_site_did_not_write_is_named_and_kept_unless_forced(cwd: Path) -> None:
    digests(cwd / "digests")
    www = cwd / "www"
    (www / "drafts").mkdir(parents=True)
    (www / "notes.txt").write_text("mine", encoding="utf-8")
    (www / "index.html").write_text("my own page", encoding="utf-8")
    before = snapshot(www)
    result = site("--out", "www")
    refused(result, "holds files the site did not write: drafts/, index.html, notes.txt")
    assert "--force" in result.output
    assert snapshot(www) == before
    forced = site("--out", "www", "--force")
    assert forced.exit_code == 0, forced.output
    site_files = [
        ".nojekyll",
        ".ribao-site.json",
        "2026-02-18.html",
        "2026-02-19.html",
        "feed.xml",
        "index.html",
    ]
    assert sorted(p.name for p in www.iterdir()) == [*site_files, "search.json"]


def test_a_site_an_earlier_build_wrote_is_rebuilt_and_a_file_added_since_is_named(cwd: Path) -> None:
    folder = digests(cwd / "digests", DAYS[:1])
    first = site("--out", "site")
    assert first.exit_code == 0, first.output
    digests(folder, DAYS[1:])
    again = site("--out", "site")
    assert again.exit_code == 0, again.output
    assert "2 day(s)" in again.output and (cwd / "site" / "2026-02-19.html").is_file()
    assert sorted(p.name for p in cwd.iterdir()) == ["digests", "site"]  # nothing left beside it
    (cwd / "site" / "CNAME").write_text("digest.example.org", encoding="utf-8")
    refused(site("--out", "site"), "holds files the site did not write: CNAME")
    assert (cwd / "site" / "CNAME").read_text(encoding="utf-8") == "digest.example.org"


def test_a_failed_build_leaves_the_old_site_intact_and_nothing_beside_it(
    cwd: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    digests(cwd / "digests")
    assert site("--out", "site").exit_code == 0
    before = snapshot(cwd / "site")
    import ribao.delivery.site as site_module

    pages = []
    real = site_module.render_page

    def disk_full_on_the_second_page(*args: Any, **kwargs: Any) -> str:
        pages.append(1)
        if len(pages) == 2:
            raise OSError(errno.ENOSPC, "No space left on device")
        return real(*args, **kwargs)

    monkeypatch.setattr(site_module, "render_page", disk_full_on_the_second_page)
    result = site("--out", "site")
    assert result.exit_code == 1 and isinstance(result.exception, SystemExit), result.output
    [line] = result.output.strip().splitlines()
    assert line.startswith("ribao: error: cannot write the site") and "No space left" in line
    assert snapshot(cwd / "site") == before
    assert sorted(p.name for p in cwd.iterdir()) == ["digests", "site"]

"""Every github-links.jsonl case gives its clean code link through a listing and ``ribao fetch --json``."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from ribao.cli import app
from ribao.sources import read_listing
from ribao.sources.options import ListingOptions
from tests.support.links import LINKS, expected_code_url

DAY = "2026-02-18"


def case_id(number: int) -> str:
    return f"2699.{number:05d}"


@pytest.fixture(scope="module")
def listing_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Return a JSONL listing with one paper per case: the context as its abstract or comment."""
    lines = []
    for number, case in enumerate(LINKS, start=1):
        in_abstract = case["field"] == "abstract"
        lines.append(
            {
                "id": case_id(number),
                "title": f"Case {number} ({case['id']})",
                "authors": ["A. Author"],
                "abstract": case["context"] if in_abstract else "We study a problem.",
                "comment": None if in_abstract else case["context"],
                "categories": ["cs.CL"],
                "announced": DAY,
            }
        )
    path = tmp_path_factory.mktemp("links") / "links.jsonl"
    path.write_text("".join(json.dumps(line) + "\n" for line in lines), encoding="utf-8")
    return path


def expected() -> dict[str, str | None]:
    return {case_id(n): expected_code_url(case["raw"]) for n, case in enumerate(LINKS, start=1)}


def test_read_listing_gives_every_clean_link(listing_file: Path) -> None:
    listing = read_listing(ListingOptions(str(listing_file), categories=["cs.CL"]), None)
    got = {p.arxiv_id: p.code_url for p in listing.papers}
    assert len(got) == len(LINKS) == 352
    assert got == expected()
    assert sum(url is None for url in got.values()) == 4  # the bare domain and three accounts


def test_fetch_json_prints_every_clean_link(
    listing_file: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("RIBAO_HOME", str(tmp_path / "home"))
    result = CliRunner().invoke(
        app,
        ["fetch", "--source", str(listing_file), "--categories", "cs.CL", "--json"],
        catch_exceptions=False,
    )
    assert result.exit_code == 0, result.output
    rows = [json.loads(line) for line in result.output.splitlines()]
    assert {row["id"]: row["code_url"] for row in rows} == expected()
    bare = next(
        row for row in rows if row["comment"] is None and "available on github.com." in row["abstract"]
    )
    assert bare["code_url"] is None

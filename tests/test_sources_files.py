"""Listings read from files: the real JSONL day and recorded Atom responses (ribao.sources)."""

from __future__ import annotations

import datetime as dt
import json
import shutil
from pathlib import Path

import pytest

from ribao.errors import ListingError, NoAnnouncement
from ribao.sources import paper_to_json, read_listing
from ribao.sources.files import parse_listing, read_file
from ribao.sources.options import ListingOptions
from ribao.sources.records import select

REPO = Path(__file__).resolve().parents[1]
DAY = REPO / "ribao" / "data" / "2026-02-18.cs.jsonl"
ATOM = Path(__file__).parent / "data" / "atom"
OLD_FORMAT = ATOM / "arxivpy_api2016_id_list=1111.2011v2.xml"
SINGLE = ATOM / "arxivpy_api_id_1605.08386_s0_m100_199195aa31ad.xml"
MANY_AUTHORS = ATOM / "arxivpy_api_id_1707.08567_s0_m100_6a1afebfc6a3.xml"
ERROR_400 = ATOM / "arxivpy_api_id_abc_s0_m100_b79c8dcf6bc3.xml"
EMPTY = ATOM / "arxivpy_api_id_0000.0000_s0_m100_8b51d9633a68.xml"
MOJIBAKE = ATOM / "arxivpy_api_q_testing_s0_m100_cfe7536492ca.xml"
OUR_CATS = ["cs.CL", "cs.AI", "cs.LG"]


@pytest.fixture(scope="module")
def day_listing():
    return read_listing(ListingOptions(str(DAY), categories=OUR_CATS), None)


def test_real_day_reads_every_paper_with_its_date(day_listing) -> None:
    assert day_listing.date == dt.date(2026, 2, 18)
    assert day_listing.origin == str(DAY)
    assert len(day_listing.papers) == 180
    assert len({p.arxiv_id for p in day_listing.papers}) == 180
    assert all(p.announced == dt.date(2026, 2, 18) for p in day_listing.papers)
    assert all("v" not in p.arxiv_id for p in day_listing.papers)


def test_glm5_keeps_all_187_authors_and_its_code_link(day_listing) -> None:
    glm5 = next(p for p in day_listing.papers if p.arxiv_id == "2602.15763")
    assert len(glm5.authors) == 187
    assert glm5.authors[:3] == ["GLM-5 Team", ":", "Aohan Zeng"]
    assert glm5.code_url == "https://github.com/zai-org/GLM-5"
    assert glm5.primary_category == "cs.LG"
    assert glm5.categories == ["cs.LG", "cs.CL"]
    assert glm5.version is None


def test_versioned_ids_and_published_times_come_through(day_listing) -> None:
    paper = next(p for p in day_listing.papers if p.arxiv_id == "2602.15579")
    assert paper.version == 1
    assert paper.published == dt.datetime(2026, 2, 17, 13, 47, 27, tzinfo=dt.UTC)
    assert paper.abs_url == "https://arxiv.org/abs/2602.15579v1"


def test_abstract_paragraphs_keep_their_latex(day_listing) -> None:
    with_breaks = [p for p in day_listing.papers if "\n" in p.abstract]
    assert len(with_breaks) == 6 and all("\n " not in p.abstract for p in with_breaks)
    assert len([p for p in day_listing.papers if "\\textbf{" in p.abstract]) == 2  # for the agents, as given
    assert len([p for p in day_listing.papers if "$" in p.abstract]) == 17


@pytest.mark.parametrize(
    ("categories", "cross_lists", "count"),
    [
        (OUR_CATS, True, 180),
        (OUR_CATS, False, 134),
        (["cs.CL"], True, 49),
        (["cs.CL"], False, 37),
        (["eess.SP"], True, 8),
        (["eess.SP"], False, 5),
    ],
)
def test_category_filter(day_listing, categories: list[str], cross_lists: bool, count: int) -> None:
    papers = select(day_listing.papers, categories, include_cross_lists=cross_lists)
    assert len(papers) == count
    for paper in papers:
        assert set(categories) & set(paper.categories if cross_lists else [paper.primary_category])


def test_read_file_applies_the_filter() -> None:
    papers = read_file(DAY, ["cs.CL"], include_cross_lists=False).papers
    assert len(papers) == 37
    assert all(p.primary_category == "cs.CL" for p in papers)


def test_date_must_agree_with_the_file() -> None:
    assert read_listing(ListingOptions(str(DAY), categories=OUR_CATS), dt.date(2026, 2, 18)).date == dt.date(
        2026, 2, 18
    )
    with pytest.raises(ListingError, match="2026-02-18, not of the requested 2026-02-19"):
        read_listing(ListingOptions(str(DAY), categories=OUR_CATS), dt.date(2026, 2, 19))


def test_paper_to_json_is_one_json_line(day_listing) -> None:
    glm5 = next(p for p in day_listing.papers if p.arxiv_id == "2602.15763")
    line = json.dumps(paper_to_json(glm5), ensure_ascii=False)
    assert "\n" not in line
    record = json.loads(line)
    assert record["id"] == "2602.15763"
    assert record["code_url"] == "https://github.com/zai-org/GLM-5"
    assert record["primary_category"] == "cs.LG"
    assert len(record["authors"]) == 187
    assert record["announced"] == "2026-02-18"
    assert {"version", "title", "abstract", "categories", "comment"} <= record.keys()


def test_duplicates_keep_the_highest_version(tmp_path: Path) -> None:
    base = {"title": "T", "authors": ["A"], "abstract": "x", "comment": None, "announced": "2026-02-18"}
    lines = [
        {**base, "id": "2602.00001", "id_versioned": "2602.00001v1", "categories": ["cs.CL"]},
        {**base, "id": "2602.00002", "id_versioned": None, "categories": ["cs.LG"]},
        {**base, "id": "2602.00001", "id_versioned": "2602.00001v2", "categories": ["cs.AI", "cs.CL"]},
    ]
    path = tmp_path / "day.jsonl"
    path.write_text("\n".join(json.dumps(line) for line in lines) + "\n", encoding="utf-8")
    papers = read_file(path, OUR_CATS).papers
    assert [(p.arxiv_id, p.version) for p in papers] == [("2602.00001", 2), ("2602.00002", None)]
    assert papers[0].categories == ["cs.AI", "cs.CL"]


def test_old_api_format_needs_a_date_and_then_reads(tmp_path: Path) -> None:
    with pytest.raises(ListingError, match="--date"):
        read_listing(ListingOptions(str(OLD_FORMAT), categories=["cond-mat.str-el"]), None)
    listing = read_listing(
        ListingOptions(str(OLD_FORMAT), categories=["cond-mat.str-el"]), dt.date(2011, 11, 10)
    )
    [paper] = listing.papers
    assert (paper.arxiv_id, paper.version) == ("1111.2011", 2)
    assert (
        paper.title
        == "Quantum Criticality for Extended Nodes on a Bethe Lattice in the Large Connectivity Limit"
    )
    assert paper.abstract.startswith(
        "Theoretical description of anisotropic systems, such as layered superconductors"
    )
    assert "\n" not in paper.abstract
    assert paper.primary_category == "cond-mat.str-el"
    assert paper.categories == ["cond-mat.str-el", "cond-mat.stat-mech"]
    assert paper.comment == "8 pages, 3 figures. Published version"
    assert paper.authors == ["James M. Murray", "Adrian Del Maestro", "Zlatko Tesanovic"]
    assert paper.published == dt.datetime(2011, 11, 8, 18, 48, 36, tzinfo=dt.UTC)
    assert paper.announced == dt.date(2011, 11, 10)


def test_new_api_format_primary_category_and_comment() -> None:
    [paper] = read_file(SINGLE, ["math.ST"]).papers
    assert (paper.arxiv_id, paper.version) == ("1605.08386", 1)
    assert paper.primary_category == "math.CO"
    assert paper.comment == "20 pages, 3 figures"
    assert read_file(SINGLE, ["math.ST"], include_cross_lists=False).papers == []


def test_many_authors_stay_intact() -> None:
    [paper] = read_file(MANY_AUTHORS, ["cs.IT"]).papers
    assert len(paper.authors) == 34


def test_error_entry_of_a_400_response_is_a_listing_error() -> None:
    with pytest.raises(ListingError, match="incorrect id format for abc"):
        read_file(ERROR_400, OUR_CATS)


def test_empty_feed_is_an_empty_list_and_no_announcement() -> None:
    assert read_file(EMPTY, OUR_CATS).papers == []
    with pytest.raises(NoAnnouncement, match="no papers"):
        read_listing(ListingOptions(str(EMPTY), categories=OUR_CATS), dt.date(2026, 2, 18))


def test_mojibake_and_c1_controls_do_not_crash() -> None:
    papers = {p.arxiv_id: p for p in parse_listing(MOJIBAKE.read_bytes(), str(MOJIBAKE)).papers}
    assert len(papers) == 100
    assert papers["2306.03845"].title_display.startswith("ωTest: WebView-Oriented Testing")
    assert papers["hep-ph/0301050"].version == 2
    assert papers["cs/0503050"].version == 1
    assert papers["1706.00679"].code_url == "https://github.com/ydecastro/super-resolution-testing"
    assert all(p.title_display and p.abstract for p in papers.values())


def test_malformed_xml_names_the_file_and_the_problem(tmp_path: Path) -> None:
    broken = tmp_path / "broken.xml"
    broken.write_bytes(SINGLE.read_bytes()[:-200])
    with pytest.raises(ListingError, match=r"broken\.xml: malformed XML, .*line \d+, column \d+"):
        read_file(broken, OUR_CATS)


def test_format_is_detected_by_content_not_extension(tmp_path: Path) -> None:
    jsonl_as_xml = tmp_path / "listing.xml"
    shutil.copy(DAY, jsonl_as_xml)
    atom_as_txt = tmp_path / "feed.txt"
    shutil.copy(SINGLE, atom_as_txt)
    assert len(read_file(jsonl_as_xml, OUR_CATS).papers) == 180
    assert [p.arxiv_id for p in read_file(atom_as_txt, ["math.CO"]).papers] == ["1605.08386"]


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"", "empty"),
        (b"id,title\n1,x\n", "neither JSONL nor Atom"),
        (b'{"id": "2602.00001"\n', r"x\.jsonl:1: not a JSON object"),
        (b'{"id": "2602.00001", "title": "T", "abstract": "a", "categories": ["cs.CL"]}\n', "'authors'"),
        (
            b'{"id": "nope", "title": "T", "authors": [], "abstract": "a", "categories": ["cs.CL"]}\n',
            "not an arXiv id",
        ),
        (b"<html><body>Not found</body></html>", "not an Atom feed"),
    ],
)
def test_bad_files_raise_listing_errors(tmp_path: Path, content: bytes, message: str) -> None:
    path = tmp_path / "x.jsonl"
    path.write_bytes(content)
    with pytest.raises(ListingError, match=message):
        read_file(path, OUR_CATS)


def test_a_file_mixing_days_is_refused(tmp_path: Path) -> None:
    lines = DAY.read_text(encoding="utf-8").splitlines()[:2]
    second = json.loads(lines[1]) | {"announced": "2026-02-19"}
    path = tmp_path / "mixed.jsonl"
    path.write_text(lines[0] + "\n" + json.dumps(second) + "\n", encoding="utf-8")
    with pytest.raises(ListingError, match="several announcement days"):
        read_file(path, OUR_CATS)


def test_unknown_source_and_bad_categories() -> None:
    with pytest.raises(ListingError, match="neither 'arxiv' nor an existing file"):
        read_listing(ListingOptions("/nonexistent/day.jsonl", categories=OUR_CATS), None)
    with pytest.raises(ListingError, match="not an arXiv category"):
        read_listing(ListingOptions(str(DAY), categories=["cs.CL) OR (all:x"]), None)
    with pytest.raises(ListingError, match="no arXiv categories"):
        read_listing(ListingOptions(str(DAY), categories=[]), None)

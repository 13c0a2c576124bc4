"""Real listing feeds of rss.arxiv.org: authors, saved feeds given as --source FILE, error and old feeds."""

from __future__ import annotations

import datetime as dt
import shutil
from pathlib import Path

import pytest

from ribao.errors import ListingError
from ribao.sources import read_listing
from ribao.sources.options import ListingOptions
from ribao.sources.rss import fetch_rss_day, split_authors
from tests.support.arxiv import ReplayServer, Reply, options

FEEDS = Path(__file__).parent / "data" / "feeds"
CS = ["cs.AI", "cs.LG", "cs.SE", "cs.DC", "cs.CY"]
DAY = dt.date(2024, 11, 28)


def test_authors_latex_is_rendered_and_affiliations_do_not_split_authors() -> None:
    assert split_authors(r"Adam Lundstr\"om, Aleksandra Pi\v{z}urica, J\"org F. Unger") == [
        "Adam Lundström",
        "Aleksandra Pižurica",
        "Jörg F. Unger",
    ]
    assert split_authors(
        "Aleteia Araujo (University of Brasilia Brazil, The University of Melbourne), Bo Wu"
    ) == [
        "Aleteia Araujo",
        "Bo Wu",
    ]


@pytest.mark.parametrize("name", ["rss_2024-11-28.trimmed.xml", "atom_2024-11-28.trimmed.xml"])
def test_a_saved_listing_feed_is_read_as_the_listing(name: str) -> None:
    listing = read_listing(ListingOptions(str(FEEDS / name), categories=CS), None)
    assert listing.date == DAY
    papers = {p.arxiv_id: p for p in listing.papers}
    # 4 new/cross items kept, the replacement (1903.04209v5, in cs.LG) dropped.
    assert sorted(papers) == ["2411.16552", "2411.17700", "2411.17753", "2411.17768"]
    assert all(
        not p.abstract.startswith("arXiv:") and "Announce Type" not in p.abstract for p in papers.values()
    )
    assert papers["2411.17768"].authors == ["Fabio Marco Monetti", "Adam Lundström", "Antonio Maffei"]
    assert papers["2411.17753"].authors[:2] == ["Aleteia Araujo", "Breno Costa"]
    assert len(papers["2411.17753"].authors) == 5
    without_cross = read_listing(
        ListingOptions(str(FEEDS / name), categories=CS, include_cross_lists=False), None
    )
    assert "2411.16552" not in {p.arxiv_id for p in without_cross.papers}  # a cross-list (primary econ.GN)


def test_a_saved_feed_of_another_day_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ListingError, match="listing of 2024-11-28, not of the requested 2024-11-27"):
        read_listing(
            ListingOptions(str(FEEDS / "rss_2024-11-28.trimmed.xml"), categories=CS), dt.date(2024, 11, 27)
        )


def test_arxivs_error_feed_is_shown_as_one_line_from_a_file_and_from_the_network(
    server: ReplayServer, tmp_path: Path
) -> None:
    body = (FEEDS / "error_rss_mock_feed.xml").read_bytes()
    with pytest.raises(ListingError, match=r"Bad archive 'astroph'\. Valid archive names are: astro-ph"):
        read_listing(ListingOptions(str(FEEDS / "error_rss_mock_feed.xml"), categories=CS), None)
    server.script = [Reply(status=400, body=body)]
    with pytest.raises(ListingError) as caught:
        fetch_rss_day(DAY, ListingOptions(categories=["cs.AI"], api=options(server)))
    message = str(caught.value)
    assert "Bad archive 'astroph'" in message and "Bad Request" not in message and "\n" not in message


def test_the_old_rss_1_0_format_is_a_clear_one_line_error(tmp_path: Path) -> None:
    path = tmp_path / "old.xml"
    shutil.copy(FEEDS / "arxiv_rss1.0_hep-ex_2018-05-24.xml", path)
    with pytest.raises(ListingError, match=r"old RSS 1\.0 \(RDF\) listing format") as caught:
        read_listing(ListingOptions(str(path), categories=["hep-ex"]), None)
    assert "\n" not in str(caught.value)

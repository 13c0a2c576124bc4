"""What a profile reads: library exports, seed papers (disk first, then a loopback arXiv API), keywords."""

from __future__ import annotations

import asyncio
import datetime as dt
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from langchain_core.messages import BaseMessage

from ribao.errors import LibraryError
from ribao.profiles.keywords import cached_keywords, derive_keywords, keyword_cache
from ribao.profiles.library import read_library
from ribao.profiles.seeds import resolve_seeds, seed_cache
from ribao.settings_models import ApiOptions
from tests.support.arxiv import ReplayServer, Reply, feed, options, running_server
from tests.support.fakes import ScriptedChatModel
from tests.support.profiles import PROFILE_DATA

LIBRARY = ["2602.13718", "2602.14099", "2602.16356"]


@pytest.mark.parametrize("name", ["library.bib", "library.json", "library.ris"])
def test_a_zotero_export_gives_titles_abstracts_ids_and_dates(name: str) -> None:
    papers = read_library(PROFILE_DATA / name)
    assert [p.arxiv_id for p in papers] == LIBRARY
    assert papers[0].title == "HybridFlow: A Two-Step Generative Policy for Robotic Manipulation"
    assert all(len(p.abstract) > 900 for p in papers)
    # The date Zotero added (accessed) each item: recency weighs by it.
    assert [p.date for p in papers] == [dt.date(2026, 2, 17), dt.date(2026, 2, 18), dt.date(2026, 2, 20)]


@pytest.mark.parametrize(("name", "line"), [("broken.bib", 16), ("broken.json", 68), ("broken.ris", 28)])
def test_a_malformed_library_names_the_file_and_the_line(name: str, line: int) -> None:
    path = PROFILE_DATA / name
    with pytest.raises(LibraryError, match=rf"^library {path}:{line}: ") as err:
        read_library(path)
    assert "\n" not in str(err.value)


def test_a_missing_library_names_the_file(tmp_path: Path) -> None:
    with pytest.raises(LibraryError, match=rf"^library {tmp_path / 'zotero.bib'}: no such file$"):
        read_library(tmp_path / "zotero.bib")
    (tmp_path / "zotero.xml").write_text("<x/>")
    with pytest.raises(LibraryError, match="unknown format .xml; use .bib, .json or .ris"):
        read_library(tmp_path / "zotero.xml")


@pytest.fixture
def arxiv_api() -> Iterator[ReplayServer]:
    with running_server() as server:
        server.script = [Reply(body=feed("arxivpy_api_id_1605.08386_s0_m100_199195aa31ad.xml"))]
        yield server


def test_seeds_in_bundled_listings_need_no_request(tmp_path: Path, arxiv_api: ReplayServer) -> None:
    found = resolve_seeds(["2602.13718", "2602.15010v2"], home=tmp_path, api=options(arxiv_api))
    assert [p.arxiv_id for p in found.papers] == ["2602.13718", "2602.15010"] and not found.missing
    assert found.papers[1].title.startswith("BPP: Long-Context Robot Imitation Learning")
    assert arxiv_api.seen == []


def test_other_seeds_are_asked_once_by_id_list_and_cached(tmp_path: Path, arxiv_api: ReplayServer) -> None:
    api = options(arxiv_api)
    first = resolve_seeds(["1605.08386", "2602.13718"], home=tmp_path, api=api)
    assert [p.arxiv_id for p in first.papers] == ["1605.08386", "2602.13718"]
    assert first.papers[0].title and first.papers[0].abstract
    assert [s.query.get("id_list") for s in arxiv_api.seen] == ["1605.08386"]
    assert "1605.08386" in json.loads(seed_cache(tmp_path).read_text())
    again = resolve_seeds(["1605.08386"], home=tmp_path, api=api)
    assert again.papers == first.papers[:1] and len(arxiv_api.seen) == 1


def test_a_seed_the_api_cannot_give_is_reported_missing(tmp_path: Path) -> None:
    with running_server() as server:
        server.script = [Reply(status=503)]
        found = resolve_seeds(["2401.00001"], home=tmp_path, api=options(server, retries=0))
    assert found.papers == [] and found.missing == ["2401.00001"] and found.error


def keyword_model(words: list[str]) -> ScriptedChatModel:
    def answer(name: str, schema: dict[str, Any], messages: list[BaseMessage]) -> dict[str, Any]:
        return {"keywords": words}

    return ScriptedChatModel(responder=answer)


def test_chinese_interests_are_turned_into_keywords_once(tmp_path: Path) -> None:
    interests = "机器人学习：灵巧操作与人形机器人控制"
    model = keyword_model(["robot learning", "dexterous manipulation", "humanoid control"])
    words, calls = asyncio.run(derive_keywords(interests, tmp_path, model))
    assert words == ["robot learning", "dexterous manipulation", "humanoid control"] and len(calls) == 1
    assert interests in str(model.requests[0]["messages"])
    again, calls = asyncio.run(derive_keywords(interests, tmp_path, keyword_model(["other"])))
    assert again == words and calls == []
    # Editable: the cache file is the reader's to change.
    path = keyword_cache(tmp_path, interests)
    path.write_text(json.dumps({"interests": interests, "keywords": ["robot learning"]}))
    assert cached_keywords(tmp_path, interests) == ["robot learning"]


def test_english_interests_need_no_model(tmp_path: Path) -> None:
    model = keyword_model(["unused"])
    words, calls = asyncio.run(derive_keywords("speech recognition; spoken dialogue", tmp_path, model))
    assert words == ["speech recognition", "spoken dialogue"] and calls == [] and model.requests == []


def test_unreachable_api_options_are_not_used_for_cached_seeds(tmp_path: Path) -> None:
    dead = ApiOptions(endpoint="http://127.0.0.1:9/api/query", retries=0, timeout_seconds=1)
    found = resolve_seeds(["2602.14099"], home=tmp_path, api=dead)
    assert [p.arxiv_id for p in found.papers] == ["2602.14099"] and found.error is None

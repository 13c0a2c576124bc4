"""One digest record: every rendering of the fixture digest (2026-02-18, GLM-5 first) says the same thing.

`tests/data/digests/2026-02-18.json` was written by the code before the record existed (bfb6338):
five real papers of the bundled listing, GLM-5 (authors ``GLM-5 Team``, ``:``, ``Aohan Zeng`` …) read
from a cut PDF, costs in USD.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from ribao.delivery.channels import ChannelSpec
from ribao.delivery.page import render_page
from ribao.delivery.render import render_for
from ribao.delivery.send import DigestFiles
from ribao.delivery.site import build_site, read_records
from ribao.digest import render_markdown, write_record
from ribao.prompts import PromptLibrary
from ribao.record import DigestPaths, DigestRecord, read_record

FIXTURE = Path(__file__).parent / "data" / "digests" / "2026-02-18.json"


@pytest.fixture
def record() -> DigestRecord:
    return read_record(FIXTURE)


def renderings(record: DigestRecord) -> dict[str, str]:
    """Return the Markdown, the page (tags stripped) and a Feishu-style card of `record`."""
    md = render_markdown(record, PromptLibrary(user_dir=None))
    html = render_page(record)
    spec = ChannelSpec("card", None)
    card = render_for(spec, "feishu", record=record, markdown=md, html=html, site_url=None)
    return {"markdown": md, "page": re.sub(r"<[^>]+>", "", html), "card": card.parts[0]}


def test_a_digest_written_before_the_record_reads_back_byte_for_byte(record: DigestRecord) -> None:
    assert record.to_json() == FIXTURE.read_text(encoding="utf-8")
    assert [p.rank for p in record.picks] == [1, 2, 3, 4, 5] and record.picked == record.wanted == 5


def test_an_older_digest_without_later_fields_still_loads(tmp_path: Path) -> None:
    data = json.loads(FIXTURE.read_text(encoding="utf-8"))
    for key in ("picked", "wanted", "critiques", "lead"):
        del data[key]
    for pick in data["picks"]:
        del pick["title_original"], pick["source"]
    path = tmp_path / "2026-02-18.json"
    path.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
    old = read_record(path)
    assert old.picked == old.wanted == 5 and old.picks[0].title_original == old.picks[0].title


def test_a_file_that_is_not_a_digest_is_one_line_naming_the_field(tmp_path: Path) -> None:
    path = tmp_path / "2026-02-18.json"
    path.write_text('{"date": "2026-02-18", "scanned": 3, "picks": [{"rank": 1}]}', encoding="utf-8")
    with pytest.raises(ValueError, match=r"^picks\.0\.arxiv_id: Field required$"):
        read_record(path)


def test_every_rendering_shows_the_same_authors_source_and_cost(record: DigestRecord) -> None:
    for name, text in renderings(record).items():
        if name != "card":  # the card is one line per pick: title, link, reason
            assert "GLM-5 Team, Aohan Zeng, Xin Lv 等" in text, name
            assert ", :," not in text, name
            assert "📖 PDF 全文（节选）" in text and "📖 HTML 全文" in text, name
            assert "依据" not in text, name
            assert "($0.0615)" in text, name
        assert "2026-02-18 周三" in text, name


def test_the_cost_is_in_the_recorded_currency_everywhere(record: DigestRecord) -> None:
    # A record without a currency shows a bare amount, never one assumed to be in yuan.
    bare = record.model_copy(update={"usage": record.usage.model_copy(update={"currency": None})})
    for name, text in renderings(bare).items():
        if name != "card":
            assert "(0.0615)" in text and "¥" not in text, name


def test_every_rendering_splits_the_tiers_alike(record: DigestRecord) -> None:
    texts = renderings(record)
    md_must = [int(n) for n in re.findall(r"^### (\d+)\. ", texts["markdown"], flags=re.M)]
    md_notable = [int(n) for n in re.findall(r"^\| (\d+) \| ", texts["markdown"], flags=re.M)]
    card_must = [int(n) for n in re.findall(r"^🔥 (\d+)\. ", texts["card"], flags=re.M)]
    card_notable = [int(n) for n in re.findall(r"^📋 (\d+)\. ", texts["card"], flags=re.M)]
    page = texts["page"]
    assert md_must == card_must == [p.rank for p in record.must_reads] == [1, 2]
    assert md_notable == card_notable == [p.rank for p in record.notables] == [3, 4, 5]
    order = [page.index(s) for s in ("今日必读", "1. GLM-5", "同样值得关注", "3. STAPO")]
    assert order == sorted(order)
    assert "扫描/精选: 180/5（必读 2，关注 3）" in texts["card"]


def test_stars_written_with_the_digest_show_on_the_page_too(record: DigestRecord, tmp_path: Path) -> None:
    glm = record.picks[0].model_copy(update={"stars": 1052})
    starred = record.model_copy(update={"picks": [glm, *record.picks[1:]]})
    paths = write_record(starred, tmp_path, PromptLibrary(user_dir=None))
    assert paths == DigestPaths.of(tmp_path, "2026-02-18")
    assert "⭐1052" in paths.markdown.read_text(encoding="utf-8")
    assert "⭐1052" in paths.html.read_text(encoding="utf-8")
    assert read_record(paths.json).picks[0].stars == 1052
    assert '"stars"' not in record.to_json()  # unknown stars are left out, as before


def test_push_and_site_read_the_written_digest_through_the_record(
    record: DigestRecord, tmp_path: Path
) -> None:
    paths = write_record(record, tmp_path / "digests", PromptLibrary(user_dir=None))
    files = DigestFiles.read(paths.json)
    assert files.record == record and files.markdown == paths.markdown.read_text(encoding="utf-8")
    assert read_records([paths.json]) == [record]
    site = build_site([paths.json], tmp_path / "site")
    assert site.days == ["2026-02-18"]
    page = (tmp_path / "site" / "2026-02-18.html").read_text(encoding="utf-8")
    assert "GLM-5 Team, Aohan Zeng, Xin Lv 等" in page and "📖 PDF 全文（节选）" in page

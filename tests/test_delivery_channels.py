"""Each push channel's payload at the HTTP layer (`responses` intercepts Apprise's requests): URL, body
and size limit, for a 3-must-read digest with long Chinese summaries (30 KB of Markdown)."""

from __future__ import annotations

import datetime as dt
import json
import re
from pathlib import Path
from urllib.parse import parse_qs

import pytest
import responses

from ribao.delivery.channels import PushChannel
from ribao.delivery.send import DigestFiles, send_channel
from tests.support.digests import write_day

SITE = "https://reader.github.io/ribao"


@pytest.fixture
def files(tmp_path: Path) -> DigestFiles:
    return DigestFiles.read(write_day(tmp_path, dt.date(2026, 2, 19), hostile=True))


def send(url: str, files: DigestFiles, **kw: object) -> tuple[object, list[responses.Call]]:
    record = send_channel(PushChannel(name="c", url=url, **kw), files, site_url=SITE, retries=0)  # type: ignore[arg-type]
    return record, list(responses.calls)


@responses.activate
def test_serverchan_gets_the_full_markdown_without_the_characters_it_cuts_at(files: DigestFiles) -> None:
    responses.add(responses.POST, "https://sctapi.ftqq.com/SCT123abc456.send", json={"code": 0})
    record, calls = send("schan://SCT123abc456", files)
    assert record.status == "ok" and len(calls) == 1  # type: ignore[attr-defined]
    desp = parse_qs(calls[0].request.body)["desp"][0]  # type: ignore[arg-type]
    assert "<" not in desp and "&" not in desp and "＜script" in desp
    assert "背景与痛点" in desp and desp.count("https://arxiv.org/abs/") >= 13
    assert len(desp.encode()) <= 32_000


@responses.activate
def test_wecom_gets_a_text_card_cut_at_a_row_with_the_cut_said(files: DigestFiles) -> None:
    assert len(files.markdown.encode()) > 2048 * 10
    responses.add(
        responses.POST, re.compile(r"https://qyapi\.weixin\.qq\.com/cgi-bin/webhook/send\?key=KEY123abc")
    )
    record, calls = send("wecombot://KEY123abc", files)
    body = json.loads(calls[0].request.body)  # type: ignore[arg-type]
    text = body["text"]["content"]
    assert body["msgtype"] == "text" and len(text.encode()) <= 2048
    assert record.cut > 0 and f"另有 {record.cut} 条未列出" in text  # type: ignore[attr-defined]
    assert text.rstrip().endswith(f"全文: {SITE}/2026-02-19.html")
    # never mid-row: every listed pick keeps its link line and its reason
    assert text.count("https://arxiv.org/abs/") == 13 - record.cut  # type: ignore[attr-defined]


@responses.activate
def test_feishu_gets_a_markdown_card_with_13_titles_and_the_page_link(files: DigestFiles) -> None:
    responses.add(
        responses.POST, "https://open.feishu.cn/open-apis/bot/v2/hook/TOKEN123abc/", json={"code": 0}
    )
    record, calls = send("feishu://TOKEN123abc", files)
    raw = calls[0].request.body
    body = json.loads(raw)  # type: ignore[arg-type]
    assert body["msg_type"] == "interactive" and len(raw) <= 20_000  # type: ignore[arg-type]
    content = body["card"]["elements"][0]["text"]["content"]
    assert content.count("](https://arxiv.org/abs/") == 13 and f"({SITE}/2026-02-19.html)" in content
    assert "扫描/精选: 180/13" in content and record.cut == 0  # type: ignore[attr-defined]


@responses.activate
def test_dingtalk_full_markdown_is_shortened_to_its_limit_between_paragraphs(files: DigestFiles) -> None:
    responses.add(responses.POST, re.compile(r"https://oapi\.dingtalk\.com/robot/send\?access_token=TOKEN123abc"),
                  json={"errcode": 0})  # fmt: skip
    # the full digest (30 KB) is over DingTalk's 20,000 bytes: asked for Markdown, it is shortened
    record, calls = send("dingtalk://TOKEN123abc", files, format="markdown")
    body = json.loads(calls[0].request.body)  # type: ignore[arg-type]
    text = body["markdown"]["text"]
    assert body["msgtype"] == "markdown" and len(text.encode()) <= 20_000
    assert record.cut > 0 and "另有" in text and "消息限 19,000 字节" in text  # type: ignore[attr-defined]
    assert len(re.findall(r"\]\(https://arxiv\.org/abs/[0-9.v]+\)", text)) == len(
        re.findall(r"(?<!\\)\]\(", text)
    )  # no cut link


@responses.activate
def test_wxpusher_gets_markdown_for_its_users(files: DigestFiles) -> None:
    responses.add(responses.POST, "https://wxpusher.zjiecode.com/api/send/message", json={"code": 1000})
    record, calls = send(
        "wxpusher://AT_abcdefghijklmnopqrstuvwxyz012345/UID_abcdefghijklmnopqrstuvwxyz01", files
    )
    body = json.loads(calls[0].request.body)  # type: ignore[arg-type]
    assert record.status == "ok" and body["contentType"] == 3  # type: ignore[attr-defined]
    assert body["uids"] == ["UID_abcdefghijklmnopqrstuvwxyz01"] and len(body["content"]) <= 40_000
    assert "🔥 今日必读" in body["content"]


@responses.activate
def test_slack_gets_the_card(files: DigestFiles) -> None:
    responses.add(responses.POST, re.compile(r"https://hooks\.slack\.com/services/.*"), body="ok")
    record, calls = send("slack://T1JJ3T3L2/A1BRTD4JD/TIiajkdnlazkcOXrIdevi7FQ", files)
    assert (
        calls[0].request.url
        == "https://hooks.slack.com/services/T1JJ3T3L2/A1BRTD4JD/TIiajkdnlazkcOXrIdevi7FQ"
    )
    body = json.loads(calls[0].request.body)  # type: ignore[arg-type]
    assert record.status == "ok" and "arxiv.org/abs/" in json.dumps(body)  # type: ignore[attr-defined]
    assert len(calls[0].request.body) <= 40_000  # type: ignore[arg-type]


@responses.activate
def test_a_refusing_service_is_a_failed_record_after_the_retries(files: DigestFiles) -> None:
    responses.add(responses.POST, "https://open.feishu.cn/open-apis/bot/v2/hook/TOKEN123abc/", status=500)
    record = send_channel(PushChannel(name="lab", url="feishu://TOKEN123abc"), files, site_url=None,
                          retries=2, backoff_seconds=0)  # fmt: skip
    assert record.status == "failed" and record.attempts == 3 and len(responses.calls) == 3
    assert "500" in (record.error or "")

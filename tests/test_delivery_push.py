"""Push end to end on loopback: a JSON webhook, email through a local SMTP server, faults, secrets."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest

from ribao.delivery.channels import PushChannel
from ribao.delivery.send import DigestFiles, deliver
from tests.support.digests import write_day
from tests.support.loopback import Mailbox, Webhook, free_port, parts

DAY = dt.date(2026, 2, 19)


@pytest.fixture
def files(tmp_path: Path) -> DigestFiles:
    return DigestFiles.read(write_day(tmp_path, DAY, hostile=True))


def test_json_webhook_receives_the_full_markdown(webhook: Webhook, files: DigestFiles) -> None:
    [record] = deliver([PushChannel(name="hook", url=webhook.url())], files, site_url=None, retries=0)
    assert record.status == "ok" and record.attempts == 1
    [req] = webhook.requests
    body = json.loads(req["body"])
    assert req["path"].startswith("/hook") and body["title"] == "ArXiv AI 日报 2026-02-19 周四"
    assert body["message"] == files.markdown.strip() and record.bytes == len(files.markdown.strip().encode())


def test_email_has_the_html_page_and_a_plain_text_part(smtp: tuple[Mailbox, int], files: DigestFiles) -> None:
    box, port = smtp
    url = f"mailto://127.0.0.1:{port}?from=ribao@example.org&to=reader@example.org"
    [record] = deliver([PushChannel(name="mail", url=url)], files, site_url=None, retries=0)
    assert record.status == "ok", record.error
    [msg] = box.messages
    assert msg["To"] == "reader@example.org" and "2026-02-19" in str(msg["Subject"] or "")
    got = parts(msg)
    assert set(got) == {"text/plain", "text/html"}
    assert "<style>" in got["text/html"] and "&lt;script&gt;" in got["text/html"]
    assert "<script>" not in got["text/html"]
    assert "今日必读" in got["text/plain"] and "<article" not in got["text/plain"]


def test_a_channel_answering_500_is_retried_then_reported(webhook: Webhook, files: DigestFiles) -> None:
    webhook.mode = "fail"
    ok_hook = Webhook()
    records = deliver(
        [PushChannel(name="broken", url=webhook.url()), PushChannel(name="fine", url=ok_hook.url())],
        files, site_url=None, retries=2, backoff_seconds=0,
    )  # fmt: skip
    assert [(r.channel, r.status, r.attempts) for r in records] == [
        ("broken", "failed", 3),
        ("fine", "ok", 1),
    ]
    assert len(webhook.requests) == 3 and "500" in (records[0].error or "")
    ok_hook.server.shutdown()


def test_a_hanging_channel_times_out(webhook: Webhook, files: DigestFiles) -> None:
    webhook.mode = "hang"
    [record] = deliver([PushChannel(name="slow", url=webhook.url())], files, site_url=None,
                       retries=0, timeout_seconds=0.5)  # fmt: skip
    assert record.status == "failed" and record.error


def test_secrets_come_from_the_environment_and_are_masked(
    webhook: Webhook, files: DigestFiles, monkeypatch: pytest.MonkeyPatch
) -> None:
    secret = "hook-secret-0123456789"
    monkeypatch.setenv("HOOK_PATH_SECRET", secret)
    webhook.mode = "fail"
    channel = PushChannel(name="hook", url=f"json://127.0.0.1:{webhook.port}/${{HOOK_PATH_SECRET}}")
    [record] = deliver([channel], files, site_url=None, retries=0)
    assert webhook.requests[0]["path"].startswith(f"/{secret}")  # expanded at send time
    assert secret not in record.model_dump_json()
    monkeypatch.delenv("HOOK_PATH_SECRET")
    [record] = deliver([channel], files, site_url=None, retries=0)
    assert record.status == "failed" and "HOOK_PATH_SECRET" in (record.error or "")


def test_a_failed_push_gives_the_reason_without_the_log_record(webhook: Webhook, files: DigestFiles) -> None:
    refused = PushChannel(name="gone", url=f"json://127.0.0.1:{free_port()}/hook")
    webhook.mode = "fail"
    failing = PushChannel(name="broken", url=webhook.url())
    records = deliver([refused, failing], files, site_url=None, retries=0)
    assert [r.error for r in records] == [
        "A Connection error occurred sending JSON notification to 127.0.0.1: Connection refused",
        "Failed to send JSON POST notification: Internal server error., error=500",
    ]
    webhook.mode = "hang"
    [record] = deliver([failing], files, site_url=None, retries=0, timeout_seconds=0.5)
    assert (
        record.error
        == "A Connection error occurred sending JSON notification to 127.0.0.1: no answer within 0.5 s"
    )


@pytest.mark.parametrize(
    "url", ["schan:/broken", "notascheme://x", "json://127.0.0.1/${UNCLOSED", "feishu://$TOKEN"]
)
def test_a_malformed_url_is_a_settings_error(url: str) -> None:
    with pytest.raises(ValueError):
        PushChannel(name="x", url=url)

"""`ribao push DATE` and `ribao site build` find a written digest through the run log (wherever the
run's --out put it; the newest finished run of the day wins), and still in the configured out_dir."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from ribao.cli import app
from ribao.runs.db import RunLog
from ribao.runs.digests import DigestNotFound, find_digest, written_digests
from tests.support.digests import write_day
from tests.support.loopback import Webhook

DAY = dt.date(2026, 2, 18)


def record_run(home: Path, run_id: str, json_path: Path, *, status: str = "done", day: dt.date = DAY) -> None:
    """Record a finished run of `day` that wrote `json_path`, as `ribao run` does."""
    with RunLog.open(home) as log:
        log.start_run(run_id, settings={}, date=day)
        if status != "running":
            log.finish_run(run_id, status=status, date=day, digest_path=json_path.with_suffix(".md"),
                           json_path=json_path)  # fmt: skip


@pytest.fixture
def out_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("RIBAO_OUT_DIR", str(tmp_path / "digests"))
    return tmp_path / "digests"


def cli(*args: str) -> Any:
    return CliRunner().invoke(app, list(args))


def test_push_sends_the_digest_a_run_wrote_with_out(
    ribao_home: Path, tmp_path: Path, out_dir: Path, webhook: Webhook
) -> None:
    (ribao_home / "config.toml").write_text(f'[[push]]\nname = "hook"\nurl = "{webhook.url()}"\n', "utf-8")
    written = write_day(tmp_path / "out", DAY)
    record_run(ribao_home, "01RUNWITHOUT", written)
    result = cli("push", DAY.isoformat())
    assert result.exit_code == 0, result.output
    [req] = webhook.requests
    assert (
        json.loads(req["body"])["message"] == written.with_suffix(".md").read_text(encoding="utf-8").strip()
    )
    # --out names the one folder to read: there is none there, and the error says so in one line.
    out_dir.mkdir()  # (a --out that is no folder at all is bad usage, exit 2: test_cli_attack)
    only = cli("push", DAY.isoformat(), "--out", str(out_dir))
    assert only.exit_code == 1 and only.output.count("\n") == 1
    assert f"no {DAY}.json in {out_dir}" in only.output and len(webhook.requests) == 1


def test_the_newest_done_run_of_the_day_wins_and_out_dir_is_still_searched(
    ribao_home: Path, tmp_path: Path, out_dir: Path
) -> None:
    configured = write_day(out_dir, DAY)
    assert find_digest(DAY, out_dir, home=ribao_home) == configured  # no run on record
    older, newer = write_day(tmp_path / "a", DAY), write_day(tmp_path / "b", DAY)
    record_run(ribao_home, "01A", older)
    record_run(ribao_home, "01B", newer)
    record_run(ribao_home, "01C", write_day(tmp_path / "c", DAY), status="failed")
    record_run(ribao_home, "01D", write_day(tmp_path / "d", DAY), status="running")
    assert find_digest(DAY, out_dir, home=ribao_home) == newer
    assert find_digest(DAY, out_dir, home=None) == configured
    newer.unlink()  # the newest run's file was deleted: out_dir's is next
    assert find_digest(DAY, out_dir, home=ribao_home) == configured
    configured.unlink()
    with pytest.raises(DigestNotFound, match=f"run 01B wrote {newer}, which is gone"):
        find_digest(DAY, out_dir, home=ribao_home)


def test_site_build_publishes_digests_written_with_out_beside_out_dirs(
    ribao_home: Path, tmp_path: Path, out_dir: Path
) -> None:
    write_day(out_dir, dt.date(2026, 2, 17))
    elsewhere = write_day(tmp_path / "out", DAY)
    record_run(ribao_home, "01RUNWITHOUT", elsewhere)
    assert written_digests(out_dir, home=ribao_home) == [elsewhere, out_dir / "2026-02-17.json"]
    result = cli("site", "build", "--out", str(tmp_path / "site"))
    assert result.exit_code == 0 and "2 day(s)" in result.output, result.output
    assert (tmp_path / "site" / "2026-02-18.html").is_file() and (
        tmp_path / "site" / "2026-02-17.html"
    ).is_file()
    # --digests names the one folder to read.
    only = cli("site", "build", "--out", str(tmp_path / "site"), "--digests", str(out_dir))
    assert only.exit_code == 0 and "1 day(s)" in only.output, only.output
    # The folder a run wrote to is protected like out_dir.
    inside = cli("site", "build", "--out", str(tmp_path / "out" / "site"))
    assert inside.exit_code == 2 and "is inside the digests folder" in inside.output

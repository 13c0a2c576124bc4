"""Faults found attacking this session's features as a demanding user: the OTLP export, runs diff,
feedback and its feedback.toml, profile names and the memory commands. Each test failed before its fix."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from ribao.cli import app
from tests.support.otlp_collector import Collector
from tests.support.runs import RUN_A, populate


def cli(home: Path, *args: str) -> Any:
    return CliRunner().invoke(app, list(args), env={"RIBAO_HOME": str(home)})


@pytest.fixture
def trickling() -> Iterator[Collector]:
    c = Collector()
    c.trickle = True
    yield c
    c.close()


def test_an_export_to_a_collector_that_trickles_its_reply_gives_up_at_the_deadline(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, trickling: Collector
) -> None:
    populate(tmp_path)
    monkeypatch.setattr("ribao.runs.otlp.DEADLINE_S", 0.5)
    result = cli(tmp_path, "runs", "export", RUN_A, "--endpoint", trickling.endpoint)
    assert result.exit_code == 1
    assert result.output.splitlines() == [
        f"ribao: error: could not export run {RUN_A} to the OTLP collector at {trickling.endpoint}: "
        "no complete answer within 0.5 s"
    ]


def test_ctrl_c_during_an_export_interrupts_it(tmp_path: Path, trickling: Collector) -> None:
    populate(tmp_path)
    env = {**os.environ, "RIBAO_HOME": str(tmp_path)}
    args = [sys.executable, "-m", "ribao", "runs", "export", RUN_A, "--endpoint", trickling.endpoint]
    with subprocess.Popen(args, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) as proc:
        assert trickling.received.wait(60)
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=60)
    assert proc.returncode == 130, (out, err)
    assert out == "" and err.strip() == "ribao: interrupted"


@pytest.mark.parametrize(
    "endpoint",
    ["localhost:4318", "127.0.0.1:4318/v1/traces", "ftp://host/v1/traces", "http://", "http://h:99999/v1/traces",
     "not a url"],
)  # fmt: skip
def test_a_malformed_otlp_endpoint_fails_when_the_settings_load(tmp_path: Path, endpoint: str) -> None:
    (tmp_path / "config.toml").write_text(f'[tracing]\notlp_endpoint = "{endpoint}"\n', encoding="utf-8")
    result = cli(tmp_path, "config", "show")
    assert result.exit_code == 1
    [line] = result.output.splitlines()
    assert line.startswith("ribao: error: invalid settings: tracing.otlp_endpoint: ")
    assert f"OTLP endpoint {endpoint!r} is not an http(s) URL with a host" in line


def test_an_empty_otlp_endpoint_is_off_and_a_malformed_flag_is_a_usage_error(tmp_path: Path) -> None:
    populate(tmp_path)
    (tmp_path / "config.toml").write_text('[tracing]\notlp_endpoint = ""\n', encoding="utf-8")
    off = cli(tmp_path, "runs", "export", RUN_A)
    assert off.exit_code == 1 and "no OTLP endpoint" in off.output
    bad = cli(tmp_path, "runs", "export", RUN_A, "--endpoint", "localhost:4318")
    assert bad.exit_code == 2
    assert bad.output.splitlines() == [
        "ribao: error: --endpoint: OTLP endpoint 'localhost:4318' is not an http(s) URL with a host "
        "(e.g. http://127.0.0.1:4318/v1/traces)"
    ]

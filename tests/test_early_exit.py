"""A run that ends in its first seconds exits with its documented status and one line (issue 21.1).

Each case is a real `ribao run` process with the real MiniLM embedder, whose model starts loading in
a background thread when the run starts: a bad listing file (exit 1), a day without papers (exit 3),
a past day the arXiv API does not have yet (exit 4), Ctrl-C while the listing is read (exit 130).
Before the fix onnxruntime aborted such a process (SIGABRT, exit 134) when it exited mid-load, in
some of the attempts. The cases run side by side: one per exit status in the fast suite (about 15 s
of CPU), every case five times in a test marked slow.
"""

from __future__ import annotations

import datetime as dt
import os
import re
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.support.arxiv import EMPTY, HANG, ReplayServer, Reply, running_server
from tests.support.memory import needs_export
from tests.support.samples import sample_listing

INTERRUPTED = "ribao: interrupted; nothing was written (continue with: ribao runs resume latest)"
TRACE = re.compile(r"ribao run [0-9A-Z]{26}$|▶ |✗ ")


@dataclass
class Case:
    """One early exit: the `ribao run` arguments, the exit status and stderr's last line (a regex)."""

    name: str
    args: list[str]
    status: int
    line: str
    quiet: bool = True  # exit 3 is silent with --quiet (cron): those cases run with the trace


def listing_files(folder: Path) -> dict[str, Path]:
    """Write the bad listing files into `folder`; return them by case name."""
    two = sample_listing().read_bytes().splitlines(keepends=True)[:2]  # papers of 2026-02-18
    files = {
        "empty": b"",
        "malformed line": b"".join(two) + b'{"id": "2602.15034", "title": \n',
        "non-UTF-8 byte": two[0] + two[1].replace(b"CMOS", b"CM\xffOS"),
        "not an arXiv id": two[0] + two[1].replace(b'"id": "2602.15033"', b'"id": "notanid"'),
        "good": b"".join(two),
    }
    paths = {}
    for name, content in files.items():
        paths[name] = folder / f"{name.replace(' ', '-')}.jsonl"
        paths[name].write_bytes(content)
    return paths


def future_weekday() -> dt.date:
    """Return a Wednesday in mid-March of next year: an announcement day that is not out yet."""
    day = dt.date(dt.date.today().year + 1, 3, 8)
    return day + dt.timedelta(days=(2 - day.weekday()) % 7)


def cases(files: dict[str, Path]) -> list[Case]:
    """Return every early exit of `ribao run` that ends before or inside the graph's first node."""
    good = str(files["good"])

    def bad(name: str, message: str) -> Case:
        return Case(
            name, ["--source", str(files[name])], 1, re.escape(f"ribao: error: {files[name]}{message}")
        )

    later = future_weekday().isoformat()
    return [
        bad("empty", ": the file is empty"),
        bad("malformed line", ":3: not a JSON object (Expecting value: line 1 column 31 (char 30))"),
        bad("non-UTF-8 byte", ":2: not UTF-8 text (byte 0xff at column 82)"),
        bad("not an arXiv id", ":2: not an arXiv id: 'notanid'"),
        Case(
            "a listing of another day",
            ["--source", good, "--date", "2026-02-17"],
            1,
            re.escape(f"ribao: error: {good} is the listing of 2026-02-18, not of the requested 2026-02-17"),
        ),
        Case(
            "no papers in --categories",
            ["--source", good, "--categories", "math.AG"],
            3,
            re.escape(f"ribao: no announcement: no papers in math.AG on 2026-02-18 from {good}"),
            quiet=False,
        ),
        Case(
            "a future --date",
            ["--source", "arxiv", "--date", later],
            3,
            re.escape(f"ribao: no announcement: the listing dated {later} is not out yet") + r" \(newest: .*",
            quiet=False,
        ),
        Case(
            "a past day the API does not have",
            ["--source", "arxiv", "--date", "2026-02-18"],
            4,
            r"ribao: error: the arXiv API has no submissions in cs\.CL, cs\.AI, cs\.LG for the listing of "
            r"2026-02-18 .*: retry later",
        ),
    ]


def configure(home: Path, arxiv: ReplayServer) -> dict[str, str]:
    """Write a home with the MiniLM memory (the default), a provider that is never reached and arXiv
    at `arxiv`; return the environment of a `ribao` process using it.

    The arXiv client's timeout is only a guard against a hang: at 5 s, a busy machine let the hanging
    request of the Ctrl-C case time out (exit 1) before the test had sent its signal."""
    home.mkdir(parents=True)
    (home / "config.toml").write_text(
        'llm = "stub"\n[providers.stub]\nbase_url = "http://127.0.0.1:9/v1"\napi_key_env = "STUB_API_KEY"\n'
        f'model = "stub-chat"\n[memory]\nembedder = "minilm"\n[arxiv]\nendpoint = "{arxiv.url}"\n'
        f'rss_endpoint = "{arxiv.base}/rss"\ndelay_seconds = 0\nretries = 0\ntimeout_seconds = 300\n',
        encoding="utf-8",
    )
    return {**os.environ, "RIBAO_HOME": str(home), "STUB_API_KEY": "sk-stub-key-0123456789"}


def start(case: Case, env: dict[str, str], cwd: Path) -> subprocess.Popen[str]:
    args = [sys.executable, "-m", "ribao", "run", *case.args, *(["--quiet"] if case.quiet else [])]
    return subprocess.Popen(
        args, env=env, cwd=cwd, text=True, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
    )


def outcome(case: Case, proc: subprocess.Popen[str]) -> str | None:
    """Wait for `proc`; return what is wrong with its exit status and stderr, or None."""
    _, err = proc.communicate(timeout=300)
    lines = err.splitlines()
    if proc.returncode != case.status:
        return f"{case.name}: exit {proc.returncode}, expected {case.status}; stderr: {err[-1500:]}"
    if not lines or not re.fullmatch(case.line, lines[-1]):
        return f"{case.name}: last stderr line {lines[-1:]}, expected /{case.line}/; stderr: {err[-1500:]}"
    extra = [line for line in lines[:-1] if case.quiet or not TRACE.match(line)]
    return f"{case.name}: more than one line besides the trace: {extra}" if extra else None


def run_side_by_side(tmp_path: Path, chosen: list[Case]) -> list[str]:
    """Run the cases as `ribao` processes at once, each in its own home; return what went wrong."""
    tmp_path.mkdir(exist_ok=True)
    with running_server() as arxiv:
        arxiv.script = [Reply(body=EMPTY)]
        started = [
            (case, start(case, configure(tmp_path / f"home-{n}", arxiv), tmp_path))
            for n, case in enumerate(chosen)
        ]
        return [w for case, proc in started if (w := outcome(case, proc))]


def test_an_early_exit_has_its_status_and_one_line(tmp_path: Path) -> None:
    needs_export()
    first: dict[int, Case] = {}
    for case in cases(listing_files(tmp_path)):
        first.setdefault(case.status, case)  # the empty file, no papers in --categories, the API
    wrong = run_side_by_side(tmp_path, list(first.values()))
    assert not wrong, "\n".join(wrong)


@pytest.mark.slow
def test_every_early_exit_has_its_status_and_one_line_five_times(tmp_path: Path) -> None:
    needs_export()
    every = cases(listing_files(tmp_path))
    wrong = [w for attempt in range(5) for w in run_side_by_side(tmp_path / str(attempt), every)]
    assert not wrong, "\n".join(wrong)


@pytest.mark.parametrize("attempt", [1, *(pytest.param(n, marks=pytest.mark.slow) for n in range(2, 6))])
def test_ctrl_c_while_the_listing_is_read_exits_130_with_one_line(tmp_path: Path, attempt: int) -> None:
    needs_export()
    with running_server() as arxiv:
        arxiv.script = [HANG]
        case = Case("Ctrl-C", ["--source", "arxiv", "--date", "2026-02-18"], 130, re.escape(INTERRUPTED))
        proc = start(case, configure(tmp_path / "home", arxiv), tmp_path)
        while not arxiv.seen:
            assert proc.poll() is None, f"the run ended before asking arXiv: {proc.communicate()[1]}"
            time.sleep(0.02)
        proc.send_signal(signal.SIGINT)
        arxiv.release.set()
        wrong = outcome(case, proc)
    assert wrong is None, wrong

"""The workflow `ribao init github-actions` writes: when it fires, what it keeps, how it exits."""

from __future__ import annotations

import datetime as dt
import re
import shlex
import subprocess
import sys
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
import yaml

from ribao.delivery.schedule import CRON_EXAMPLE, write_workflow
from ribao.errors import ConfigError

EASTERN = ZoneInfo("America/New_York")


def _workflow(tmp_path: Path) -> dict:
    return yaml.safe_load(write_workflow(tmp_path).read_text(encoding="utf-8"))


def _fire_times(cron: str, start: dt.date, days: int) -> list[dt.datetime]:
    """Expand a 'M H * * D1-D2' cron line (the only form the workflow uses) into UTC instants."""
    minute, hour, dom, month, dow = cron.split()
    assert (dom, month) == ("*", "*")
    lo, hi = (int(x) for x in dow.split("-"))
    out = []
    for i in range(days):
        day = start + dt.timedelta(days=i)
        if lo <= day.isoweekday() % 7 <= hi:  # cron: 0 = Sunday
            out.append(dt.datetime(day.year, day.month, day.day, int(hour), int(minute), tzinfo=dt.UTC))
    return out


@pytest.mark.parametrize("start", [dt.date(2026, 1, 11), dt.date(2026, 7, 12)], ids=["EST", "EDT"])
def test_the_schedule_fires_once_after_each_announcement_evening_in_both_dst_cases(tmp_path, start):
    on = _workflow(tmp_path)[True]  # YAML 1.1 reads the key `on` as True
    (cron,) = [entry["cron"] for entry in on["schedule"]]
    fires = _fire_times(cron, start, 7)
    # arXiv announces Sunday to Thursday at 20:00 US-Eastern: one run for each, 2-6 hours after it.
    evenings = [start + dt.timedelta(days=i) for i in range(5)]  # Sun..Thu
    assert [e.isoweekday() % 7 for e in evenings] == [0, 1, 2, 3, 4]
    assert len(fires) == len(evenings)
    for evening, fire in zip(evenings, fires, strict=True):
        announced = dt.datetime.combine(evening, dt.time(20, 0), tzinfo=EASTERN)
        assert dt.timedelta(hours=2) <= fire - announced <= dt.timedelta(hours=6), (evening, fire)


def test_the_workflow_keeps_the_home_treats_no_announcement_as_success_and_stays_enabled(tmp_path):
    steps = _workflow(tmp_path)["jobs"]["digest"]["steps"]
    uses = [s.get("uses", "") for s in steps]
    restore = steps[uses.index("actions/cache/restore@v4")]
    save = steps[uses.index("actions/cache/save@v4")]
    assert restore["with"]["path"] == save["with"]["path"] == ".ribao"
    assert save["if"] == "always()"  # a failed run still keeps its run log and day cache
    run = next(s for s in steps if s.get("id") == "run")["run"]
    # Replay the step's exit policy in a real shell for each exit status ribao documents.
    for status, expected in [(0, 0), (1, 1), (2, 2), (3, 0), (4, 4), (5, 0)]:
        script = run.replace("ribao run --llm deepseek --quiet", f"(exit {status})").replace(
            '>> "$GITHUB_OUTPUT"', ">/dev/null"
        )
        assert subprocess.run(["bash", "-c", script], capture_output=True).returncode == expected, status
    # The memory's MiniLM needs its ONNX export (setup.sh makes it locally).
    runs = [s.get("run", "") for s in steps]
    assert any("python -m ribao.memory" in r for r in runs)
    names = [s.get("name", "") for s in steps]
    keepalive = steps[names.index("Keepalive")]
    assert "/enable" in keepalive["run"]
    fail_on_push = next(s for s in steps if s.get("name", "").startswith("Fail when a push channel failed"))
    assert fail_on_push["if"] == "steps.run.outputs.status == '5'"


def test_an_existing_workflow_is_kept_unless_forced(tmp_path):
    path = write_workflow(tmp_path)
    path.write_text("mine", encoding="utf-8")
    with pytest.raises(ConfigError, match="--force"):
        write_workflow(tmp_path)
    assert path.read_text(encoding="utf-8") == "mine"
    write_workflow(tmp_path, force=True)
    assert "cron" in path.read_text(encoding="utf-8")


def test_the_init_command_writes_the_workflow_and_notes_a_repository_without_ribao(tmp_path):
    def init(root: Path) -> subprocess.CompletedProcess[str]:
        args = [sys.executable, "-m", "ribao", "init", "github-actions", "--root", str(root)]
        return subprocess.run(args, capture_output=True, text=True, cwd=Path(__file__).parents[1])

    done = init(tmp_path)
    assert done.returncode == 0, done.stderr
    assert (tmp_path / ".github/workflows/ribao.yml").is_file()
    assert "holds no ribao source" in done.stderr  # the workflow's `pip install ".[embed]"` would fail
    fork = tmp_path / "fork"
    fork.mkdir()
    (fork / "pyproject.toml").write_bytes((Path(__file__).parents[1] / "pyproject.toml").read_bytes())
    done = init(fork)
    assert done.returncode == 0 and done.stderr == "", done.stderr


@pytest.mark.parametrize("status, expected", [(0, 0), (3, 0), (1, 1), (5, 1)])
def test_the_cron_example_is_quiet_only_for_no_announcement(status, expected):
    line = CRON_EXAMPLE.splitlines()[-1]
    command = line.split(None, 5)[5]
    # A stand-in `ribao` that exits with the given status; the line itself runs unchanged.
    assert subprocess.run(["bash", "-c", f"ribao() {{ return {status}; }}; {command}"]).returncode == expected


def test_a_first_run_without_a_digest_publishes_nothing_and_succeeds(tmp_path):
    steps = _workflow(tmp_path)["jobs"]["digest"]["steps"]
    publish = next(s["run"] for s in steps if "ribao site build" in s.get("run", ""))
    (tmp_path / ".ribao" / "digests").mkdir(parents=True)  # the run step may have made the folder
    # A stand-in `ribao` and `git` that fail if called: with no digest the step stops before them.
    script = "ribao() { exit 9; }; git() { exit 9; }\n" + publish
    done = subprocess.run(["bash", "-e", "-c", script], cwd=tmp_path, capture_output=True, text=True)
    assert done.returncode == 0 and "no digest yet" in done.stdout, done.stderr


def _installs(run: str) -> list[list[str]]:
    """Return the arguments of each `pip install` command in a step's shell script."""
    commands = []
    for line in run.splitlines():
        words = shlex.split(line, comments=True)
        if words[:1] == ["python"] and words[1:3] == ["-m", "pip"]:
            words = words[2:]
        if words[:2] == ["pip", "install"]:
            commands.append(words[2:])
    return commands


PIN = re.compile(r"^[A-Za-z0-9._-]+==[0-9][0-9A-Za-z.+!-]*$")  # name==version, no wildcard
GIT_AT_COMMIT = re.compile(r"^git\+https://\S+@[0-9a-f]{40}(#.*)?$")
VALUED = {"--index-url", "-i", "--extra-index-url", "--find-links", "-f", "-c", "--constraint"}


def _requirements(args: list[str]) -> list[str]:
    """Return what a `pip install` command installs: its arguments that are no option or option value."""
    reqs, value = [], False
    for a in args:
        if not value and not a.startswith("-"):
            reqs.append(a)
        value = a in VALUED
    return reqs


def test_the_workflow_installs_ribao_from_the_checkout_and_nothing_unpinned_from_an_index(tmp_path):
    steps = _workflow(tmp_path)["jobs"]["digest"]["steps"]
    uses = [s.get("uses", "") for s in steps]
    installs = [(i, args) for i, s in enumerate(steps) for args in _installs(s.get("run", ""))]
    assert installs, "the workflow installs nothing"
    local = []
    for i, args in installs:
        options = [a for a in args if a.startswith("-")]
        assert "--extra-index-url" not in options, args  # pip takes the highest version across indexes
        assert not {"-r", "--requirement", "-e", "--editable"} & set(options), args
        for req in _requirements(args):
            if req.startswith((".", "/")):
                local.append((i, req))
            else:
                assert PIN.match(req) or GIT_AT_COMMIT.match(req), f"unpinned from an index: {req} in {args}"
                assert not req.lower().startswith("ribao"), f"ribao by name: {args}"
    # ribao itself: the checkout the workflow runs in, with the embedder's extra, after checkout.
    assert [req for _, req in local] == [".[embed]"]
    assert uses.index("actions/checkout@v4") < local[0][0]
    export = next(i for i, s in enumerate(steps) if "python -m ribao.memory" in s.get("run", ""))
    assert local[0][0] < export
    # torch: its CPU build, pinned like scripts/setup.sh, from PyTorch's CPU index only, before ribao.
    setup = (Path(__file__).parents[1] / "scripts" / "setup.sh").read_text(encoding="utf-8")
    [(t, torch)] = [(i, a) for i, a in installs if any(r.startswith("torch==") for r in a)]
    pinned = next(r for r in torch if r.startswith("torch=="))
    assert f"'{pinned}'" in setup and t < local[0][0]
    assert torch[torch.index("--index-url") + 1] == "https://download.pytorch.org/whl/cpu"
    # pip's downloads are cached between runs.
    python = steps[uses.index("actions/setup-python@v5")]["with"]
    assert python["cache"] == "pip" and python["cache-dependency-path"] == "pyproject.toml"


def test_a_committed_feedback_file_reaches_the_home_of_the_run(tmp_path):
    import subprocess

    steps = [s.get("run", "") for s in _workflow(tmp_path)["jobs"]["digest"]["steps"]]
    setup = next(s for s in steps if "ribao.toml" in s)
    for committed in (False, True):
        repo = tmp_path / f"repo{committed}"
        repo.mkdir()
        (repo / "ribao.toml").write_text("", encoding="utf-8")
        if committed:
            (repo / "feedback.toml").write_text('[default]\nlike = ["2602.15067"]\n', encoding="utf-8")
        assert subprocess.run(["bash", "-ec", setup], cwd=repo).returncode == 0
        assert (repo / ".ribao" / "feedback.toml").exists() is committed

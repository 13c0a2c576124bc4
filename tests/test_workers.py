"""Workers on the Postgres queue: backfill adds one job per listing day, workers write each digest once."""

from __future__ import annotations

import json
import re
from pathlib import Path

from tests.support.http_run import respond
from tests.support.stub_openai import StubOpenAI
from tests.support.workers import jobs, listings_folder, ribao_ok, ribao_proc, worker_home


def test_backfill_queues_listing_days_and_a_worker_writes_each_once(
    tmp_path: Path, postgres_url: str
) -> None:
    folder = listings_folder(tmp_path / "listings")
    with StubOpenAI() as stub:
        stub.responder = respond
        env = worker_home(tmp_path / "home", stub, postgres_url)
        out = tmp_path / "digests"
        env["RIBAO_OUT_DIR"] = str(out)
        added = ribao_ok(
            "backfill",
            "--from",
            "2026-02-14",
            "--to",
            "2026-02-20",
            "--source",
            str(folder),
            env=env,
            cwd=tmp_path,
        )
        # Sat and Sun are not listing days; Mon 16 and Fri 20 have no file in the folder.
        assert added.splitlines() == [
            "2026-02-16 default: no listing",
            "2026-02-17 default: no listing",
            "2026-02-18 default: queued (job 1)",
            "2026-02-19 default: queued (job 2)",
            "2026-02-20 default: no listing",
        ]
        again = ribao_ok(
            "enqueue", "run", "--date", "2026-02-18", "--source", str(folder), env=env, cwd=tmp_path
        )
        assert again.strip() == "2026-02-18 default: already queued"

        listed = ribao_ok("runs", "list", env=env, cwd=tmp_path).splitlines()
        assert listed[0] == "Queue (ribao worker writes these):"
        assert [line.split()[2:5] for line in listed[1:3]] == [
            ["queued", "2026-02-18", "default"],
            ["queued", "2026-02-19", "default"],
        ]

        worker = ribao_proc("worker", "--until-empty", env=env, cwd=tmp_path)
        _, log = worker.communicate(timeout=300)
        assert worker.returncode == 0, log
        # The log grows with the jobs, not with the model requests: a log nobody drains (an unread
        # pipe, as the scale benchmark had) filled up at job 11 of 20 and stalled the worker.
        assert "HTTP Request" not in log
        assert len(log.splitlines()) < len(stub.chat_requests) / 2
        assert "Queue" not in ribao_ok("runs", "list", env=env, cwd=tmp_path)
        assert sorted(p.name for p in out.glob("*.md")) == ["2026-02-18.md", "2026-02-19.md"]
        assert [(j["lock"], j["status"]) for j in jobs(postgres_url)] == [
            ("-/2026-02-18", "succeeded"),
            ("-/2026-02-19", "succeeded"),
        ]
        calls = len(stub.chat_requests)
        written = ribao_ok(
            "backfill",
            "--from",
            "2026-02-18",
            "--to",
            "2026-02-19",
            "--source",
            str(folder),
            env=env,
            cwd=tmp_path,
        )
        assert written.splitlines() == ["2026-02-18 default: written", "2026-02-19 default: written"]
        forced = ribao_ok(
            "enqueue",
            "run",
            "--date",
            "2026-02-19",
            "--source",
            str(folder),
            "--force",
            env=env,
            cwd=tmp_path,
        )
        assert forced.startswith("2026-02-19 default: queued (job ")
        assert len(stub.chat_requests) == calls, "queueing calls no model"


def test_a_long_backfill_from_a_folder_of_a_few_days_says_the_days_without_a_listing_in_one_line(
    tmp_path: Path, postgres_url: str
) -> None:
    folder = listings_folder(tmp_path / "listings")
    with StubOpenAI() as stub:
        env = worker_home(tmp_path / "home", stub, postgres_url, '[profiles.nlp]\ninterests = "NLP"\n')
        args = ("backfill", "--from", "2025-01-01", "--to", "2026-02-20", "--source", str(folder))
        added = ribao_ok(*args, "--profile", "default", "--profile", "nlp", env=env, cwd=tmp_path)
    lines = added.splitlines()
    queued = [line for line in lines if ": queued (job " in line]
    assert [line.split(" (job")[0] for line in queued] == [
        "2026-02-18 default: queued", "2026-02-19 default: queued",
        "2026-02-18 nlp: queued", "2026-02-19 nlp: queued",
    ]  # fmt: skip
    # A year of listing days, two in the folder: one line per profile for the rest, not hundreds.
    rest = [line for line in lines if line not in queued]
    assert len(rest) == 2 and "no listing" not in added.replace("have no listing in", "")
    for line, name in zip(rest, ("default", "nlp"), strict=True):
        assert re.fullmatch(
            rf"{name}: (\d+) listing days from 2025-01-0\d to 2026-02-20 have no listing in "
            rf"{re.escape(str(folder))}: not queued",
            line,
        ), line
        assert int(line.split()[1]) > 250


def test_an_unknown_profile_or_a_missing_store_is_one_line_before_anything_is_queued(
    tmp_path: Path, postgres_url: str
) -> None:
    with StubOpenAI() as stub:
        env = worker_home(tmp_path / "home", stub, postgres_url, '[profiles.nlp]\ninterests = "NLP"\n')
        proc = ribao_proc(
            "enqueue", "run", "--date", "2026-02-18", "--profile", "vision", env=env, cwd=tmp_path
        )
        _, err = proc.communicate(timeout=60)
        assert proc.returncode == 2
        assert err.strip() == (
            "ribao: error: unknown profile 'vision'; known: default, nlp, example"
        )  # the names `ribao run --profile` knows: the bundled example reader too
        for name in ("example", "default"):
            args = ("enqueue", "run", "--date", "2026-02-18", "--profile", name)
            queued = ribao_ok(*args, env=env, cwd=tmp_path)
            assert queued.startswith(f"2026-02-18 {name}: queued (job "), queued

        env_no_store = worker_home(tmp_path / "home2", stub, postgres_url)
        (tmp_path / "home2" / "config.toml").write_text("max_critic_rounds = 1\n", encoding="utf-8")
        proc = ribao_proc("worker", "--until-empty", env=env_no_store, cwd=tmp_path)
        _, err = proc.communicate(timeout=60)
        assert proc.returncode == 1
        assert err.strip().splitlines()[-1].startswith("ribao: error: workers need a Postgres database")


def test_a_profile_job_runs_as_ribao_run_with_that_profile(tmp_path: Path, postgres_url: str) -> None:
    folder = listings_folder(tmp_path / "listings")
    with StubOpenAI() as stub:
        stub.responder = respond
        alice = '[profiles.alice]\ninterests = "robot learning"\nmust_read = 2\n'
        env = worker_home(tmp_path / "home", stub, postgres_url, alice, embedder="hash")
        out = tmp_path / "digests"
        env["RIBAO_OUT_DIR"] = str(out)
        added = ribao_ok(
            "enqueue", "run", "--date", "2026-02-18", "--profile", "alice", "--source", str(folder),
            env=env, cwd=tmp_path,
        )  # fmt: skip
        assert added.strip() == "2026-02-18 alice: queued (job 1)"
        ribao_ok("worker", "--until-empty", env=env, cwd=tmp_path)

        assert sorted(p.relative_to(out).as_posix() for p in out.rglob("*.md")) == ["alice/2026-02-18.md"]
        digest = json.loads((out / "alice" / "2026-02-18.json").read_text(encoding="utf-8"))
        assert digest["profile"] == "alice"
        assert sum(p["tier"] == "must_read" for p in digest["picks"]) == 2, "alice's picks, not the default 3"
        assert all("relevance" in p for p in digest["picks"]), "ranked for alice's interests"

        mine = json.loads(ribao_ok("memory", "stats", "--profile", "alice", "--json", env=env, cwd=tmp_path))
        default = json.loads(ribao_ok("memory", "stats", "--json", env=env, cwd=tmp_path))
        assert mine["count"] == len(digest["picks"]) and default["count"] == 0

        runs = json.loads(ribao_ok("runs", "list", "--json", env=env, cwd=tmp_path))
        assert [(r["status"], r["profile"]) for r in runs] == [("done", "alice")]

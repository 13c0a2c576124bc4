"""Real servers the backend tests run against: a throwaway PostgreSQL cluster and a Chroma server.

Each starts on a free loopback port in a temporary folder and is stopped by its PID whatever the tests
did (session fixtures; under xdist each worker has its own). Where a server cannot start here (no
PostgreSQL binaries, no `postgres` user to run them as root) the tests that need it skip and say why;
with `CI` set they fail instead, so CI never passes by skipping them.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

PG_USER = "postgres"


def pytest_configure(config: pytest.Config) -> None:
    """Make SIGTERM (a CI timeout, `kill PID`) unwind the session like Ctrl-C, so the server fixtures'
    teardown stops their servers by PID; Python's default SIGTERM exits with no teardown at all and
    left a Postgres cluster running after a killed pytest."""
    if signal.getsignal(signal.SIGTERM) is signal.SIG_DFL:
        signal.signal(signal.SIGTERM, signal.default_int_handler)


def free_port() -> int:
    """Return a TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _unavailable(why: str) -> None:
    if os.environ.get("CI"):
        pytest.fail(f"CI must run the backend tests, but {why}")
    pytest.skip(why)


# How long a server may take to start or take sessions: a guard against a hang only (each wait ends as
# soon as the server exits). A start-up of 1 s on a quiet machine took tens of seconds at load 26.
START_S = 300.0


def _as_pg_user(argv: list[str]) -> list[str]:
    """Run as the `postgres` user when root (initdb and pg_ctl refuse root), else as ourselves."""
    if os.geteuid() == 0:
        return ["runuser", "-u", PG_USER, "--", *argv]
    return argv


def _wait_port(port: int, seconds: float, proc: subprocess.Popen[bytes] | None = None) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if proc is not None and proc.poll() is not None:
            return False
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return True
        except OSError:
            time.sleep(0.1)
    return False


@dataclass
class Postgres:
    """A running throwaway cluster: `url` for the `postgres` database, `pid` of the postmaster."""

    folder: Path
    port: int
    pid: int
    bindir: Path | None = None  # of the postmaster: `restart` starts it again

    def restart(self, down_s: float = 0.0) -> None:
        """Stop the postmaster (fast shutdown: every session ends), wait `down_s` seconds with no server
        on the port, then start it again on the same data and port; returns once it takes logins."""
        assert self.bindir is not None, "a cluster started by start_postgres"
        os.kill(self.pid, signal.SIGINT)
        deadline = time.monotonic() + START_S
        while _alive(self.pid):
            assert time.monotonic() < deadline, "postgres did not stop"
            time.sleep(0.05)
        time.sleep(down_s)
        self.pid = _launch(self.bindir, self.folder, self.port).pid

    @property
    def url(self) -> str:
        return f"postgresql://{PG_USER}@127.0.0.1:{self.port}/postgres"

    def create_database(self, name: str) -> str:
        """Create database `name` and return its URL (one per test keeps tests apart)."""
        import psycopg

        deadline = time.monotonic() + START_S
        while True:  # the port opens before the cluster takes sessions ("the database system is starting up")
            try:
                with psycopg.connect(self.url, autocommit=True) as conn:
                    conn.execute(f'CREATE DATABASE "{name}"')
                break
            except psycopg.OperationalError:
                if time.monotonic() > deadline or not _alive(self.pid):
                    raise
                time.sleep(0.1)
        return f"postgresql://{PG_USER}@127.0.0.1:{self.port}/{name}"

    def stop(self) -> None:
        """Stop the postmaster by PID (fast shutdown), then remove the folder."""
        try:
            os.kill(self.pid, signal.SIGINT)
            deadline = time.monotonic() + 10
            while time.monotonic() < deadline and _alive(self.pid):
                time.sleep(0.05)
            if _alive(self.pid):
                os.kill(self.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        shutil.rmtree(self.folder, ignore_errors=True)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    try:  # a zombie child of ours counts as gone
        return Path(f"/proc/{pid}/stat").read_text().split()[2] != "Z"
    except OSError:
        return False


def start_postgres() -> Postgres:
    """Start a throwaway cluster on a free port; raises RuntimeError saying why it could not."""
    installed = sorted(Path("/usr/lib/postgresql").glob("*/bin/initdb"))
    initdb = shutil.which("initdb") or (str(installed[-1]) if installed else None)
    if initdb is None:
        raise RuntimeError("PostgreSQL's initdb is not installed")
    bindir = Path(initdb).resolve().parent
    folder = Path(tempfile.mkdtemp(prefix="ribao-pg-"))
    if os.geteuid() == 0:
        try:
            shutil.chown(folder, PG_USER)
        except (LookupError, PermissionError) as exc:
            shutil.rmtree(folder, ignore_errors=True)
            raise RuntimeError(f"no {PG_USER!r} user to run PostgreSQL as: {exc}") from exc
    data = folder / "data"
    port = free_port()
    init = subprocess.run(
        _as_pg_user([str(bindir / "initdb"), "-D", str(data), "-U", PG_USER, "-A", "trust", "-E", "UTF8",
                     "--no-sync"]),
        capture_output=True,
        text=True,
    )  # fmt: skip
    if init.returncode:
        shutil.rmtree(folder, ignore_errors=True)
        raise RuntimeError(f"initdb failed: {init.stderr.strip()[-300:]}")
    try:
        return _launch(bindir, folder, port)
    except RuntimeError:
        shutil.rmtree(folder, ignore_errors=True)
        raise


def _launch(bindir: Path, folder: Path, port: int) -> Postgres:
    """Start the postmaster of the cluster in `folder` on `port`; return once it takes logins."""
    data = folder / "data"
    log = open(folder / "server.log", "ab")  # noqa: SIM115 - the postmaster writes it while it runs
    options = ["-p", str(port), "-k", str(folder), "-c", "listen_addresses=127.0.0.1", "-c", "fsync=off",
               "-c", "max_connections=200"]  # fmt: skip
    proc = subprocess.Popen(
        _as_pg_user([str(bindir / "postgres"), "-D", str(data), *options]),
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    # runuser execs nothing itself: the postmaster is its child; stop it through its own pid file.
    if not _wait_port(port, START_S, proc):
        proc.kill()
        text = (folder / "server.log").read_text(errors="replace")[-300:]
        raise RuntimeError(f"postgres did not start: {text}")
    pid = int((data / "postmaster.pid").read_text().split()[0])
    server = Postgres(folder, port, pid, bindir)
    # The port opens before recovery ends ("the database system is starting up"): wait for a login.
    if not _accepts_logins(server.url, START_S):
        server.stop()
        raise RuntimeError(f"postgres did not accept connections within {START_S:g} s")
    return server


def _accepts_logins(url: str, seconds: float) -> bool:
    import psycopg

    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            with psycopg.connect(url, connect_timeout=2):
                return True
        except psycopg.OperationalError:
            time.sleep(0.1)
    return False


@dataclass
class ChromaServer:
    """A running `chroma run` server over `path`."""

    path: Path
    port: int
    proc: subprocess.Popen[bytes]

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def stop(self) -> None:
        """Stop the server by PID (SIGTERM, then SIGKILL after 10 s)."""
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


def start_chroma(path: Path, port: int | None = None) -> ChromaServer:
    """Start `chroma run` over `path` on `port` (default: a free one); raises RuntimeError saying why
    it could not."""
    chroma = Path(sys.executable).parent / "chroma"
    if not chroma.exists():
        raise RuntimeError(f"no chroma command beside {sys.executable}")
    port = port or free_port()
    env = {**os.environ, "ANONYMIZED_TELEMETRY": "False"}
    log = open(path.parent / f"chroma-{port}.log", "wb")  # noqa: SIM115 - the server writes it while it runs
    proc = subprocess.Popen(
        [str(chroma), "run", "--path", str(path), "--host", "127.0.0.1", "--port", str(port)],
        stdout=log,
        stderr=subprocess.STDOUT,
        env=env,
        start_new_session=True,
    )
    if not _wait_port(port, START_S, proc):
        proc.kill()
        text = (path.parent / f"chroma-{port}.log").read_text(errors="replace")[-300:]
        raise RuntimeError(f"chroma run did not start: {text}")
    return ChromaServer(path, port, proc)


@pytest.fixture(scope="session")
def postgres() -> Iterator[Postgres]:
    """A throwaway PostgreSQL cluster for the session, stopped by PID at the end."""
    try:
        server = start_postgres()
    except RuntimeError as exc:
        _unavailable(f"PostgreSQL cannot start here: {exc}")
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def own_postgres() -> Iterator[Postgres]:
    """A throwaway cluster of the test's own, for a test that restarts or stops it (that would end every
    other test's sessions on the session's cluster); stopped by PID at the end."""
    try:
        server = start_postgres()
    except RuntimeError as exc:
        _unavailable(f"PostgreSQL cannot start here: {exc}")
    try:
        yield server
    finally:
        server.stop()


_databases = iter(range(1, 1_000_000))


@pytest.fixture
def postgres_url(postgres: Postgres) -> str:
    """The URL of a fresh, empty database of the session's cluster, one per test."""
    return postgres.create_database(f"t{os.getpid()}_{next(_databases)}")


@pytest.fixture(scope="session")
def chroma_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ChromaServer]:
    """A Chroma server over an empty folder for the session, stopped by PID at the end."""
    try:
        server = start_chroma(tmp_path_factory.mktemp("chroma-server") / "store")
    except RuntimeError as exc:
        _unavailable(f"a Chroma server cannot start here: {exc}")
    try:
        yield server
    finally:
        server.stop()

"""Run llama-cpp-python's OpenAI-compatible server on a free loopback port for `--llm local`."""

from __future__ import annotations

import atexit
import os
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Mapping
from pathlib import Path
from types import FrameType
from typing import IO, Any

import requests

from ribao.errors import LocalModelError
from ribao.llm.config import ModelConfig
from ribao.llm.gguf import check_gguf, check_server_installed, default_gguf
from ribao.llm.idle import allowed_cpus, idle_cpus


def server_env(environ: Mapping[str, str]) -> dict[str, str]:
    """Return the llama.cpp server's environment: `environ` with OpenMP's threads told to sleep, not
    spin, while they wait for each other (`OMP_WAIT_POLICY=PASSIVE`, unless `environ` sets it).

    llama.cpp's wheel is built with OpenMP, whose spinning threads collapse when other processes
    want the same cores: on 2 CPUs at load 16-22, a 1,205-token prompt and 46 tokens took 197 s and
    45 CPU-s on 2 spinning threads, 33-47 s and 13-14 CPU-s on 2 passive ones, 57 s on 1 thread
    (`scripts/omp_bench.py`); a demo on a machine that got busy after it started failed on a 600 s
    timeout before this.
    """
    return {**environ, "OMP_WAIT_POLICY": environ.get("OMP_WAIT_POLICY") or "PASSIVE"}


def llama_threads() -> int:
    """Return llama.cpp's default thread count: every CPU this process may use while OpenMP's threads
    sleep as they wait (`server_env`'s default), else the CPUs idle now (`idle_cpus`).

    Sleeping threads give a busy core back: on 2 CPUs at load 12-15, a 1,205-token prompt and 46
    tokens took 60.8 s on 2 passive threads, 100.6 s on 1 and 306.8 s on 2 spinning ones
    (`scripts/omp_bench.py`, 2026-12-04), so the idle measure is kept for a spinning policy only.
    """
    if server_env(os.environ)["OMP_WAIT_POLICY"].upper() == "PASSIVE":
        return allowed_cpus()
    return idle_cpus()


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _on_sigterm(signum: int, frame: FrameType | None) -> None:
    # SystemExit unwinds the `with` block, whose __exit__ stops the server.
    raise SystemExit(128 + signum)


class _SigtermGuard:
    """Install `_on_sigterm` while at least one server runs; restore the previous handler after."""

    users = 0
    previous: Any = None

    @classmethod
    def hold(cls) -> bool:
        if threading.current_thread() is not threading.main_thread():
            return False  # signal.signal only works in the main thread
        if cls.users == 0:
            cls.previous = signal.signal(signal.SIGTERM, _on_sigterm)
        cls.users += 1
        return True

    @classmethod
    def release(cls) -> None:
        cls.users -= 1
        on_main = threading.current_thread() is threading.main_thread()
        if cls.users == 0 and on_main and signal.getsignal(signal.SIGTERM) is _on_sigterm:
            # None means "installed from C"; the closest we can restore is the default.
            signal.signal(signal.SIGTERM, cls.previous or signal.SIG_DFL)


class LocalLlamaServer:
    """`python -m llama_cpp.server` as a child process, stopped on exit, errors and signals.

    Use as a context manager. `model_path` defaults to `default_gguf()`; `n_ctx` is the context window in
    tokens. `n_threads` (generation) and `n_threads_batch` (prompt processing) default to `idle()`
    (`llama_threads`: every CPU allowed, or the CPUs not busy now under a spinning wait policy).
    `flash_attn` (default on) makes llama.cpp's CPU attention fused: 270 instead of 209 prompt tokens/s on
    a 1,821-token triage prompt, 2 threads, with generation within 5 % (SmolLM2-135M, measured).
    `grammar_first` (default on) runs the server through `ribao.llm.llama_server`, whose greedy
    constrained sampling asks the grammar about the chosen token before the whole vocabulary (same
    replies, 5-10 ms less per token); off, `python -m llama_cpp.server` as shipped. The server computes
    the logits of the last prompt token only (`--logits_all false`; ribao never asks for logprobs): with
    the server's default it computes and copies all 49,152 logits of every prompt token, which cost 6 %
    more CPU and 1,179 MB peak RSS instead of 463 MB on two 2,600-token triage prompts (SmolLM2-135M,
    n_ctx 8192, measured). llama.cpp keeps the previous request's KV cache, so a request that starts with
    the same tokens (system prompt, fixed instructions) evaluates only what follows ("N prefix-match hit"
    in the log, which also has llama.cpp's timings of every request). The server's stdout and stderr go to
    `log_path` (default a new temp file, kept after exit); a failed start raises `LocalModelError` with
    the log's tail. While it runs, SIGTERM to this process raises `SystemExit` so the child is stopped
    too, and an `atexit` hook stops it if the block is never left normally. On Linux the child also gets
    SIGTERM if this process is killed.
    """

    def __init__(
        self,
        model_path: str | Path | None = None,
        *,
        alias: str = "smollm2-135m",
        n_ctx: int = 8192,
        n_threads: int | None = None,
        n_threads_batch: int | None = None,
        flash_attn: bool = True,
        grammar_first: bool = True,
        log_path: str | Path | None = None,
        startup_timeout: float = 60.0,
        idle: Callable[[], int] = llama_threads,
    ) -> None:
        self.model_path = check_gguf(model_path) if model_path is not None else None
        self.alias = alias
        self.n_ctx = n_ctx
        self.n_threads, self.n_threads_batch = n_threads, n_threads_batch
        self.flash_attn = flash_attn
        self.grammar_first = grammar_first
        self.log_path = Path(log_path) if log_path is not None else None
        self.startup_timeout = startup_timeout
        self.idle = idle
        self.port: int | None = None
        self.process: subprocess.Popen[bytes] | None = None
        self._log: IO[bytes] | None = None
        self._holds_sigterm = False

    @property
    def base_url(self) -> str:
        """The OpenAI-style base URL, `http://127.0.0.1:<port>/v1`; only valid while running."""
        if self.port is None:
            raise LocalModelError("the local model server is not running")
        return f"http://127.0.0.1:{self.port}/v1"

    def model_config(self, **overrides: Any) -> ModelConfig:
        """Return a `ModelConfig` (local=True, no API key) for this server; `overrides` set fields."""
        fields: dict[str, Any] = {
            "model": self.alias,
            "base_url": self.base_url,
            "api_key_env": None,
            "local": True,
            "provider": "local",
            # llama.cpp serves one request at a time here: queue in ribao, not in the server, so
            # the timeout measures generation, which on 2 cores can take minutes for a long prompt.
            "max_concurrency": 1,
            "timeout": 600.0,
            "max_retries": 1,
        }
        return ModelConfig(**(fields | overrides))

    def server_args(self, model: Path) -> list[str]:
        """Return the `llama_cpp.server` arguments for `model` (port from `start`, else 0)."""
        args = ["--model", str(model), "--model_alias", self.alias, "--host", "127.0.0.1",
                "--port", str(self.port or 0), "--n_ctx", str(self.n_ctx),
                "--logits_all", "false", "--flash_attn", str(self.flash_attn).lower()]  # fmt: skip
        idle = self.idle() if self.n_threads is None or self.n_threads_batch is None else 0
        threads = self.n_threads if self.n_threads is not None else idle
        batch = self.n_threads_batch if self.n_threads_batch is not None else idle
        return [*args, "--n_threads", str(threads), "--n_threads_batch", str(batch)]

    def __enter__(self) -> LocalLlamaServer:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def start(self) -> None:
        """Start the server and wait until `GET /v1/models` answers; raises `LocalModelError`."""
        if self.process is not None:
            return
        check_server_installed()
        model = self.model_path or default_gguf()
        if self.log_path is None:
            fd, name = tempfile.mkstemp(prefix="ribao-llama-", suffix=".log")
            self.log_path = Path(name)
            self._log = open(fd, "wb")  # noqa: SIM115 - closed in stop()
        else:
            self.log_path.parent.mkdir(parents=True, exist_ok=True)
            self._log = self.log_path.open("wb")
        self.port = _free_port()
        server = "ribao.llm.llama_server" if self.grammar_first else "llama_cpp.server"
        cmd = [sys.executable, "-m", server, *self.server_args(model)]
        main_thread = threading.current_thread() is threading.main_thread()
        try:
            self.process = subprocess.Popen(
                cmd,
                stdin=subprocess.DEVNULL,
                stdout=self._log,
                stderr=subprocess.STDOUT,
                env=server_env(os.environ),
                # Not from a worker thread: the death signal fires when that *thread* ends.
                preexec_fn=_die_with_parent if main_thread and sys.platform == "linux" else None,
            )
            atexit.register(self.stop)
            self._holds_sigterm = _SigtermGuard.hold()
            self._wait_ready()
        except BaseException:
            self.stop()
            raise

    def _wait_ready(self) -> None:
        assert self.process is not None
        deadline = time.monotonic() + self.startup_timeout
        url = f"{self.base_url}/models"
        with requests.Session() as loopback:
            loopback.trust_env = False  # ignore HTTP_PROXY: the server is on 127.0.0.1
            while True:
                code = self.process.poll()
                if code is not None:
                    raise LocalModelError(
                        f"the local model server exited with status {code}:\n{self._log_tail()}"
                    )
                try:
                    if loopback.get(url, timeout=2).status_code == 200:
                        return
                except requests.RequestException:
                    pass
                if time.monotonic() > deadline:
                    raise LocalModelError(
                        f"the local model server did not answer {url} within {self.startup_timeout:.0f} s:\n"
                        f"{self._log_tail()}"
                    )
                time.sleep(0.1)

    def stop(self) -> None:
        """Stop the server (terminate, wait 10 s, then kill); safe to call more than once."""
        proc, self.process = self.process, None
        if proc is not None:
            if proc.poll() is None:
                proc.terminate()
                try:
                    proc.wait(timeout=10)
                except subprocess.TimeoutExpired:
                    proc.kill()
                    proc.wait()
            atexit.unregister(self.stop)
        if self._holds_sigterm:
            self._holds_sigterm = False
            _SigtermGuard.release()
        if self._log is not None:
            self._log.close()
            self._log = None
        self.port = None

    def _log_tail(self, lines: int = 20) -> str:
        if self._log is not None:
            self._log.flush()
        try:
            text = self.log_path.read_text(errors="replace") if self.log_path else ""
        except OSError:
            text = ""
        tail = "\n".join(text.splitlines()[-lines:])
        return f"{tail}\n(full log: {self.log_path})"


def _die_with_parent() -> None:
    """In the child, before exec: ask Linux to send SIGTERM when the parent dies (prctl)."""
    import ctypes

    pr_set_pdeathsig = 1
    ctypes.CDLL(None, use_errno=True).prctl(pr_set_pdeathsig, signal.SIGTERM)

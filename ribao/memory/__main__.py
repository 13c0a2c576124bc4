"""`python -m ribao.memory [DEST] [--check]`: make (or check) the MiniLM ONNX export the memory embeds
with, for an installed ribao (scripts/setup.sh runs `ribao/memory/export.py` from the checkout)."""

import sys

from ribao.memory.export import main

sys.exit(main(sys.argv[1:]))

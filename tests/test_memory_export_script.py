"""`python ribao/memory/export.py` runs as a script (scripts/setup.sh, the Actions workflow): its folder is
then first on sys.path, so no module there may shadow the standard library (a `copy.py` broke torch's
import and with it every fresh install)."""

from __future__ import annotations

import sys
from pathlib import Path

MEMORY = Path(__file__).resolve().parent.parent / "ribao" / "memory"


def test_no_module_beside_the_export_script_shadows_the_standard_library() -> None:
    shadowing = sorted(p.stem for p in MEMORY.glob("*.py") if p.stem in sys.stdlib_module_names)
    assert shadowing == []

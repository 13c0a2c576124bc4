"""The real listings the tests read: the bundled day (the demo's) and 40 papers of another day."""

from __future__ import annotations

from pathlib import Path

import ribao

#: The bundled real listing of 2026-02-18 (180 papers in cs.CL/cs.AI/cs.LG), as `ribao demo` reads it.
SAMPLE = Path(ribao.__file__).parent / "data" / "2026-02-18.cs.jsonl"


def sample_listing() -> Path:
    """Return the bundled real listing of 2026-02-18 (`SAMPLE`)."""
    return SAMPLE

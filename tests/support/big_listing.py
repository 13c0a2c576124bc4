"""A listing of any size made from the bundled day: its 180 real papers, then copies under new ids."""

from __future__ import annotations

import json
from pathlib import Path

from tests.support.samples import sample_listing


def write_listing(path: Path, size: int) -> Path:
    """Write a JSONL listing of `size` papers to `path`: the bundled day's, then copies of them with ids
    ``2602.9xxxx`` and a numbered title (the same day, categories and abstracts); return `path`."""
    rows = [json.loads(line) for line in sample_listing().read_text(encoding="utf-8").splitlines()]
    out = []
    for i in range(size):
        row = dict(rows[i % len(rows)])
        if i >= len(rows):
            pid = f"2602.9{i:04d}"
            title = f"{row['title']} (copy {i // len(rows)})"
            urls = {"abs_url": f"https://arxiv.org/abs/{pid}", "pdf_url": f"https://arxiv.org/pdf/{pid}"}
            row.update(id=pid, id_versioned=None, title=title, **urls)
        out.append(json.dumps(row, ensure_ascii=False))
    path.write_text("\n".join(out) + "\n", encoding="utf-8")
    return path

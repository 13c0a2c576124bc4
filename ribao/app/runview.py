"""Look into one recorded run: why a paper was or was not picked (`ribao runs why`), the run page
(`ribao runs view`)."""

from __future__ import annotations

from ribao.arxiv_ids import canonical_id
from ribao.errors import BadFlag
from ribao.runs.db import RunLog
from ribao.runs.why import PaperPath, path_of
from ribao.settings import Settings


def explain_paper(settings: Settings, ref: str, arxiv_id: str) -> PaperPath:
    """Return paper `arxiv_id`'s path through run `ref` (id, prefix or ``latest``) of the run log.

    Raises `BadFlag` (exit 2) for text that is no arXiv id and `RunNotFound` for an unknown run.
    """
    try:
        pid = canonical_id(arxiv_id)
    except ValueError as exc:
        raise BadFlag(f"{exc}; give an id like 2602.15763") from None
    with RunLog.open(settings.home) as log:
        return path_of(log, ref, pid)

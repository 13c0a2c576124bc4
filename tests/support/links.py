"""The real code links of a listing and the code URL each should give (normalisation, listing tests)."""

from __future__ import annotations

import json
import re
from pathlib import Path

DATA = Path(__file__).parent.parent / "data"
LINKS = [json.loads(line) for line in (DATA / "github-links.jsonl").read_text(encoding="utf-8").splitlines()]
CLEAN_URL = re.compile(
    r"https://github\.com/(?P<owner>[A-Za-z0-9_.-]+)/(?P<repo>[A-Za-z0-9_.-]*[A-Za-z0-9_-])"
)
# Tokens in the sample that name an account or nothing, never a repository.
NO_REPOSITORY = {
    "github.com.",
    "https://github.com/gut-puncture",
    "https://github.com/ncsu-dk-lab.",
    "https://github.com/zavareh1",
}


def expected_code_url(raw: str) -> str | None:
    """Return the clean link a raw token of github-links.jsonl names, worked out without normalize.

    The token is already cut out of its sentence, so this only drops what follows the repository
    name (wrappers, punctuation, sub-paths, ``.git``), the scheme and ``www.``.
    """
    if raw in NO_REPOSITORY:
        return None
    found = re.search(r"github\.com/([A-Za-z0-9_-]+)/([A-Za-z0-9_.-]+)", raw.replace("\\_", "_"), re.I)
    assert found, raw
    owner, repo = found[1], found[2].rstrip(".")
    if repo.lower().endswith(".git"):
        repo = repo[: -len(".git")].rstrip(".")
    return f"https://github.com/{owner}/{repo}"

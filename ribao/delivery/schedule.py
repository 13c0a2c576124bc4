"""Scheduled runs: the GitHub Actions workflow `ribao init github-actions` writes, and a cron example."""

from __future__ import annotations

import tomllib
from importlib import resources
from pathlib import Path

from ribao.errors import ConfigError

WORKFLOW_PATH = Path(".github/workflows/ribao.yml")

# For a server: crontab -e (times in UTC; the machine's TZ=UTC). Exit 3 (no announcement) counts as
# success; any other failure keeps a non-zero status (and cron mails the one error line).
CRON_EXAMPLE = """\
# m h dom mon dow  command   (05:30 UTC Mon-Fri: after arXiv's 20:00 US-Eastern announcement, both DST cases)
30 5 * * 1-5  RIBAO_HOME=$HOME/.local/share/ribao ribao run --llm deepseek --quiet || [ $? -eq 3 ]
"""


def workflow_text() -> str:
    """Return the GitHub Actions workflow (schedule, install from the checkout, RIBAO_HOME cache, exit 3,
    site, keepalive)."""
    return (resources.files("ribao.delivery") / "templates" / "github-actions.yml").read_text(
        encoding="utf-8"
    )


def write_workflow(
    root: Path, *, force: bool = False, rel: Path = WORKFLOW_PATH, text: str | None = None
) -> Path:
    """Write the workflow `text` (default: the scheduled run's) to `<root>/<rel>` (default
    `.github/workflows/ribao.yml`); raises `ConfigError` if it exists (unless `force`)."""
    path = root / rel
    if path.exists() and not force:
        raise ConfigError(f"{path} exists (use --force to replace it)")
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(workflow_text() if text is None else text, encoding="utf-8")
    return path


def is_ribao_checkout(root: Path) -> bool:
    """Return True if `root` holds ribao's source (its pyproject.toml names the project ribao): the
    workflow installs ribao from the repository it runs in."""
    try:
        project = tomllib.loads((root / "pyproject.toml").read_text(encoding="utf-8")).get("project", {})
    except (OSError, ValueError):
        return False
    return bool(project.get("name") == "ribao")

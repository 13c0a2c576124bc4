"""The pull-request workflow that measures prompt changes (`ribao init github-actions --prompts-job`)."""

from __future__ import annotations

from importlib import resources
from pathlib import Path

from ribao.delivery.schedule import write_workflow

PROMPTS_WORKFLOW_PATH = Path(".github/workflows/ribao-prompts.yml")
#: Where the workflow reads the recorded runs it replays, relative to the repository root.
RECORDED_HOME = Path("evals/home")


def prompts_workflow_text() -> str:
    """Return the workflow: on pull requests touching prompts/, replay the recorded runs of
    `RECORDED_HOME` with the base branch's and the pull request's prompts, comment, fail on regression."""
    return (resources.files("ribao.evals") / "templates" / "github-prompts.yml").read_text(encoding="utf-8")


def write_prompts_workflow(root: Path, *, force: bool = False) -> Path:
    """Write `<root>/.github/workflows/ribao-prompts.yml`; raises `ConfigError` if it exists (no `force`)."""
    return write_workflow(root, force=force, rel=PROMPTS_WORKFLOW_PATH, text=prompts_workflow_text())

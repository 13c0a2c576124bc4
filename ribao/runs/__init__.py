"""The run log: every run, node task and LLM call in `<home>/runs.sqlite` or Postgres, secrets scrubbed.

`RunRecorder` (in `ribao.runs.recorder`) feeds it from the graph's stream; it is not imported
here so that reading the log (`ribao runs list`) does not load LangChain.
"""

from ribao.errors import RunNotFound
from ribao.masking import scrub
from ribao.runs.backend import RUNS_FILE
from ribao.runs.db import RunLog
from ribao.runs.migrations import HEAD, RunLogError
from ribao.runs.redact import safe_settings
from ribao.runs.rows import STATUSES, AgentUsage, CallRow, NodeRow, RunRow, RunStatus

__all__ = [
    "RUNS_FILE",
    "HEAD",
    "STATUSES",
    "AgentUsage",
    "CallRow",
    "NodeRow",
    "RunLog",
    "RunLogError",
    "RunNotFound",
    "RunRow",
    "RunStatus",
    "safe_settings",
    "scrub",
]

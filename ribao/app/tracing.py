"""Export runs to an OpenTelemetry collector: after each run when `[tracing] otlp_endpoint` is set, and
on demand (`ribao runs export ID`)."""

from __future__ import annotations

import sys

from ribao.errors import BadFlag, ConfigError, RunNotFound, TraceExportFailed
from ribao.runs.db import RunLog
from ribao.settings import Settings
from ribao.settings_models import check_otlp_endpoint


def export_logged(log: RunLog, run_id: str, endpoint: str) -> tuple[int, str | None]:
    """Export run `run_id` of `log` to `endpoint`; return the number of spans and the warning, if any."""
    from ribao.runs.otlp import export_run  # OpenTelemetry loads only when a run is exported

    run = log.get_run(run_id)
    nodes, calls = log.nodes(run.run_id), log.calls(run.run_id)
    warning = export_run(run, nodes, calls, endpoint)
    return 1 + len(nodes) + len(calls), warning


def export_after_run(settings: Settings, log: RunLog, run_id: str) -> None:
    """Export a run that just ended when an endpoint is set; a collector that is down is one
    ``ribao: warning:`` line on stderr, never a failed run."""
    endpoint = settings.tracing.otlp_endpoint
    if not endpoint:
        return
    try:
        _, warning = export_logged(log, run_id, endpoint)
    except RunNotFound:  # the run failed before it was recorded: nothing to export
        return
    if warning:
        print(f"ribao: warning: {warning}", file=sys.stderr)


def export_recorded(settings: Settings, ref: str, endpoint: str | None = None) -> tuple[str, int, str]:
    """Export the recorded run `ref` (an id, a unique prefix or ``latest``) to `endpoint` (default: the
    setting); return its id, the number of spans and the endpoint.

    Raises `ConfigError` without an endpoint, `BadFlag` for a malformed one, `RunNotFound` for an
    unknown run, `TraceExportFailed`.
    """
    if endpoint:
        try:
            check_otlp_endpoint(endpoint)
        except ValueError as exc:
            raise BadFlag(f"--endpoint: {exc}") from None
    endpoint = endpoint or settings.tracing.otlp_endpoint
    if not endpoint:
        raise ConfigError("no OTLP endpoint: set [tracing] otlp_endpoint in config.toml or give --endpoint")
    with RunLog.open(settings.home, url=settings.store.url) as log:
        run_id = log.get_run(ref).run_id
        count, warning = export_logged(log, run_id, endpoint)
    if warning:
        raise TraceExportFailed(warning)
    return run_id, count, endpoint

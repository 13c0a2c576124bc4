"""Re-send a written digest (`ribao push DATE`), recording each channel under the digest's run."""

from __future__ import annotations

import datetime as dt

from ribao.delivery.channels import check_env, select
from ribao.delivery.send import DigestFiles, deliver
from ribao.errors import ConfigError
from ribao.runs.db import RunLog, RunNotFound
from ribao.schemas import DeliveryRecord
from ribao.settings import Settings


def resend(settings: Settings, date: dt.date, names: list[str] | None = None) -> list[DeliveryRecord]:
    """Send `<out_dir>/<date>.json|.md|.html` to the channels `names` (all configured when None).

    Returns one record per channel; they are added to the run log under the digest's run id when
    that run is on record. Raises `ConfigError` for no channel, an unknown name, an unset secret
    variable or a missing digest.
    """
    if not settings.push:
        raise ConfigError("no [[push]] channel in config.toml")
    channels = select(settings.push, names)
    check_env(channels)
    path = settings.out_dir / f"{date.isoformat()}.json"
    if not path.exists():
        raise ConfigError(f"no digest for {date} in {settings.out_dir} (run `ribao run --date {date}` first)")
    files = DigestFiles.read(path)
    d = settings.delivery
    records = deliver(channels, files, site_url=settings.site_url, retries=d.retries,
                      backoff_seconds=d.backoff_seconds, timeout_seconds=d.timeout_seconds)  # fmt: skip
    with RunLog.open(settings.home) as log:
        try:
            log.get_run(str(files.record.get("run_id", "")))
        except RunNotFound:
            return records
        log.record_deliveries(str(files.record["run_id"]), records)
    return records

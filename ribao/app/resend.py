"""Re-send a written digest (`ribao push DATE`), recording each channel under the digest's run."""

from __future__ import annotations

import datetime as dt

from ribao.app.services import delivery_for
from ribao.delivery.send import DigestFiles
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
    delivery = delivery_for(settings, names)
    if delivery is None:
        raise ConfigError("no [[push]] channel in config.toml")
    path = settings.out_dir / f"{date.isoformat()}.json"
    if not path.exists():
        raise ConfigError(f"no digest for {date} in {settings.out_dir} (run `ribao run --date {date}` first)")
    files = DigestFiles.read(path)
    records = delivery.send(files)
    with RunLog.open(settings.home) as log:
        run_id = str(files.record.get("run_id", ""))
        try:
            log.get_run(run_id)
        except RunNotFound:
            return records
        log.record_deliveries(run_id, records)
    return records

"""Re-send a written digest (`ribao push DATE`), recording each channel under the digest's run."""

from __future__ import annotations

import datetime as dt

from ribao.app.services import delivery_for
from ribao.delivery.send import DigestFiles
from ribao.errors import ConfigError, RunNotFound
from ribao.runs.db import RunLog
from ribao.runs.digests import find_digest
from ribao.schemas import DeliveryRecord
from ribao.settings import Settings


def resend(
    settings: Settings, date: dt.date, names: list[str] | None = None, *, search_runs: bool = True
) -> list[DeliveryRecord]:
    """Send the written `<date>.json|.md|.html` to the channels `names` (all configured when None):
    the newest finished run's files (from the run log), else `<out_dir>/<date>.*`; only the latter
    without `search_runs` (a folder given by flag).

    Returns one record per channel; they are added to the run log under the digest's run id when
    that run is on record. Raises `ConfigError` for no channel, an unknown name, an unset secret
    variable; `DigestNotFound` for a missing digest.
    """
    delivery = delivery_for(settings, names)
    if delivery is None:
        raise ConfigError("no [[push]] channel in config.toml")
    path = find_digest(
        date, settings.out_dir, home=settings.home if search_runs else None, url=settings.store.url
    )
    files = DigestFiles.read(path)
    records = delivery.send(files)
    with RunLog.open(settings.home, url=settings.store.url) as log:
        run_id = files.record.run_id
        try:
            log.get_run(run_id)
        except RunNotFound:
            return records
        log.record_deliveries(run_id, records)
    return records

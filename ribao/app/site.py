"""Build the static archive of every written digest (`ribao site build`)."""

from __future__ import annotations

from pathlib import Path

from ribao.delivery.site import SiteResult, build_site
from ribao.errors import RunNotFound
from ribao.record import DigestRecord
from ribao.runs.backend import RUNS_FILE
from ribao.runs.db import RunLog
from ribao.runs.digests import written_digests
from ribao.settings import Settings


def build_archive(
    settings: Settings, out: Path, *, digests: Path | None = None, force: bool = False, runs: bool = False
) -> SiteResult:
    """Write the site of every digest to `out`: each day's newest finished run's digest (through the
    run log, wherever its --out was), else `<out_dir>/<date>.json`; only `digests/<date>.json` when a
    folder is given. With `runs`, the page of the run behind each digest too (`ribao runs view`), for
    the runs still in the run log. The home and digests folders are never replaced (`SiteFolderError`)."""
    paths = written_digests(
        digests or settings.out_dir, home=None if digests else settings.home, url=settings.store.url
    )
    # The folders of the digests read are protected too (build_site adds them).
    protect = [("home folder", settings.home), ("digests folder", settings.out_dir)]

    def run_pages(records: list[DigestRecord]) -> dict[str, str]:
        return digest_run_pages(settings, records)

    return build_site(
        paths,
        out,
        site_url=settings.site_url,
        protect=protect,
        force=force,
        run_pages=run_pages if runs else None,
    )


def digest_run_pages(settings: Settings, records: list[DigestRecord]) -> dict[str, str]:
    """Return run id → page of the run behind each digest that names one still in the run log."""
    from ribao.app.runview import graph_shape, run_record
    from ribao.runs.page import render_run_page

    if settings.store.url is None and not (settings.home / RUNS_FILE).exists():
        return {}
    pages: dict[str, str] = {}
    shape = graph_shape()
    with RunLog.open(settings.home, url=settings.store.url) as log:
        for r in records:
            if not r.run_id or r.run_id in pages:
                continue
            try:
                record = run_record(log, r.run_id)
            except RunNotFound:
                continue  # a digest whose run was recorded in another home
            pages[r.run_id] = render_run_page(record, shape, secrets=sorted(log.secrets))
    return pages

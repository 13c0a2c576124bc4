"""Build the static archive of every written digest (`ribao site build`)."""

from __future__ import annotations

from pathlib import Path

from ribao.delivery.site import SiteResult, build_site
from ribao.runs.digests import written_digests
from ribao.settings import Settings


def build_archive(
    settings: Settings, out: Path, *, digests: Path | None = None, force: bool = False
) -> SiteResult:
    """Write the site of every digest to `out`: each day's newest finished run's digest (through the
    run log, wherever its --out was), else `<out_dir>/<date>.json`; only `digests/<date>.json` when a
    folder is given. The home and digests folders are never replaced (`SiteFolderError`)."""
    paths = written_digests(
        digests or settings.out_dir, home=None if digests else settings.home, url=settings.store.url
    )
    # The folders of the digests read are protected too (build_site adds them).
    protect = [("home folder", settings.home), ("digests folder", settings.out_dir)]
    return build_site(paths, out, site_url=settings.site_url, protect=protect, force=force)

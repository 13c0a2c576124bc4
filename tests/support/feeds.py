"""A real listing feed of 2026-02-19 and the papers and moments the feed tests share."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

RSS = Path(__file__).parent.parent / "data" / "rss"
FEED = (RSS / "cs.CL+cs.AI+cs.LG.2026-02-19.xml").read_bytes()
EMPTY_FEED = (RSS / "cs.CL+cs.AI+cs.LG.2026-02-21-empty.xml").read_bytes()
OURS = ["cs.CL", "cs.AI", "cs.LG"]
D19 = dt.date(2026, 2, 19)
UTC = dt.UTC
THU_NOON = dt.datetime(2026, 2, 19, 12, 0, tzinfo=UTC)  # the Thursday listing is the latest
NEW = ["2602.16198", "2602.16531", "2602.15877", "2602.16438"]
CROSS = ["2602.15927"]

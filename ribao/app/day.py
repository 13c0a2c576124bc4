"""Write one day for several reader profiles: paper-level work paid once, a digest and a run per profile.

The day's run is an id (a ULID, `day_run`) grouping one ordinary run per profile. The profiles run one
after another; the first pays for the triage of the day's papers and the summaries of its picks, and
every later profile reuses them from `SharedWork` (scoped to the day's run id, so a resume finds them too).
Ranking, critique, the lead, the digest, the memory and the push are each profile's own.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from ulid import ULID

from ribao.app.services import (
    Services,
    absolute_out,
    compose,
    delivery_for,
    open_run_memory,
    settings_of_run,
    sharing,
)
from ribao.app.write import RunResult, preflight, resume_run, write_day
from ribao.errors import RibaoError, RunNotFound
from ribao.profiles.build import for_profile, profile_settings
from ribao.profiles.names import DEFAULT_PROFILE, check_profile
from ribao.runs.rows import RunRow
from ribao.runs.trace import Tracer
from ribao.settings import Settings

#: The settings a profile may override, recorded with each profile's run so a resume can rebuild the
#: settings of the profiles that had not started.
BASE_KEYS = ("out_dir", "must_read", "notable", "categories")


@dataclass
class DayResult:
    """What a day's run for several profiles produced: one finished run per profile, in order."""

    day_run: str
    runs: dict[str, RunResult] = field(default_factory=dict)
    #: Profiles whose run had already finished before a resume (their run ids).
    done_before: dict[str, str] = field(default_factory=dict)


def profiles_to_run(settings: Settings, names: list[str], every: bool) -> list[str]:
    """Return the profiles a run writes for: `names` checked (exit 2 for an unknown one, listing the
    known ones), or with `every` each configured profile (the default one only when none is)."""
    if every:
        return list(settings.profiles) or [DEFAULT_PROFILE]
    return list(dict.fromkeys(check_profile(settings, n) for n in names))


def settings_for(base: Settings, name: str) -> Settings:
    """Return profile `name`'s settings: the default profile's are `base`; a configured one's has its own
    picks, categories and output folder (`<out_dir>/<name>` unless set)."""
    return base if name == DEFAULT_PROFILE else for_profile(base, name)


@contextlib.contextmanager
def profile_services(services: Services, name: str, day_run: str, names: list[str]) -> Iterator[Services]:
    """Yield the services of profile `name`'s run in day run `day_run`: its settings, its own memory
    collection (the day's embedder reused), its push channels, its resolved profile, the shared work."""
    base = services.settings
    settings = settings_for(base, name)
    memory = services.memory
    with contextlib.ExitStack() as stack:
        if memory is not None and name != DEFAULT_PROFILE:
            memory = stack.enter_context(open_run_memory(base, name, memory.embedder))
        delivery = services.delivery
        if delivery is not None and name != DEFAULT_PROFILE:
            wanted = profile_settings(base, name).push or base.delivery.only or None
            delivery = delivery_for(base, wanted)
        profile = None
        if name != DEFAULT_PROFILE:
            from ribao.app.profiles import run_profile

            profile = run_profile(settings, name, services.models.get("screener"))
        labels: dict[str, Any] = {
            "profile": name,
            "day_run": day_run,
            "day_profiles": names,
            "day_base": base.model_dump(mode="json", include=set(BASE_KEYS)),
        }
        mine = replace(
            services, settings=settings, memory=memory, delivery=delivery, profile=profile, labels=labels
        )
        yield stack.enter_context(sharing(mine, day_run))


async def write_profiles(
    services: Services,
    date: dt.date | None,
    names: list[str],
    *,
    tracer: Tracer | None = None,
    day_run: str | None = None,
    done: dict[str, RunRow] | None = None,
) -> DayResult:
    """Write day `date` for each profile of `names` in turn, as day run `day_run` (default: a new ULID).

    `done` maps profiles to their runs already on record (a resume): a finished one is skipped, an
    unfinished one resumed from its checkpoint. Stops at the first failing profile and raises its
    error; the rest of the day continues with `ribao runs resume <day run>`.
    """
    tracer = tracer or Tracer()
    result = DayResult(day_run or str(ULID()))
    for name in names:
        row = (done or {}).get(name)
        if row is not None and row.status == "done":
            result.done_before[name] = row.run_id
            continue
        tracer.line(f"[bold]profile {name}[/bold] (day run {result.day_run})")
        with contextlib.ExitStack() as stack:
            # In a worker thread: opening Chroma and resolving the profile block (reading a library,
            # the arXiv API for seeds, deriving keywords with its own event loop).
            opened = profile_services(services, name, result.day_run, names)
            mine = await asyncio.to_thread(stack.enter_context, opened)
            if row is None:
                result.runs[name] = await write_day(mine, date, tracer=tracer)
            else:
                result.runs[name] = await resume_run(mine, row.run_id, date=date, tracer=tracer)
    return result


def run_profiles(
    settings: Settings, date: dt.date | None, names: list[str], *, tracer: Tracer, refresh: bool = False
) -> DayResult:
    """Write a day's digests for profiles `names` with the real models (`ribao run --profile …`)."""
    preflight(settings, date)
    from ribao.app.feedback import sync_file

    sync_file(settings)
    with compose(absolute_out(settings), refresh=refresh) as services:
        return asyncio.run(write_profiles(services, date, names, tracer=tracer))


def day_runs_of(settings: Settings, ref: str) -> tuple[str, list[RunRow]] | None:
    """Return (day run id, its profile runs) when `ref` names a day run or one of its profile runs; None
    for a run of one profile. Raises `RunNotFound` when `ref` names nothing."""
    with Services(settings=settings, models={}).run_log() as log:
        day = log.day_run_id(ref)
        if day is None:
            return None
        return day, log.profile_runs(day)


def resume_profiles(settings: Settings, ref: str, *, tracer: Tracer) -> DayResult:
    """Resume day run `ref` (or the day run of profile run `ref`): each finished profile is kept, each
    unfinished one resumed, each not started written, all with the settings the day's run recorded."""
    found = day_runs_of(settings, ref)
    if found is None or not found[1]:
        raise RunNotFound(f"no day run {ref!r} (see `ribao runs list`)")
    day, rows = found
    busy = [r.run_id for r in rows if r.status == "running"]
    if busy:
        raise RibaoError(f"run {busy[0]} of day run {day} is still running; nothing to resume")
    first = rows[0].settings
    recorded = settings_of_run({**first, **first.get("day_base", {})})
    base = recorded.model_copy(update={"out_dir": Path(recorded.out_dir).resolve()})
    by_profile = {r.settings["profile"]: r for r in rows}
    date = rows[0].date
    with compose(base) as services:
        return asyncio.run(
            write_profiles(
                services, date, list(first["day_profiles"]), tracer=tracer, day_run=day, done=by_profile
            )
        )

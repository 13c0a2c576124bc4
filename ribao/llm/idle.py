"""How many CPUs are idle now (not busy with other processes' work): llama.cpp's thread count."""

from __future__ import annotations

import os
import time
from typing import Any


def idle_cpus(interval: float = 0.5) -> int:
    """Return how many of the CPUs this process may use are not busy with other processes' work,
    measured over the next `interval` seconds (psutil's system-wide CPU times minus this process's
    own); at least 1. A CPU counts as busy from a quarter of a core used by others.

    For llama.cpp's threads (`n_threads`, `n_threads_batch`): they wait for each other by spinning,
    so on a busy machine a second thread costs CPU instead of saving time. On 2 CPUs at load 7, one
    1,800-token prompt took 13 CPU-s and 30-66 s with 1 thread against 35-38 CPU-s and 107-131 s
    with 2 (measured); on 2 idle CPUs a second thread made prompts 1.9x and generation 1.6x as fast.
    The load average is not used: it lags by minutes, so right after `scripts/setup.sh` it still
    read 1.4 on an idle machine and the demo ran on one thread.
    """
    import psutil

    allowed = allowed_cpus()
    me = psutil.Process()
    start, own_start, t0 = psutil.cpu_times(), me.cpu_times(), time.monotonic()
    time.sleep(interval)
    end, own_end, elapsed = psutil.cpu_times(), me.cpu_times(), time.monotonic() - t0
    return idle_from(allowed, busy_seconds(end) - busy_seconds(start),
                     busy_seconds(own_end) - busy_seconds(own_start), elapsed)  # fmt: skip


def allowed_cpus() -> int:
    """Return how many CPUs this process may run on (its affinity, else the machine's count)."""
    if hasattr(os, "sched_getaffinity"):
        return len(os.sched_getaffinity(0))
    return os.cpu_count() or 1


def busy_seconds(times: Any) -> float:
    """CPU seconds spent working in a psutil `cpu_times()` record (system-wide, or a process's)."""
    total = sum(getattr(times, f) for f in ("user", "system", "nice", "irq", "softirq", "steal")
                if hasattr(times, f))  # fmt: skip
    return float(total)


def idle_from(allowed: int, busy: float, own: float, elapsed: float) -> int:
    """`allowed` CPUs minus those busy with others: `busy` - `own` CPU seconds over `elapsed` seconds,
    a CPU counted from a quarter of a core; at least 1."""
    others = max(0.0, busy - own) / max(elapsed, 1e-6)
    return max(1, min(allowed, allowed - int(others + 0.75)))

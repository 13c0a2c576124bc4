"""Print the wall and CPU time of a `ribao` command line in fresh processes: medians of N runs.

python scripts/cli_startup.py [-n 5] -- runs why RUN_ID ARXIV_ID
"""

from __future__ import annotations

import argparse
import resource
import statistics
import subprocess
import sys
import time


def timed(argv: list[str]) -> tuple[float, float]:
    """Run ``python -m ribao ARGV`` once (exit status must be 0); return its wall and CPU (user + system)
    seconds. CPU time is what a busy machine does not inflate."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    subprocess.run([sys.executable, "-m", "ribao", *argv], check=True, stdout=subprocess.DEVNULL)
    seconds = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return seconds, (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def main() -> None:
    """Time the command line given after ``--``."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-n", type=int, default=5, help="fresh processes to time")
    parser.add_argument("argv", nargs="+", help="the ribao command line")
    args = parser.parse_args()
    walls, cpus = zip(*(timed(args.argv) for _ in range(args.n)), strict=True)
    print(
        f"ribao {' '.join(args.argv)}: wall median {statistics.median(walls):.3f} s "
        f"(min {min(walls):.3f}, max {max(walls):.3f}), CPU median {statistics.median(cpus):.3f} s, "
        f"over {args.n} fresh processes"
    )


if __name__ == "__main__":
    main()

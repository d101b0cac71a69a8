"""What the bench/ scripts share: the median wall and CPU time of a command run in fresh processes."""

from __future__ import annotations

import resource
import statistics
import subprocess
import time
from pathlib import Path


def measure(command: list[str], runs: int, cwd: Path | None = None) -> tuple[float, float]:
    """Median wall seconds and median CPU seconds (user + sys of the child and its children) of `command`, which must
    exit 0 (on a shared machine CPU time is the steadier figure)."""
    walls, cpus = [], []
    for _ in range(runs):
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        start = time.perf_counter()
        result = subprocess.run(command, cwd=cwd, capture_output=True, text=True, check=False)
        walls.append(time.perf_counter() - start)
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        cpus.append(after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime)
        if result.returncode != 0:
            raise SystemExit(f"{' '.join(command)} exited {result.returncode}:\n{result.stdout}{result.stderr}")
    return statistics.median(walls), statistics.median(cpus)

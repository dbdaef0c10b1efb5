"""The demo and benchmark inputs, and the job functions the demos, tests and benchmarks share.

``workloads.json``, beside this module, holds every demo and benchmark input; the Go programs
read the same file (``go_equivalents/internal/workloads``), so both sides run the same work.
It ships in the package, so the demo runs from an installed wheel.

The job functions live in the package, not beside the code that uses them, because a process
pool sends a function by name: the child process must be able to import it.

``spin`` is the CPU-bound job. Its Go twin (``go_equivalents``) does the same arithmetic
and returns the same number for the same ``n``, so the two sides provably do the same work.
"""

from __future__ import annotations

import json
import os
import time
from pathlib import Path
from typing import Any

__all__ = [
    "fail_on",
    "flaky",
    "load_workloads",
    "runs_of",
    "sleep_then_square",
    "spin",
    "square",
    "worker_pid",
    "workloads_file",
]


def spin(n: int) -> int:
    """Burn CPU in pure Python: *n* steps of a small hash. Holds the GIL throughout."""
    acc = 0
    for i in range(n):
        acc = (acc * 31 + i) % 1_000_003
    return acc


def square(x: int) -> int:
    """Return ``x * x``: a job with (almost) no cost, to measure dispatch overhead."""
    return x * x


def spin_job(n: int, _: object = None) -> int:
    """``spin(n)`` whatever the job: a pool of identical CPU-bound jobs (use with partial)."""
    return spin(n)


def sleep_then_square(x: int, seconds: float = 0.01) -> int:
    """Block the calling thread for *seconds*, then return ``x * x``."""
    time.sleep(seconds)
    return x * x


def fail_on(bad: int, x: int) -> int:
    """Return ``x * x``, or raise ``ValueError`` when ``x == bad`` (use with functools.partial)."""
    if x == bad:
        raise ValueError(f"job {x} is bad")
    return x * x


def flaky(directory: str, job: tuple[str, int, str]) -> str:
    """Job ``(name, fails, kind)``: raise ``kind`` (``"ConnectionError"`` or ``"ValueError"``)
    on its first *fails* runs, then return *name*. Runs are counted in a file under
    *directory*, so the count holds across processes (use with functools.partial)."""
    name, fails, kind = job
    counter = Path(directory) / name
    with counter.open("a") as f:  # one byte per run: appends from processes do not collide
        f.write(".")
    runs = counter.stat().st_size
    if runs <= fails:
        raise {"ConnectionError": ConnectionError, "ValueError": ValueError}[kind](
            f"{name}: run {runs} fails")
    return name


def runs_of(directory: str, name: str) -> int:
    """How many times ``flaky`` ran job *name*."""
    counter = Path(directory) / name
    return counter.stat().st_size if counter.exists() else 0


def worker_pid(_: object = None) -> int:
    """Return the process id of the process that runs this job."""
    return os.getpid()


def workloads_file() -> Path:
    """Where ``workloads.json`` is: ``$CONCURRENCY_PATTERNS_WORKLOADS``, or beside this module."""
    if override := os.environ.get("CONCURRENCY_PATTERNS_WORKLOADS"):
        return Path(override)
    return Path(__file__).with_name("workloads.json")


def load_workloads(section: str) -> dict[str, dict[str, Any]]:
    """One section (``"demo"``, ``"benchmarks"``) of ``workloads.json``, keyed by pattern."""
    workloads: dict[str, dict[str, Any]] = json.loads(workloads_file().read_text())[section]
    return workloads

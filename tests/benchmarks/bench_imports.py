"""imports: what importing a namespace costs, beside importing its model alone.

Each round is a fresh interpreter that times one import statement with ``perf_counter`` around
it, and reads its own peak RSS (``VmHWM`` in ``/proc/self/status``) after it: interpreter
start-up is in neither figure's difference, and the memory is the measured process's own. The
rows, per namespace:

* the model alone (``import threading``, ``import asyncio``, ``import anyio``,
  ``import concurrent.futures``): what any code on that model pays already;
* ``import concurrency_patterns.<model>``: what importing the namespace adds;
* every name read: the namespace imported and each of its names read, which loads every
  pattern module it serves (a model's own library, asyncio or anyio, loads only when code
  first runs): what a service that uses the whole namespace pays to start.

The project's target: the namespace import within 20 ms and 3 MB of the model alone.
"""

from __future__ import annotations

import datetime
import json
import statistics
import subprocess
import sys
from typing import Any

import pytest

PATTERN = "imports"
MODELS = {"threads": "threading", "asyncio": "asyncio", "anyio": "anyio",
          "processes": "concurrent.futures"}

PROBE = """
import sys, time
def peak_kib():
    with open("/proc/self/status") as status:
        return next(int(line.split()[1]) for line in status if line.startswith("VmHWM:"))
before = peak_kib()
start = time.perf_counter()
exec(sys.argv[1])
seconds = time.perf_counter() - start
print(seconds, peak_kib() - before, peak_kib())
"""


def probe(statement: str) -> tuple[float, int, int]:
    """Seconds the statement took in a fresh interpreter, the peak RSS it added, and the
    process's peak RSS after it (KiB)."""
    out = subprocess.run([sys.executable, "-c", PROBE, statement], capture_output=True,
                         text=True, check=True, timeout=60)
    seconds, added, peak = out.stdout.split()
    return float(seconds), int(added), int(peak)


def rows_for(ns: str, rounds: int) -> list[dict[str, Any]]:
    """The three rows of one namespace, each over *rounds* fresh interpreters, interleaved so
    that a slow spell of the machine falls on every row alike."""
    statements = {
        f"import {MODELS[ns]}": f"import {MODELS[ns]}",
        f"import concurrency_patterns.{ns}": f"import concurrency_patterns.{ns}",
        "every name read": (f"import concurrency_patterns.{ns} as n\n"
                            "for name in n.__all__: getattr(n, name)"),
    }
    samples: dict[str, list[tuple[float, int, int]]] = {k: [] for k in statements}
    for _ in range(rounds):
        for label, statement in statements.items():
            samples[label].append(probe(statement))
    rows = []
    for label, got in samples.items():
        seconds = sorted(s for s, _, _ in got)
        q = statistics.quantiles(seconds, n=4) if len(seconds) > 1 else [seconds[0]] * 3
        rows.append({
            "namespace": ns, "row": label,
            "median_s": statistics.median(seconds), "iqr_s": q[2] - q[0],
            "peak_kib": statistics.median(p for _, _, p in got),
            "rounds": rounds, "date": datetime.date.today().isoformat(),
        })
    return rows


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc/self/status")
@pytest.mark.parametrize("ns", list(MODELS))
def test_import_cost(request: pytest.FixtureRequest, benchmark: Any, ns: str) -> None:
    quick = benchmark.disabled or request.config.getoption("workloads") == "quick"
    rows = rows_for(ns, 3 if quick else 15)
    benchmark.group = "imports: a namespace beside its model alone"
    benchmark.name = f"import concurrency_patterns.{ns}"
    benchmark.extra_info.update(pattern=PATTERN, imports=rows)
    benchmark.pedantic(lambda: None, rounds=1)
    print(json.dumps(rows))

"""``concurrency-patterns demo``: every pattern, every variant, one line each.

Each pattern's demo is the module of this package named by its slug. Its ``demo(workload)``
returns one call per variant, and every call returns the line the demo prints. ``run_demos``
runs them all on the ``demo`` workload of ``workloads.json`` and checks that the variants
agree. That line is also what the pattern's Go program prints for the same input
(``go run ./<slug>`` in ``go_equivalents/``).
"""

from __future__ import annotations

import importlib
import sys
import textwrap
from collections.abc import Awaitable, Callable
from functools import partial
from typing import Any

import anyio

from ..registry import SLUGS
from ..workloads import load_workloads

__all__ = ["Line", "Runs", "each_backend", "on", "run_demos", "runs"]

WIDTH = 100  # the terminal columns the demo's output fits

Line = str
Runs = dict[str, Callable[[], Line]]  # variant name -> a call that returns the demo line


def on(backend: str, fn: Callable[..., Awaitable[Line]], *args: Any) -> Callable[[], Line]:
    """A call that runs ``await fn(*args)`` in a new event loop of *backend*."""
    return lambda: anyio.run(partial(fn, *args), backend=backend)


def each_backend(name: str, fn: Callable[..., Awaitable[Line]], *args: Any) -> Runs:
    """The anyio variant *name*, once on asyncio and once on trio."""
    return {f"{name}/asyncio": on("asyncio", fn, *args), f"{name}/trio": on("trio", fn, *args)}


def runs(slug: str) -> Runs:
    """The demo of *slug*, one call per variant, on its ``demo`` workload."""
    module = importlib.import_module(f"{__name__}.{slug}")
    demo: Callable[[dict[str, Any]], Runs] = module.demo
    return demo(load_workloads("demo")[slug])


def run_demos(slugs: list[str], *, verbose: bool = False) -> int:
    """Run the demos of *slugs* (all when empty); print one line each; 0 if all agree."""
    status = 0
    for slug in slugs or SLUGS:
        lines = {variant: run() for variant, run in runs(slug).items()}
        distinct = set(lines.values())
        if len(distinct) == 1:
            # One line per pattern, wrapped to fit 100 columns; continuation lines indented.
            print(textwrap.fill(distinct.pop(), WIDTH, subsequent_indent="    "))
            if verbose:
                print(f"  (the same from: {', '.join(lines)})")
        else:
            status = 1
            print(f"{slug}: the variants disagree:", file=sys.stderr)
            for variant, text in lines.items():
                print(f"  {variant}: {text}", file=sys.stderr)
    return status

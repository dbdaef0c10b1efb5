"""``concurrency-patterns demo``: every pattern, every variant, one line each.

Each pattern's demo is the module of this package named by its slug. Its ``demo(workload)``
returns one call per variant, and every call returns the line the demo prints. ``run_demos``
runs them all on the ``demo`` workload of ``workloads.json`` and checks that the variants
agree. That line is also what the pattern's Go program prints for the same input
(``go run ./<slug>`` in ``go_equivalents/``).
"""

from __future__ import annotations

import importlib
import importlib.util
import sys
import textwrap
from collections.abc import Awaitable, Callable
from functools import partial
from pathlib import Path
from typing import Any

import anyio

from concurrency_patterns import MissingExtra

from ..registry import SLUGS
from ..workloads import load_workloads

__all__ = ["Line", "Runs", "each_backend", "on", "output_file", "run_demos", "runs", "shown"]

WIDTH = 100  # the terminal columns the demo's output fits

Line = str
Runs = dict[str, Callable[[], Line]]  # variant name -> a call that returns the demo line


def on(backend: str, fn: Callable[..., Awaitable[Line]], *args: Any) -> Callable[[], Line]:
    """A call that runs ``await fn(*args)`` in a new event loop of *backend*."""
    def run() -> Line:
        if backend == "trio" and importlib.util.find_spec("trio") is None:
            raise MissingExtra("trio is not installed", extra="trio", name="trio")
        return anyio.run(partial(fn, *args), backend=backend)

    return run


def each_backend(name: str, fn: Callable[..., Awaitable[Line]], *args: Any) -> Runs:
    """The anyio variant *name*, once on asyncio and once on trio."""
    return {f"{name}/asyncio": on("asyncio", fn, *args), f"{name}/trio": on("trio", fn, *args)}


def runs(slug: str) -> Runs:
    """The demo of *slug*, one call per variant, on its ``demo`` workload."""
    module = importlib.import_module(f"{__name__}.{slug}")
    demo: Callable[[dict[str, Any]], Runs] = module.demo
    return demo(load_workloads("demo")[slug])


def _fill(text: str) -> str:
    """*text* wrapped to the terminal's 100 columns, continuation lines indented, and never
    split at a hyphen (``sub-deadline`` stays one word)."""
    return textwrap.fill(text, WIDTH, subsequent_indent="    ", break_on_hyphens=False)


def shown(line: Line) -> str:
    """*line* as the demo prints it: wrapped to 100 columns, continuation lines indented."""
    return _fill(line) + "\n"


def output_file(docs: Path, slug: str) -> Path:
    """Where the docs keep what *slug*'s programs print (its Go tab shows it)."""
    return docs / "output" / f"{slug}.txt"


def run_demos(slugs: list[str], *, verbose: bool = False, docs: Path | None = None) -> int:
    """Run the demos of *slugs* (all when empty); print one line each; 0 if all agree.

    With *docs*, also write each pattern's line to ``<docs>/output/<slug>.txt``, as the demo
    prints it: the Go tabs show it, and a test holds it to what the Go program prints."""
    status = 0
    for slug in slugs or SLUGS:
        lines: dict[str, Line] = {}
        missing: dict[str, str] = {}  # variant -> the extra it needs, when not installed
        for variant, run in runs(slug).items():
            try:
                lines[variant] = run()
            except MissingExtra as e:
                missing[variant] = e.extra
        distinct = set(lines.values())
        if missing:
            # An install without an extra runs what it can, and says what it left out.
            needs = ", ".join(f"{v} needs [{x}]" for v, x in missing.items())
            print(_fill(f"{slug}: not run: {needs}"))
        if len(distinct) == 1:
            # One line per pattern, wrapped to fit 100 columns; continuation lines indented.
            line = distinct.pop()
            print(_fill(line))
            if docs is not None:
                output_file(docs, slug).parent.mkdir(parents=True, exist_ok=True)
                output_file(docs, slug).write_text(shown(line))
            if verbose:
                print(_fill(f"  (the same from: {', '.join(lines)})"))
        elif not distinct:
            continue
        else:
            status = 1
            print(f"{slug}: the variants disagree:", file=sys.stderr)
            for variant, text in lines.items():
                print(f"  {variant}: {text}", file=sys.stderr)
    return status

"""Figures in the docs' prose, computed from the measurements the tables show.

A hand-written page never types a measured number. It writes a placeholder, and this module,
an mkdocs hook (``hooks:`` in ``mkdocs.yml``), replaces it with the figure computed from
``docs/generated/benchmarks.json``, the run the pages' tables come from::

    asyncio takes {{ ratio("bounded_fetch", "1000-urls", "asyncio") }} Go's time
    -> asyncio takes 2.21× Go's time

So prose and tables cannot disagree: a re-measured run changes both. A placeholder that names
a table, a row or a target the data lacks fails the build, naming the page and the
placeholder. ``tests/tools/test_figures.py`` renders every page's placeholders against the
committed data, and fails on a literal measured figure ("2.2×", "40 %", "as fast as") left
in the prose.

The functions a placeholder may call (a *workload* may be given by its first words: the one
table of *pattern* whose workload starts with them):

* ``ratio(pattern, workload, variant, to="go")``: *variant*'s median over *to*'s, "2.21×";
* ``time(pattern, workload, variant)``: the median, "282 ms";
* ``cpu(pattern, workload, variant)``: the client's CPU per request, "265 µs";
* ``floor(pattern, workload, variant)``: the share of the physical floor reached, "35%";
* ``speedup(pattern, workload, variant)``: the speed-up over sequential, "1.95×";
* ``per_job(pattern, workload, variant)``: the cost per job (per item), "0.80 µs";
* ``than(pattern, workload, variant, other)``: "faster than", "slower than", or "about as
  fast as" (within 5 %): how *variant*'s median compares with *other*'s;
* ``hand(pattern, workload, variant)``: *variant* against the hand-written row of its model,
  with what it adds to each operation (call, item, job): "1.31× (+1.13 µs an operation)";
* ``target(words)``: "met" or "missed", for the one target whose text contains *words*.
"""

from __future__ import annotations

import ast
import json
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

from concurrency_patterns.tools.compare import _time, times

__all__ = ["DATA", "PLACEHOLDER", "FigureError", "Figures", "on_page_markdown", "render"]

DATA = Path(__file__).resolve().parents[2] / "docs" / "generated" / "benchmarks.json"
# Not an excerpt's placeholder: the excerpts hook (excerpts.py) fills those, with code.
PLACEHOLDER = re.compile(r"\{\{\s*(?!excerpt\()(\w+)\((.*?)\)\s*\}\}")
SAME = 0.05  # "about as fast as": medians within 5 % of each other


class FigureError(Exception):
    """A placeholder the data cannot answer."""


class Figures:
    """The figures of one results file (compare's ``--json``)."""

    def __init__(self, data: dict[str, Any]) -> None:
        self._tables: list[dict[str, Any]] = data["tables"]
        self._targets: list[dict[str, Any]] = data.get("targets", [])

    @classmethod
    def load(cls, path: Path = DATA) -> Figures:
        return cls(json.loads(path.read_text()))

    # --- lookups -----------------------------------------------------------------------

    def table(self, pattern: str, workload: str) -> dict[str, Any]:
        found = [t for t in self._tables
                 if t["pattern"] == pattern and t["workload"].startswith(workload)]
        if len(found) != 1:
            names = [t["workload"] for t in self._tables if t["pattern"] == pattern]
            raise FigureError(f"{len(found)} tables of {pattern!r} start with {workload!r} "
                              f"(there are: {names})")
        return found[0]

    def row(self, pattern: str, workload: str, variant: str) -> dict[str, Any]:
        table = self.table(pattern, workload)
        for row in table["rows"]:
            if row["variant"] == variant:
                return row  # type: ignore[no-any-return]
        raise FigureError(f"no row {variant!r} in {pattern}: {table['workload']} (rows: "
                          f"{[r['variant'] for r in table['rows']]})")

    def _field(self, pattern: str, workload: str, variant: str, name: str) -> float:
        value = self.row(pattern, workload, variant)[name]
        if value is None:
            raise FigureError(f"{pattern}: {workload}: {variant} has no {name}")
        return float(value)

    # --- what a placeholder may call -----------------------------------------------------

    def ratio(self, pattern: str, workload: str, variant: str, to: str = "go") -> str:
        mine = self._field(pattern, workload, variant, "median")
        return times(mine / self._field(pattern, workload, to, "median"))

    def time(self, pattern: str, workload: str, variant: str) -> str:
        return _time(self._field(pattern, workload, variant, "median"))

    def cpu(self, pattern: str, workload: str, variant: str) -> str:
        return _time(self._field(pattern, workload, variant, "cpu_per_request"))

    def floor(self, pattern: str, workload: str, variant: str) -> str:
        return f"{self._field(pattern, workload, variant, 'efficiency'):.0%}"

    def speedup(self, pattern: str, workload: str, variant: str) -> str:
        return times(self._field(pattern, workload, variant, "speedup"))

    def per_job(self, pattern: str, workload: str, variant: str) -> str:
        return _time(self._field(pattern, workload, variant, "per_job"))

    def hand(self, pattern: str, workload: str, variant: str) -> str:
        ratio = self._field(pattern, workload, variant, "vs_hand")
        extra = self._field(pattern, workload, variant, "over_hand")
        return f"{times(ratio)} ({'+' if extra >= 0 else '−'}{_time(abs(extra))} an operation)"

    def than(self, pattern: str, workload: str, variant: str, other: str) -> str:
        ratio = (self._field(pattern, workload, variant, "median")
                 / self._field(pattern, workload, other, "median"))
        if abs(ratio - 1) <= SAME:
            return "about as fast as"
        return "faster than" if ratio < 1 else "slower than"

    def target(self, words: str) -> str:
        found = [t for t in self._targets if words in t["target"]]
        if len(found) != 1:
            raise FigureError(f"{len(found)} targets contain {words!r}")
        return "met" if found[0]["met"] else "missed"

    def call(self, name: str, arguments: str) -> str:
        if name.startswith("_") or name in ("load", "call", "table", "row"):
            raise FigureError(f"no figure called {name!r}")
        function: Callable[..., str] | None = getattr(self, name, None)
        if function is None:
            raise FigureError(f"no figure called {name!r}")
        try:
            parsed = ast.parse(f"f({arguments})", mode="eval").body
            assert isinstance(parsed, ast.Call)
            args = [ast.literal_eval(a) for a in parsed.args]
            kwargs = {k.arg: ast.literal_eval(k.value) for k in parsed.keywords if k.arg}
        except (SyntaxError, ValueError, AssertionError) as exc:
            raise FigureError(f"cannot read the arguments ({arguments}): {exc}") from None
        try:
            return function(*args, **kwargs)
        except TypeError as exc:
            raise FigureError(str(exc)) from None


def render(markdown: str, figures: Figures, where: str = "") -> str:
    """*markdown* with every placeholder replaced by its figure; ``FigureError`` naming
    *where* and the placeholder for one the data cannot answer."""

    def replace(match: re.Match[str]) -> str:
        try:
            return figures.call(match.group(1), match.group(2))
        except FigureError as exc:
            raise FigureError(f"{where}: {match.group(0)}: {exc}") from None

    return PLACEHOLDER.sub(replace, markdown)


_loaded: Figures | None = None


def on_page_markdown(markdown: str, page: Any, **_: Any) -> str:
    """The mkdocs hook: fill in the page's placeholders (most pages have none)."""
    global _loaded
    if PLACEHOLDER.search(markdown) is None:
        return markdown
    if _loaded is None:
        _loaded = Figures.load()
    return render(markdown, _loaded, where=page.file.src_path)

"""Go on its own: the Go modules a Go service uses beside the standard-library versions.

For the patterns whose Go program uses ``golang.org/x/sync``, ``golang.org/x/time`` or
``sourcegraph/conc``, the Go benchmarks run every version on the same workloads (sub-benchmarks
named ``impl=<version>``). This runs them with ``go test -bench -count=10``, as benchstat's
documentation asks, and summarises them with benchstat (``go tool benchstat``, pinned in
``go_equivalents/go.mod``): medians with their 95 % confidence interval, and each version
against the first, with its p-value. ``compare`` keeps its own timing for the tables that set
Python beside Go.

    concurrency-patterns go-bench --docs docs/generated    # writes go_versions.md
"""

from __future__ import annotations

import datetime
import os
import platform
import subprocess
import sys
from pathlib import Path

from .claims.core import cpu_model
from .repo import go_command

__all__ = ["VERSIONS", "run_go_bench"]

# The patterns whose Go benchmarks compare versions, and the versions, the first being the one
# the program uses. The names are the "impl" parameter each pattern's bench_test.go knows.
VERSIONS: dict[str, tuple[str, ...]] = {
    "errgroup": ("xsync", "inside", "conc"),
    "singleflight": ("xsync", "inside"),
    "rate_limit": ("xtime", "gcra"),
    "worker_pool": ("errgroup", "workers", "conc"),
}
LABELS = {
    "xsync": "golang.org/x/sync", "xtime": "golang.org/x/time/rate", "errgroup": "x/sync errgroup",
    "inside": "standard library (teaching)", "gcra": "standard library, GCRA (teaching)",
    "workers": "standard library, W workers + channel (teaching)", "conc": "sourcegraph/conc",
}


def run_go_bench(root: Path, docs_dir: Path | None, *, count: int = 10,
                 benchtime: str = "1s") -> int:
    """Run the version benchmarks in *root*/go_equivalents, print benchstat's summary, and
    write it to *docs_dir*/go_versions.md if given. Returns the exit status."""
    go = go_command()
    if go is None:
        print("go-bench: no Go toolchain (it comes with the [dev] extra)", file=sys.stderr)
        return 2
    env = {**os.environ, "GOTOOLCHAIN": "local"}
    cwd = root / "go_equivalents"
    sections = []
    for slug, versions in VERSIONS.items():
        print(f"go-bench: {slug} ({', '.join(versions)}), -count={count}", flush=True)
        bench = subprocess.run(
            [go, "test", "-run", "^$", "-bench", ".", f"-count={count}",
             f"-benchtime={benchtime}", f"./{slug}"],
            cwd=cwd, env=env, capture_output=True, text=True, check=False)
        if bench.returncode != 0:
            print(bench.stdout, bench.stderr, sep="\n", file=sys.stderr)
            return 1
        raw = root / "go_equivalents" / f".{slug}.bench.txt"
        raw.write_text(bench.stdout)
        try:
            text = subprocess.run(
                [go, "tool", "benchstat", "-col", "/impl", raw.name],
                cwd=cwd, env=env, capture_output=True, text=True, check=True).stdout
            table = subprocess.run(
                [go, "tool", "benchstat", "-format", "csv", "-col", "/impl", raw.name],
                cwd=cwd, env=env, capture_output=True, text=True, check=True).stdout
        finally:
            raw.unlink()
        print(text)
        sections.append((slug, versions, _tables(table)))
    if docs_dir is not None:
        (docs_dir / "go_versions.md").write_text(_markdown(sections, count, benchtime, go, env))
        print(f"go-bench: wrote {docs_dir / 'go_versions.md'}")
    return 0


def _markdown(sections: list[tuple[str, tuple[str, ...], list[str]]], count: int, benchtime: str,
              go: str, env: dict[str, str]) -> str:
    version = subprocess.run([go, "env", "GOVERSION"], env=env, capture_output=True, text=True,
                             check=False).stdout.strip()
    today = datetime.date.today().isoformat()
    out = [f"**Machine:** {cpu_model()}, {os.cpu_count()} cores, {platform.system()}; "
           f"{version}; measured {today}. Each benchmark ran `-count={count}` times for "
           f"`-benchtime={benchtime}`; benchstat gives the median of the runs, ± its 95 % "
           "confidence interval, and each column against the first (`~`: no significant "
           "difference, p ≥ 0.05).", ""]
    for slug, versions, tables in sections:
        names = ", ".join(f"`{v}` = {LABELS[v]}" for v in versions)
        out += [f"#### {slug}", "", f"Columns: {names}.", "", *tables, ""]
    return "\n".join(out)


_UNITS = {"sec/op": "time per round", "allocs/op": "allocations per round"}


def _tables(csv_text: str) -> list[str]:
    """benchstat's CSV (one section per unit) as Markdown tables, time and allocations."""
    import csv

    out: list[str] = []
    for block in csv_text.strip().split("\n\n"):
        rows = [r for r in csv.reader(block.splitlines()) if r and r[0] not in
                ("goos: linux",) and not r[0].startswith(("goos", "goarch", "pkg", "cpu"))]
        if len(rows) < 3:
            continue
        versions, units = rows[0], rows[1]
        unit = units[1]
        if unit not in _UNITS:
            continue
        header, cells = ["benchmark"], []
        for i, name in enumerate(versions):
            if name:
                header.append(f"`{name}`")
                cells.append(("value", i))
            elif units[i] == "vs base":
                header.append("vs first")
                cells.append(("vs", i))
        lines = [f"*{_UNITS[unit]}*", "", "| " + " | ".join(header) + " |",
                 "|" + "---|" * len(header)]
        for row in rows[2:]:
            if row[0] == "geomean":
                continue
            shown = [f"`{row[0].rsplit('-', 1)[0]}`"]
            for kind, i in cells:
                if kind == "vs":
                    shown.append(f"{row[i]} ({row[i + 1]})" if row[i] != "~" else
                                 f"~ ({row[i + 1]})")
                else:
                    shown.append(_value(row[i], unit, row[i + 1]))
            lines.append("| " + " | ".join(shown) + " |")
        out += [*lines, ""]
    return out


def _value(value: str, unit: str, ci: str) -> str:
    number = float(value)
    if unit == "sec/op":
        scale, name = next((s, n) for s, n in ((1, "s"), (1e-3, "ms"), (1e-6, "µs"),
                                                (1e-9, "ns")) if number >= s or s == 1e-9)
        text = f"{number / scale:.3g} {name}"
    else:
        text = f"{number:,.0f}"
    return f"{text} ± {ci}" if ci and ci != "∞" else text

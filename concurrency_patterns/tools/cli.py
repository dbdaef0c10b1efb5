"""The command line: ``concurrency-patterns <command>`` (or ``python -m concurrency_patterns``).

* ``demo [PATTERN...]`` runs every variant of each pattern on the demo workload and prints one
  line per pattern — the line its Go program prints too. It runs from an installed wheel.
* ``compare [PATTERN...]`` runs the benchmark suites and prints every variant against Go, one
  table per pattern workload (``--quick`` for a short run; ``--json``, ``--markdown`` and
  ``--chart`` write the results). It needs a clone of the repository.
* ``claims [ID...]`` checks the articles' measurable claims on this machine and prints each
  with the article's figure, ours and a verdict (``--quick``; ``--json``, ``--markdown``).
  It needs a clone of the repository.
* ``list`` names the patterns, what each does, and the claims that concern it.

Patterns are named by slug, with underscores or dashes (``worker_pool``, ``worker-pool``).
Exit status: 0 on success, 1 when a run failed, 2 for a usage error or a command that needs
the repository.
"""

from __future__ import annotations

import argparse
import sys
import textwrap
from collections.abc import Sequence
from pathlib import Path

from .. import __version__
from .registry import PATTERNS, SLUGS, pattern
from .repo import NeedsRepository, free_threaded_python, repository

__all__ = ["main"]


def _slug(name: str) -> str:
    try:
        return pattern(name).slug
    except KeyError:
        raise argparse.ArgumentTypeError(
            f"no pattern {name!r} (choose from {', '.join(SLUGS)})") from None


def _claim_id(name: str) -> str:
    from .claims import ORDER

    claim = name.replace("_", "-")  # http_10k is http-10k, as slugs take dashes too
    if claim not in ORDER:
        raise argparse.ArgumentTypeError(f"no claim {name!r} (choose from {', '.join(ORDER)})")
    return claim


def _output(value: str) -> Path:
    """An output file: its folder must exist now, not at the end of a long run."""
    path = Path(value)
    if not path.parent.is_dir():
        raise argparse.ArgumentTypeError(f"no folder {str(path.parent)!r} to write {path.name} in")
    return path


def _output_dir(value: str) -> Path:
    path = Path(value)
    if not path.is_dir() and not path.parent.is_dir():
        raise argparse.ArgumentTypeError(f"no folder {str(path.parent)!r} to make {path.name} in")
    return path


def _interpreter(value: str) -> Path | str:
    """Another Python to run the benchmarks on: it must exist and be executable; or "none"."""
    import os

    if value == "none":
        return value
    path = Path(value)
    if not path.is_file() or not os.access(path, os.X_OK):
        raise argparse.ArgumentTypeError(f"no Python interpreter at {value!r}")
    return path


def _passes(value: str) -> int:
    """How many times to run the suites: a whole number, 1 or more."""
    try:
        passes = int(value)
    except ValueError:
        passes = 0
    if passes < 1:
        raise argparse.ArgumentTypeError(f"--passes takes a whole number of 1 or more, "
                                         f"not {value!r}")
    return passes


def _json_input(value: str) -> Path:
    """A results file to read back: it must exist and hold JSON."""
    import json

    path = Path(value)
    try:
        json.loads(path.read_text())
    except OSError as exc:
        raise argparse.ArgumentTypeError(f"cannot read {value!r}: {exc.strerror}") from None
    except ValueError:
        raise argparse.ArgumentTypeError(f"{value!r} is not a JSON file") from None
    return path


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="concurrency-patterns",
        description="Concurrency patterns in every Python model, beside Go.",
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")
    demo = commands.add_parser("demo", help="run every variant of each pattern once")
    demo.add_argument("patterns", nargs="*", type=_slug, metavar="PATTERN",
                      help="the patterns to run (default: all)")
    demo.add_argument("-v", "--verbose", action="store_true", help="name the variants run")
    demo.add_argument("--docs", type=Path, metavar="DIR",
                      help="also write what each pattern prints to DIR/output/<slug>.txt")

    compare = commands.add_parser(
        "compare", help="benchmark every variant against Go (needs a clone of the repository)")
    compare.add_argument("patterns", nargs="*", type=_slug, metavar="PATTERN",
                         help="the patterns to measure (default: all)")
    compare.add_argument("--quick", action="store_true",
                         help="only the workloads marked quick, with short rounds (~1 minute)")
    compare.add_argument("--json", type=_output, metavar="FILE", help="write the tables as JSON")
    compare.add_argument("--markdown", type=_output, metavar="FILE",
                         help="write the tables as Markdown")
    compare.add_argument("--chart", type=_output, metavar="FILE", help="draw the tables (PNG)")
    compare.add_argument("--docs", type=_output_dir, metavar="DIR",
                         help="write the docs' tables and charts (all, and one per pattern)")
    compare.add_argument("--from-json", type=_json_input, metavar="FILE", nargs="+",
                         help="read results instead of running the suites: pytest-benchmark's "
                              "JSON or compare's own --json; a later file's tables replace an "
                              "earlier one's for the same pattern")
    compare.add_argument("--python", type=_interpreter, metavar="PATH",
                         help="run the suites on this interpreter too; its rows are marked, "
                              "e.g. (3.13t). Default: the free-threaded build that "
                              ".ci/build-freethreaded cached, if there is one; "
                              "`--python none`: only this interpreter")
    compare.add_argument("--passes", type=_passes, default=1, metavar="N",
                         help="run the suites N times, one after another, and report each "
                              "row's median over the passes: a slow spell of a noisy machine "
                              "then moves one pass of a row, not its figure (default 1)")

    claims = commands.add_parser(
        "claims", help="measure the articles' claims here and give each a verdict "
                       "(needs a clone of the repository)")
    claims.add_argument("ids", nargs="*", type=_claim_id, metavar="ID",
                        help="the claims to check (default: all; `list` names them)")
    claims.add_argument("--quick", action="store_true",
                        help="smaller sizes and shorter runs (about two and a half minutes)")
    claims.add_argument("--json", type=_output, metavar="FILE", help="write the results as JSON")
    claims.add_argument("--markdown", type=_output, metavar="FILE",
                        help="write the ledger as a Markdown page (docs/claims.md)")
    claims.add_argument("--from-json", type=_json_input, metavar="FILE",
                        help="read the results from a --json file instead of measuring")
    go_bench = commands.add_parser(
        "go-bench", help="Go on its own: x/sync, x/time and conc beside the standard-library "
                         "versions, summarised by benchstat (needs a clone of the repository)")
    go_bench.add_argument("--docs", type=_output_dir, metavar="DIR",
                          help="write the summary as DIR/go_versions.md")
    go_bench.add_argument("--count", type=int, default=10,
                          help="runs of each benchmark (default 10, as benchstat asks)")
    commands.add_parser("list", help="name the patterns and the claims that concern each")
    return parser


def _list() -> None:
    from .claims import CLAIMS, ORDER

    width = max(len(s) for s in SLUGS)
    indent = " " * (width + 2)
    for p in PATTERNS:
        print(f"{p.slug:<{width}}  {p.summary.replace('`', '')}")
        ids = [i for i in ORDER if p.slug in CLAIMS[i].patterns]
        if ids:  # wrapped to fit 100 columns
            print(textwrap.fill(f"claims: {', '.join(ids)}", 100, initial_indent=indent,
                                subsequent_indent=indent + "        ", break_on_hyphens=False))


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line with *argv* (default: ``sys.argv[1:]``); return the exit status."""
    parser = _parser()
    args = parser.parse_args(argv)
    if args.command is None:
        parser.print_help()
        return 0
    if args.command == "list":
        _list()
        return 0
    if args.command == "demo":
        from .demos import run_demos

        return run_demos(args.patterns, verbose=args.verbose, docs=args.docs)
    if args.command == "go-bench":
        from .gobench import run_go_bench

        try:
            root = repository(args.command)
        except NeedsRepository as exc:
            print(f"concurrency-patterns: {exc}", file=sys.stderr)
            return 2
        return run_go_bench(root, args.docs, count=args.count)
    try:
        # Only a run needs the repository: --from-json re-reads results anywhere.
        if args.from_json is None:
            repository(args.command)
    except NeedsRepository as exc:
        print(f"concurrency-patterns: {exc}", file=sys.stderr)
        return 2
    if args.command == "claims":
        from .claims import run_claims

        return run_claims(args.ids, quick=args.quick, json_path=args.json,
                          markdown_path=args.markdown, from_json=args.from_json)
    from .compare import run_compare

    python = args.python
    if python is None and args.from_json is None:
        python = free_threaded_python()
        if python is not None:
            print(f"the free-threaded build is cached: its rows join the tables "
                  f"(`--python none` leaves them out)\n  {python}")
    return run_compare(args.patterns, quick=args.quick, json_path=args.json,
                       markdown_path=args.markdown, chart_path=args.chart,
                       from_json=args.from_json, docs_dir=args.docs,
                       python=python if isinstance(python, Path) else None,
                       passes=args.passes)

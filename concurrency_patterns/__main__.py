"""The command line: ``python -m concurrency_patterns <command>``.

* ``demo [PATTERN...]`` runs every variant of each pattern on the demo workload and prints one
  line per pattern — the line its Go program prints too.
* ``compare [PATTERN...]`` runs the benchmark suites and prints every variant against Go, one
  table per pattern workload (``--quick`` for a short run; ``--json``, ``--markdown`` and
  ``--chart`` write the results).
* ``claims [ID...]`` checks the articles' measurable claims on this machine and prints each
  with the article's figure, ours and a verdict (``--quick``; ``--json``, ``--markdown``).
* ``list`` names the patterns.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

# Absolute, not relative: worker processes re-run this file as a script (anyio.to_process
# loads the main module by path), where a relative import has no package to be relative to.
from concurrency_patterns._claims import ORDER, run_claims
from concurrency_patterns._compare import run_compare
from concurrency_patterns._demo import DEMOS, run_demos

__all__ = ["main"]


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m concurrency_patterns",
        description="Concurrency patterns in every Python model, beside Go.",
    )
    commands = parser.add_subparsers(dest="command", required=True)
    demo = commands.add_parser("demo", help="run every variant of each pattern once")
    demo.add_argument("patterns", nargs="*", choices=[[], *DEMOS], metavar="PATTERN",
                      help=f"any of: {', '.join(DEMOS)} (default: all)")
    demo.add_argument("-v", "--verbose", action="store_true", help="name the variants run")
    compare = commands.add_parser("compare", help="benchmark every variant against Go")
    compare.add_argument("patterns", nargs="*", choices=[[], *DEMOS], metavar="PATTERN",
                         help="the patterns to measure (default: all)")
    compare.add_argument("--quick", action="store_true",
                         help="only the workloads marked quick, with short rounds (~1 minute)")
    compare.add_argument("--json", type=Path, metavar="FILE", help="write the tables as JSON")
    compare.add_argument("--markdown", type=Path, metavar="FILE",
                         help="write the tables as Markdown")
    compare.add_argument("--chart", type=Path, metavar="FILE", help="draw the tables (PNG)")
    compare.add_argument("--docs", type=Path, metavar="DIR",
                         help="write the docs' tables and charts (all, and one per pattern)")
    compare.add_argument("--from-json", type=Path, metavar="FILE",
                         help="read a pytest-benchmark JSON file instead of running the suites")
    claims = commands.add_parser(
        "claims", help="measure the articles' claims here and give each a verdict")
    claims.add_argument("ids", nargs="*", choices=[[], *ORDER], metavar="ID",
                        help=f"any of: {', '.join(ORDER)} (default: all)")
    claims.add_argument("--quick", action="store_true",
                        help="smaller sizes and shorter runs (about a minute and a half)")
    claims.add_argument("--json", type=Path, metavar="FILE", help="write the results as JSON")
    claims.add_argument("--markdown", type=Path, metavar="FILE",
                        help="write the ledger as a Markdown page (docs/claims.md)")
    claims.add_argument("--from-json", type=Path, metavar="FILE",
                        help="read the results from a --json file instead of measuring")
    commands.add_parser("list", help="name the patterns")

    args = parser.parse_args(argv)
    if args.command == "list":
        print("\n".join(DEMOS))
        return 0
    if args.command == "claims":
        return run_claims(args.ids, quick=args.quick, json_path=args.json,
                          markdown_path=args.markdown, from_json=args.from_json)
    if args.command == "compare":
        return run_compare(args.patterns, quick=args.quick, json_path=args.json,
                           markdown_path=args.markdown, chart_path=args.chart,
                           from_json=args.from_json, docs_dir=args.docs)
    return run_demos(args.patterns, verbose=args.verbose)


if __name__ == "__main__":
    sys.exit(main())

"""The command line: ``python -m concurrency_patterns <command>``.

* ``demo [PATTERN...]`` runs every variant of each pattern on the demo workload and prints one
  line per pattern — the line its Go program prints too.
* ``list`` names the patterns.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

# Absolute, not relative: worker processes re-run this file as a script (anyio.to_process
# loads the main module by path), where a relative import has no package to be relative to.
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
    commands.add_parser("list", help="name the patterns")

    args = parser.parse_args(argv)
    if args.command == "list":
        print("\n".join(DEMOS))
        return 0
    return run_demos(args.patterns, verbose=args.verbose)


if __name__ == "__main__":
    sys.exit(main())

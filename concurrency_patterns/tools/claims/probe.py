"""Run one measurement function in this fresh interpreter and print its result as JSON.

    python -m concurrency_patterns.tools.claims.probe \
        concurrency_patterns.tools.claims.cpu:time_fib '{"n": 27, "repeat": 3}'

The ledger starts a new interpreter for each Python measurement, so a memory figure starts
from a clean heap and no measurement inherits another's threads, tasks or warm caches.
"""

from __future__ import annotations

import importlib
import json
import sys


def main(argv: list[str]) -> int:
    if len(argv) != 2:
        print(__doc__, file=sys.stderr)
        return 2
    target, arguments = argv
    module_name, _, name = target.partition(":")
    if not module_name.startswith("concurrency_patterns.tools.claims."):
        print(f"not a ledger measurement: {target}", file=sys.stderr)
        return 2
    function = getattr(importlib.import_module(module_name), name)
    print(json.dumps(function(**json.loads(arguments))))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

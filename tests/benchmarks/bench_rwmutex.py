"""rwmutex: readers and writers with a switch inside each critical section."""

from __future__ import annotations

from typing import Any

import pytest

from concurrency_patterns.tools.demos.rwmutex import (
    exercise_anyio,
    exercise_asyncio,
    exercise_threads,
)
from tests.benchmarks.conftest import Bench, GoProcess, variants

PATTERN = "rwmutex"


@pytest.mark.parametrize(
    ("variant", "backend", "exercise"),
    variants(
        ("asyncio", "asyncio", exercise_asyncio),
        ("asyncio+uvloop", "uvloop", exercise_asyncio),
        ("anyio/asyncio", "asyncio", exercise_anyio),
        ("anyio/trio", "trio", exercise_anyio),
    ),
)
def test_async(bench: Bench, variant: str, backend: str, exercise: Any) -> None:
    p = bench.params

    async def one_round() -> tuple[int, int]:
        return tuple(await exercise(p["readers"], p["writers"], p["rounds"]))  # type: ignore[return-value]

    assert bench.on_loop(variant, backend, one_round) == (p["writers"] * p["rounds"], 0)


def test_threads(bench: Bench) -> None:
    p = bench.params
    outcome = bench.sync("threads",
                         lambda: exercise_threads(p["readers"], p["writers"], p["rounds"]))
    assert outcome == (p["writers"] * p["rounds"], 0)


def test_go(bench: Bench, go: GoProcess) -> None:
    bench.go(go)

"""The pipeline demo: lines -> parse (2 workers) -> square (3) -> format (1), in input order;
then the same with one bad line, which stops the pipeline and is named."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from concurrency_patterns import PipelineError, Stage
from concurrency_patterns import anyio as cp_anyio
from concurrency_patterns import asyncio as cp_asyncio
from concurrency_patterns import threads as cp_threads

from . import Line, Runs, each_backend, on


def _lines(n: int, bad: int) -> Iterator[str]:
    for i in range(n):
        yield "oops" if i == bad else str(i)


def _square(n: int) -> int:
    return n * n


async def _aparse(line: str) -> int:
    return int(line)


async def _asquare(n: int) -> int:
    return n * n


async def _aformat(n: int) -> str:
    return str(n)


SYNC = [Stage("parse", int, limit=2, buffer=4), Stage("square", _square, limit=3, buffer=4),
        Stage("format", str, limit=1, buffer=4)]
ASYNC = [Stage("parse", _aparse, limit=2, buffer=4),
         Stage("square", _asquare, limit=3, buffer=4),
         Stage("format", _aformat, limit=1, buffer=4)]
WINDOW = 8  # ordered: at most 8 lines between the source and the caller


def demo(w: dict[str, Any]) -> Runs:
    n, bad = w["lines"], w["bad"]

    def line(good: list[str], error: PipelineError) -> Line:
        return (f"pipeline: {n} lines -> parse x2 -> square x3 -> format x1, in input order: "
                f"{' '.join(good)}; a bad line stops it: stage {error.stage} failed on item "
                f'{error.index} ("{error.item}")')

    async def run(pipeline: Any) -> Line:
        good = await pipeline(_lines(n, -1), ASYNC, ordered=True, window=WINDOW)
        try:
            await pipeline(_lines(n, bad), ASYNC, ordered=True, window=WINDOW)
        except PipelineError as error:
            return line(good, error)
        raise AssertionError("the bad line did not stop the pipeline")

    def run_threads() -> Line:
        good = cp_threads.pipeline(_lines(n, -1), SYNC, ordered=True, window=WINDOW)
        try:
            cp_threads.pipeline(_lines(n, bad), SYNC, ordered=True, window=WINDOW)
        except PipelineError as error:
            return line(good, error)
        raise AssertionError("the bad line did not stop the pipeline")

    return {
        "asyncio": on("asyncio", run, cp_asyncio.pipeline),
        **each_backend("anyio", run, cp_anyio.pipeline),
        "threads": run_threads,
    }

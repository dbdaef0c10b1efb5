"""The same service on anyio: one changed import line, the same types."""

from __future__ import annotations

from typing import assert_type

from concurrency_patterns import JobError, Stage
from concurrency_patterns.anyio import ErrGroup, Once, SyncMap, map, offload, pipeline


async def square(n: int) -> int:
    return n * n


def spin(n: int) -> int:
    return n


async def main() -> None:
    assert_type(await map(square, range(10), limit=4), list[int])
    assert_type(await map(square, [1], return_exceptions=True), list[int | JobError])
    assert_type(await pipeline([1, 2], (Stage("s", square),)), list[int])
    assert_type(await offload(spin, 3), int)
    await offload(spin, "3")  # type: ignore[arg-type]
    once: Once[int] = Once()
    assert_type(await once.do(square, 2), int)
    async with ErrGroup() as g:
        await g.go(square, 1)
    cache: SyncMap[str, bytes] = SyncMap()
    assert_type(await cache.load_or_compute("k", lambda: _bytes()), bytes)


async def _bytes() -> bytes:
    return b""

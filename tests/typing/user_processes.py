"""CPU-bound work moved from threads to processes: one changed import line."""

from __future__ import annotations

from typing import assert_type

from concurrency_patterns import JobError, new_process_pool
from concurrency_patterns.processes import map, offload, offload_all


def spin(n: int) -> int:
    return n


def main() -> None:
    assert_type(map(spin, range(8), limit=2), list[int])
    assert_type(map(spin, range(8), return_exceptions=True), list[int | JobError])
    with new_process_pool(2) as pool:
        assert_type(offload(spin, 3, executor=pool), int)
        assert_type(offload_all(spin, [1, 2], executor=pool), list[int])
        offload(spin, "3", executor=pool)  # type: ignore[arg-type]

"""process_offload: CPU-bound jobs of about 100 ms (spin(n)), run one after another, on threads
(the GIL lets one run at a time), in processes, and on a Dask LocalCluster of as many worker
processes. The floor is the sequential time divided by the number of cores; Go runs the same
jobs on goroutines. Jobs of about 1 ms, and empty ones, show what each way costs per job: the
break-even below which spreading the work does not pay."""

from __future__ import annotations

import os
from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor
from typing import Any

import pytest

from concurrency_patterns import anyio as cp_anyio
from concurrency_patterns import asyncio as cp_asyncio
from concurrency_patterns import new_process_pool
from concurrency_patterns import processes as cp_processes
from concurrency_patterns.tools.demos.process_offload import run_sequential
from concurrency_patterns.tools.workloads import spin
from tests.benchmarks.conftest import Bench, GoProcess, variants

PATTERN = "process_offload"
CORES = os.cpu_count() or 1


def jobs(params: dict[str, Any]) -> list[int]:
    return [params["spin"]] * params["jobs"]


def test_sequential(bench: Bench) -> None:
    bench.sync("sequential", lambda: run_sequential(spin, jobs(bench.params)))


def test_threads(bench: Bench) -> None:
    with ThreadPoolExecutor(CORES) as pool:
        bench.sync("threads", lambda: cp_processes.offload_all(spin, jobs(bench.params),
                                                             executor=pool))


@pytest.mark.parametrize(("variant", "hold_jobs"), variants(
    ("processes", False),
    # Each job held until a worker is free, so that a cancelled one never runs: asked for.
    ("processes, hold_jobs=True", True),
))
def test_processes(bench: Bench, variant: str, hold_jobs: bool) -> None:
    # Started before timing; the warm-up round warms them. The plain pool runs the
    # hand-written rounds this row alternates with.
    with (new_process_pool(CORES, hold_jobs=hold_jobs) as pool,
          ProcessPoolExecutor(CORES) as plain):
        bench.sync(variant, lambda: cp_processes.offload_all(spin, jobs(bench.params),
                                                           executor=pool),
                   hand=lambda: list(plain.map(spin, jobs(bench.params))))


def test_hand_written(bench: Bench) -> None:
    # What a user writes without the library: a plain pool and its map.
    with ProcessPoolExecutor(CORES) as pool:
        bench.sync("hand-written (processes)",
                   lambda: list(pool.map(spin, jobs(bench.params))))


def test_asyncio_processes(bench: Bench) -> None:
    with new_process_pool(CORES) as pool:
        async def one_round() -> list[int]:
            return await cp_asyncio.offload_all(spin, jobs(bench.params), executor=pool)

        bench.on_loop("asyncio + processes", "asyncio", one_round)


@pytest.mark.parametrize(("variant", "backend"), [("anyio/asyncio", "asyncio"),
                                                  ("anyio/trio", "trio")])
def test_anyio(bench: Bench, variant: str, backend: str) -> None:
    async def one_round() -> list[int]:
        # anyio keeps its worker processes per event loop: the warm-up round starts them.
        return await cp_anyio.offload_all(spin, jobs(bench.params), limit=CORES)

    bench.on_loop(variant, backend, one_round)


def test_dask(bench: Bench) -> None:
    pytest.importorskip("distributed")  # the [dask] extra
    from concurrency_patterns.tools.cluster import dask_executor

    with dask_executor(workers=CORES) as (client, _):  # started before timing
        # A fresh executor per round: one executor keeps every future it made until shutdown,
        # and with them their results on the cluster.
        def one_round() -> list[int]:
            executor = client.get_executor(pure=False)  # run every job, as a pool does
            try:
                return cp_processes.offload_all(spin, jobs(bench.params), executor=executor)
            finally:
                executor.shutdown(wait=False)

        bench.sync("dask LocalCluster", one_round)


def test_go(bench: Bench, go: GoProcess) -> None:
    bench.go(go)


def test_go_sequential(bench: Bench, go: GoProcess) -> None:
    bench.go(go, {"mode": "sequential"}, variant="go (sequential)")

"""sync_map: 4 threads each do 20,000 operations on 1,000 keys — 10% stores (read-mostly) or
50% (write-heavy) — on a plain dict, which the GIL already makes safe for single operations,
and on cp_threads.SyncMap, whose lock makes every operation atomic. Go runs the same operations on
a sync.Map, on a map with a Mutex and on a map with an RWMutex. Each round starts its threads
(goroutines), so thread start-up is in the Python figures."""

from __future__ import annotations

import threading
from typing import Any

import pytest

from concurrency_patterns import threads as cp_threads
from tests.benchmarks.conftest import Bench, GoProcess

PATTERN = "sync_map"


def _run_threads(params: dict[str, Any], load: Any, store: Any) -> None:
    ops, keys, writes = params["ops"], params["keys"], params["writes_percent"]

    def worker(w: int) -> None:
        total = 0
        for j in range(ops):
            key = (w * 7919 + j * 31) % keys
            if j % 100 < writes:
                store(key, j)
            else:
                total += load(key)

    threads = [threading.Thread(target=worker, args=(w,)) for w in range(params["workers"])]
    for t in threads:
        t.start()
    for t in threads:
        t.join()


def test_plain_dict(bench: Bench) -> None:
    d = {k: k for k in range(bench.params["keys"])}

    def store(k: int, v: int) -> None:
        d[k] = v

    bench.sync("plain dict", lambda: _run_threads(bench.params, d.__getitem__, store))


def hand_written(params: dict[str, Any]) -> Any:
    """Hand-written: a dict and a lock around every operation, as a user writes it. A round."""
    d, lock = {k: k for k in range(params["keys"])}, threading.Lock()

    def load(k: int) -> int:
        with lock:
            return d[k]

    def store(k: int, v: int) -> None:
        with lock:
            d[k] = v

    return lambda: _run_threads(params, load, store)


# The library's row is timed alternately with the hand-written rounds.
HAND_ROUNDS = {"threads": hand_written}


def test_hand_written(bench: Bench) -> None:
    bench.sync("hand-written (threads)", hand_written(bench.params))


def test_thread_sync_map(bench: Bench) -> None:
    m: cp_threads.SyncMap[int, int] = cp_threads.SyncMap()
    for k in range(bench.params["keys"]):
        m.store(k, k)
    bench.sync("threads", lambda: _run_threads(bench.params, m.load, m.store))


@pytest.mark.parametrize(("mode", "variant"), [("sync.Map", "go"), ("mutex", "go map+Mutex"),
                                               ("rwmutex", "go map+RWMutex")])
def test_go(bench: Bench, go: GoProcess, mode: str, variant: str) -> None:
    bench.go(go, {**bench.params, "mode": mode}, variant=variant)

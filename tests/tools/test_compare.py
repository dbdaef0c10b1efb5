"""The compare command's arithmetic, on a pytest-benchmark JSON whose answers are known."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest

from concurrency_patterns.__main__ import main
from concurrency_patterns.tools import compare
from concurrency_patterns.tools.compare import (
    Row,
    Table,
    build_tables,
    check_targets,
    free_threading,
    headlines,
    interpreter_label,
    merge_interpreter,
)


def bench(pattern: str, workload: str, variant: str, median: float, iqr: float = 0.0,
          params: dict[str, Any] | None = None, **extra: Any) -> dict[str, Any]:
    return {
        "extra_info": {"pattern": pattern, "workload": workload, "variant": variant,
                       "params": params or {}, **extra},
        "stats": {"median": median, "iqr": iqr, "rounds": 7},
    }


FETCH = {"urls": 1000, "limit": 100, "delay_ms": 10}
POOL = {"jobs": 1000, "workers": 8, "sleep_ms": 0}
OFFLOAD = {"jobs": 4, "spin": 2_300_000}  # jobs long enough to spread
DATA = {
    "machine_info": {"cpu_model": "Test CPU", "cores": 2, "python": "3.11.7", "go": "go1.27"},
    "benchmarks": [
        bench("bounded_fetch", "w", "go", 0.125, params=FETCH, floor_seconds=0.1,
              cpu_seconds=0.05),
        bench("bounded_fetch", "w", "asyncio", 0.2, iqr=0.05, params=FETCH, floor_seconds=0.1,
              cpu_seconds=0.15),
        bench("bounded_fetch", "w", "anyio/asyncio", 0.21, params=FETCH, floor_seconds=0.1),
        bench("bounded_fetch", "w", "anyio/trio", 0.5, params=FETCH, floor_seconds=0.1),
        bench("bounded_fetch", "w", "threads", 0.6, params=FETCH, floor_seconds=0.1),
        bench("bounded_fetch", "w", "aiometer (peer)", 0.19, params=FETCH, floor_seconds=0.1),
        {"name": "anyio/asyncio: 10,000 -> 100,000 URLs", "stats": {},
         "extra_info": {"pattern": "bounded_fetch", "memory": {
             "backend": "asyncio", "urls": [10_000, 100_000], "peak_rss_kib": [65536, 66560],
             "growth": 66560 / 65536 - 1}}},
        bench("worker_pool", "d", "go", 0.001, params=POOL),
        bench("worker_pool", "d", "asyncio", 0.004, params=POOL),
        bench("worker_pool", "d", "anyio/asyncio", 0.006, params=POOL),
        bench("process_offload", "p", "sequential", 0.8, params=OFFLOAD),
        bench("process_offload", "p", "processes", 0.4, params=OFFLOAD),
        bench("process_offload", "p", "threads", 0.8, params=OFFLOAD),
        bench("process_offload", "p", "go (sequential)", 0.08, params=OFFLOAD),
        bench("process_offload", "p", "go", 0.04, params=OFFLOAD),
    ],
}


def test_the_speed_up_target_needs_jobs_long_enough_to_spread() -> None:
    tiny = {**DATA, "benchmarks": [
        bench("process_offload", "e", v, m, params={"jobs": 500, "spin": 0})
        for v, m in [("sequential", 0.001), ("processes", 0.05), ("go", 0.0001)]]}
    assert not [c for c in check_targets(build_tables(tiny)) if "faster than sequential" in c[0]]
    (table,) = build_tables(tiny)
    processes = table.row("processes")
    assert processes is not None and processes.per_job == pytest.approx(1e-4)


def test_tables_hold_ratios_floors_and_costs() -> None:
    fetch, pool, offload = build_tables(DATA)
    assert [r.variant for r in fetch.rows] == [
        "go", "aiometer (peer)", "asyncio", "anyio/asyncio", "anyio/trio", "threads",
    ]  # fastest first
    asyncio_row = fetch.row("asyncio")
    assert asyncio_row is not None
    assert asyncio_row.ratio_to_go == pytest.approx(1.6)
    assert asyncio_row.efficiency == pytest.approx(0.5)
    assert asyncio_row.noisy  # IQR of 25 % of the median
    assert asyncio_row.cpu_per_request == pytest.approx(150e-6)
    go_row = fetch.row("go")
    assert go_row is not None and go_row.cpu_per_request == pytest.approx(50e-6)
    anyio_row = pool.row("anyio/asyncio")
    assert anyio_row is not None and anyio_row.per_job == pytest.approx(6e-6)
    processes = offload.row("processes")
    assert processes is not None and processes.speedup == pytest.approx(2.0)
    assert processes.efficiency == pytest.approx(1.0)  # sequential / 2 cores


def test_targets_are_checked_with_their_measurements() -> None:
    checks = {what: (ok, got) for what, ok, got in check_targets(build_tables(DATA))}
    assert checks["bounded_fetch: w: anyio/asyncio at most 1.10x asyncio"] == (True, "1.05x")
    assert checks["worker_pool: d: anyio/asyncio at most 1.10x asyncio"] == (False, "1.50x")
    assert checks["bounded_fetch: w: anyio/trio within 2x asyncio"] == (False, "2.50x")
    assert checks["bounded_fetch: w: threads within 4x asyncio"] == (True, "3.00x")
    # The table shows the peer ahead here, so the check says so.
    assert checks["bounded_fetch: w: asyncio ahead of aiometer"] == (
        False, "the peer takes 0.95x as long")
    # The peer is not ours: the best *Python variant of this library* is asyncio here.
    ok, got = checks["bounded_fetch: w: the best Python variant reaches 70% of the floor"]
    assert not ok and got.startswith("asyncio: 50% (Go 80%)") and "CPU-bound" in got
    ok, got = checks["process_offload: p: processes at least 1.8x faster than sequential"]
    assert ok and got == "2.00x; threads 1.00x"


def test_compare_writes_markdown_json_and_charts(tmp_path: Path) -> None:
    pytest.importorskip("matplotlib", reason="charts need matplotlib (the [dev] extra)")
    raw = tmp_path / "raw.json"
    raw.write_text(json.dumps(DATA))
    out = tmp_path / "out"
    status = main(["compare", "--from-json", str(raw), "--markdown", str(tmp_path / "t.md"),
                   "--json", str(tmp_path / "t.json"), "--chart", str(tmp_path / "t.png"),
                   "--docs", str(out)])
    assert status == 0
    markdown = (tmp_path / "t.md").read_text()
    assert "Test CPU, 2 cores" in markdown
    assert "| asyncio | 200 | ±50 ⚠ | 1.60 | 50% | 150 ms | 150 µs |" in markdown
    assert ("| bounded_fetch | anyio.fetch_stream (asyncio) | 10,000 → 100,000 | 64.0 → 65.0 MiB "
            "| +1.6% ✓ |") in markdown
    summary = json.loads((tmp_path / "t.json").read_text())
    assert [t["pattern"] for t in summary["tables"]] == ["bounded_fetch", "worker_pool",
                                                         "process_offload"]
    assert (tmp_path / "t.png").stat().st_size > 1000
    workloads = [(t["pattern"], t["workload"]) for t in summary["tables"]]
    assert sorted(p.name for p in out.iterdir()) == sorted(
        [f"{name}.md" for name in ("benchmarks", "bounded_fetch", "worker_pool",
                                   "process_offload", "targets", "headlines", "imports")]
        + ["benchmarks.png", "benchmarks.json"]
        + [f"{pattern}-{workload}.png" for pattern, workload in workloads])
    # a pattern's page has its charts and a link to its targets, but not the targets
    page = (out / "bounded_fetch.md").read_text()
    assert "](../generated/bounded_fetch-" in page and "#### Targets" not in page
    assert "../methodology.md#targets" in page
    assert "| target | measured | met |" in (out / "targets.md").read_text()
    # the docs' JSON reads back: the same tables, redrawn from it alone
    again = tmp_path / "again"
    assert main(["compare", "--from-json", str(out / "benchmarks.json"), "--docs",
                 str(again)]) == 0
    assert (again / "bounded_fetch.md").read_text() == page


def test_a_later_results_file_replaces_a_pattern_s_tables(tmp_path: Path) -> None:
    from concurrency_patterns.tools.compare import load_results

    first, second = tmp_path / "a.json", tmp_path / "b.json"
    first.write_text(json.dumps(DATA))
    only_fetch = copy.deepcopy(DATA)
    only_fetch["benchmarks"] = [b for b in only_fetch["benchmarks"]
                                if b["extra_info"].get("pattern") == "bounded_fetch"]
    for b in only_fetch["benchmarks"]:
        if "median" in b["stats"]:  # a timing, not the memory row
            b["stats"]["median"] *= 2
    second.write_text(json.dumps(only_fetch))
    tables, _, _, _ = load_results([first, second])
    earlier, _, _, _ = load_results([first])
    assert [t.pattern for t in tables] == [t.pattern for t in earlier]
    for t, e in zip(tables, earlier, strict=True):
        doubled = t.pattern == "bounded_fetch"
        assert [r.median for r in t.rows] == [r.median * (2 if doubled else 1) for r in e.rows]


def test_a_later_results_file_replaces_only_its_own_patterns_memory_rows(
    tmp_path: Path,
) -> None:
    from concurrency_patterns.tools.compare import load_results

    def rows(pattern: str, peak: int) -> dict[str, object]:
        return {"pattern": pattern, "variant": "v", "backend": "asyncio", "items": [1, 2],
                "peak_rss_kib": [peak, peak], "growth": 0.0, "flat_expected": True}

    first, second = tmp_path / "a.json", tmp_path / "b.json"
    first.write_text(json.dumps({"tables": [], "memory": [rows("worker_pool", 1),
                                                          rows("rate_limit", 1)]}))
    second.write_text(json.dumps({"tables": [], "memory": [rows("rate_limit", 2)]}))
    _, _, memory, _ = load_results([first, second])
    assert sorted((m["pattern"], m["peak_rss_kib"][0]) for m in memory) == [
        ("rate_limit", 2), ("worker_pool", 1)]


@pytest.mark.parametrize(("value", "digits", "shown"), [
    (1160.4, 3, "1,160"), (0.096, 3, "0.0960"), (200.39, 3, "200"), (45100, 3, "45,100"),
    (1189.4, 3, "1,190"), (75091, 3, "75,100"), (99.96, 3, "100"), (0.9996, 3, "1.00"),
    (6.79, 2, "6.8"), (999.6, 3, "1,000"), (0.000123, 3, "0.000123"),
])
def test_figures_never_use_e_notation(value: float, digits: int, shown: str) -> None:
    from concurrency_patterns.tools.compare import _figure

    assert _figure(value, digits) == shown


def test_headlines_come_from_their_tables() -> None:
    def table(pattern: str, workload: str, **medians: float) -> Table:
        t = Table(pattern, workload, {}, None,
                  [Row(v.replace("_", "/"), m, 0.0, 5) for v, m in medians.items()])
        go = t.row("go")
        assert go is not None
        for r in t.rows:
            r.ratio_to_go = r.median / go.median
        return t

    text = headlines([
        table("worker_pool", "sleep-400", go=1.0, asyncio=1.1, threads=1.2),
        table("process_offload", "8-jobs", go=1.0, processes=15.0, threads=30.0),
        table("mutex", "100-tasks", go=1.0, asyncio=20.0, threads=150.0),
    ])
    assert "asyncio takes 1.10× Go's time and threads 1.20×" in text
    assert "Go is 15× faster than Python's processes and 30× faster than its threads" in text
    assert "asyncio tasks are 7.5× faster than threads, and Go is 20× faster" in text
    assert "(patterns/mutex.md#measured)" in text
    assert headlines([]) == ""  # no table, no claim


def test_another_interpreter_s_rows_are_marked_and_judged_against_their_own_baseline() -> None:
    data = {"machine_info": {"cores": 2}, "benchmarks": [
        bench("process_offload", "p", v, m, params=OFFLOAD)
        for v, m in [("sequential", 0.8), ("threads", 0.8), ("go", 0.04)]]}
    other = {"benchmarks": [
        bench("process_offload", "p", v, m, params=OFFLOAD)
        for v, m in [("sequential", 1.0), ("threads", 0.5)]]}
    merge_interpreter(data, other, "3.13t")
    (table,) = build_tables(data)
    assert [r.variant for r in table.rows] == [
        "go", "threads (3.13t)", "sequential", "threads", "sequential (3.13t)"]
    free = table.row("threads (3.13t)")
    assert free is not None and free.speedup == pytest.approx(2.0)  # against its own sequential
    gil = table.row("threads")
    assert gil is not None and gil.speedup == pytest.approx(1.0)
    text = free_threading([table])
    assert "On 3.13t, threads are 2.00× as fast as one thread; with the GIL, 1.00×" in text
    assert "take 1.25× as long on 3.13t as with the GIL" in text
    assert "the threads on 3.13t take 0.62× the time" in text
    assert free_threading(build_tables({"benchmarks": data["benchmarks"][:3]})) == ""


def test_the_interpreter_label_says_whether_the_gil_is_off() -> None:
    import sys

    label = interpreter_label(sys.executable)
    assert label.startswith(f"{sys.version_info[0]}.{sys.version_info[1]}")


def test_compare_prints_at_most_100_columns(
    tmp_path: Path, capsys: pytest.CaptureFixture[str],
) -> None:
    raw = tmp_path / "raw.json"
    raw.write_text(json.dumps(DATA))
    assert main(["compare", "--from-json", str(raw)]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert max(len(line) for line in lines) <= 100
    assert any(line.lstrip().startswith(("met", "MISSED")) for line in lines)


def test_a_run_with_some_failed_benchmarks_still_shows_the_rest(tmp_path: Path) -> None:
    from concurrency_patterns.tools.compare import _usable

    results = tmp_path / "r.json"
    assert not _usable(0, results, "x")  # no results file: nothing to show
    results.write_text("{}")
    assert _usable(0, results, "x") and _usable(1, results, "x")  # 1: some failed
    assert not _usable(2, results, "x") and not _usable(4, results, "x")  # interrupted, usage


IMPORTS = [  # one namespace's three rows, as bench_imports.py records them
    {"namespace": "threads", "row": "import threading", "median_s": 0.004, "iqr_s": 0.001,
     "peak_kib": 9600, "rounds": 15, "date": "2026-12-07"},
    {"namespace": "threads", "row": "import concurrency_patterns.threads", "median_s": 0.030,
     "iqr_s": 0.001, "peak_kib": 9700, "rounds": 15, "date": "2026-12-07"},
    {"namespace": "threads", "row": "every name read", "median_s": 0.090, "iqr_s": 0.01,
     "peak_kib": 17000, "rounds": 15, "date": "2026-12-07"},
]


def test_the_import_target_is_judged_on_the_namespace_row_against_the_model() -> None:
    from concurrency_patterns.tools.compare import check_imports, format_imports

    [(what, ok, got)] = check_imports(IMPORTS)
    assert not ok and got == "+26.0 ms, +0.1 MB"  # 26 ms beyond threading: over 20 ms
    assert "concurrency_patterns.threads within 20 ms and 3 MB of import threading" in what
    quick = [dict(r, median_s=r["median_s"] / 10) for r in IMPORTS]
    assert check_imports(quick)[0][1]
    table = format_imports(IMPORTS, markdown=True)
    assert "| threads | `import concurrency_patterns.threads` | 30.0 ms (±500 µs) | +26.0 ms |" \
        in table
    assert "-" not in format_imports(IMPORTS, markdown=False).split("every name read")[1][:40]


def test_each_library_row_is_judged_against_the_hand_written_row_of_its_model() -> None:
    data = {"machine_info": {"cores": 2}, "benchmarks": [
        bench("worker_pool", "d", v, m, params=POOL) for v, m in [
            ("asyncio", 0.004), ("hand-written (asyncio)", 0.002), ("asyncio+uvloop", 0.003),
            ("anyio/trio", 0.005), ("hand-written (anyio/trio)", 0.0045),
            ("aiometer.amap (peer)", 0.003), ("bare asyncio.Queue", 0.001),
            ("threads", 0.02)]]}
    other = {"benchmarks": [bench("worker_pool", "d", v, m, params=POOL) for v, m in [
        ("threads", 0.03), ("hand-written (threads)", 0.03)]]}
    merge_interpreter(data, other, "3.13t")
    (table,) = build_tables(data)
    asyncio_row, trio = table.row("asyncio"), table.row("anyio/trio")
    assert asyncio_row is not None and asyncio_row.vs_hand == pytest.approx(2.0)
    assert asyncio_row.over_hand == pytest.approx(0.002 / POOL["jobs"])  # per job
    assert trio is not None and trio.vs_hand == pytest.approx(0.005 / 0.0045)
    free = table.row("threads (3.13t)")
    assert free is not None and free.vs_hand == pytest.approx(1.0)  # its own interpreter's
    for no_baseline in ("asyncio+uvloop", "aiometer.amap (peer)", "bare asyncio.Queue",
                        "threads", "hand-written (asyncio)"):
        row = table.row(no_baseline)
        assert row is not None and row.vs_hand is None, no_baseline
    checks = {what: (ok, got) for what, ok, got in check_targets([table])}
    assert checks["worker_pool: d: asyncio within 1.25x hand-written (asyncio)"] == (
        False, "2.00x, +2.00 µs per operation")
    assert checks["worker_pool: d: anyio/trio within 1.25x hand-written (anyio/trio)"][0]


def test_a_row_timed_alternately_with_the_hand_written_code_is_judged_against_those_rounds(
) -> None:
    """A library row whose benchmark ran the hand-written rounds between its own carries
    their median: its vs hand is against them, not against the hand-written row timed on its
    own (here in a slow spell); a row without them falls back to the row. Passes are
    combined as the row's own median is."""
    def run(paired: float) -> dict[str, Any]:
        rows = [bench("worker_pool", "d", "hand-written (asyncio)", 0.004, params=POOL),
                bench("worker_pool", "d", "asyncio", 0.003, params=POOL,
                      paired_hand_seconds=paired),
                bench("worker_pool", "d", "hand-written (threads)", 0.02, params=POOL),
                bench("worker_pool", "d", "threads", 0.03, params=POOL)]
        for row in rows:
            row["stats"]["data"] = [row["stats"]["median"]] * 2
        return {"machine_info": {"cores": 2}, "datetime": "2026-12-07T10:00:00",
                "benchmarks": rows}

    for data in (run(0.0025), compare.combine_passes([run(0.0025), run(0.009), run(0.002)])):
        (table,) = build_tables(data)
        paired, alone = table.row("asyncio"), table.row("threads")
        assert paired is not None and paired.vs_hand == pytest.approx(0.003 / 0.0025)
        assert paired.over_hand == pytest.approx(0.0005 / POOL["jobs"])
        assert alone is not None and alone.vs_hand == pytest.approx(1.5)
        assert table.paired
        assert "run alternately" in compare.format_markdown([table], "m", [], "how")
    (unpaired,) = build_tables({**run(0.0025), "benchmarks": run(0.0025)["benchmarks"][2:]})
    assert not unpaired.paired
    assert "alternately" not in compare.format_markdown([unpaired], "m", [], "how")


def test_a_stream_whose_memory_grows_misses_its_target() -> None:
    from concurrency_patterns.tools.compare import check_memory, format_memory

    rows = [{"pattern": "pipeline", "variant": "anyio.pipeline_stream", "backend": "asyncio",
             "items": [10_000, 100_000], "peak_rss_kib": [40_000, 48_000], "growth": 0.2,
             "flat_expected": True},
            {"pattern": "pipeline", "variant": "hand-written (anyio)", "backend": "asyncio",
             "items": [10_000, 100_000], "peak_rss_kib": [40_000, 80_000], "growth": 1.0,
             "flat_expected": False}]
    assert check_memory(rows) == [("pipeline: anyio.pipeline_stream (asyncio) in flat memory, "
                                   "10,000 → 100,000 items", False, "+20.0%")]
    text = format_memory(rows, markdown=True, pattern="pipeline")
    assert "| pipeline | anyio.pipeline_stream (asyncio) | 10,000 → 100,000 | 39.1 → 46.9 MiB " \
           "| +20.0% ✗ |" in text
    assert "| +100.0% |" in text  # the hand-written row is shown, not judged
    assert format_memory(rows, markdown=True, pattern="mutex") == ""


@pytest.mark.parametrize(("slug", "title"), [
    ("1000-urls-limit-100-delay-10ms", "1,000 URLs, limit 100, delay 10 ms"),
    ("sleep-400-jobs-of-5ms-40-workers", "sleep: 400 jobs of 5 ms, 40 workers"),
    ("crawl-200-urls-limit-20-1-in-5-busy-1000-per-s",
     "crawl: 200 URLs, limit 20, 1 in 5 busy, 1,000/s"),
    ("100-tasks-x-100-increments", "100 tasks × 100 increments"),
    ("1000-tasks-no-limit", "1,000 tasks, no limit"),
    ("read-mostly", "read mostly"),
])
def test_a_workload_is_titled_as_a_reader_reads_it(slug: str, title: str) -> None:
    assert compare.workload_title(slug) == title


@pytest.mark.parametrize(("variant", "kind"), [
    ("asyncio", "python"), ("anyio/trio (httpcore)", "python"), ("threads (3.13t)", "other"),
    ("go (conc)", "go"), ("aiometer (peer)", "peer"), ("hand-written (asyncio)", "base"),
    ("bare asyncio.Lock", "base"), ("sequential", "base"), ("plain dict", "base"),
    ("threads → asyncio: bare culsans", "base"), ("asyncio, a fresh one each time", "base"),
])
def test_baselines_are_drawn_apart_from_the_library(variant: str, kind: str) -> None:
    """The charts hatch the baselines, and the summary chart picks only the library's rows."""
    assert compare._kind(variant) == kind


def test_a_floor_and_a_speed_up_are_left_out_where_there_is_no_work_to_share() -> None:
    """500 empty jobs put every variant at 0 % of its floor and "0.0009× sequential": not
    figures. With real jobs the columns stay."""
    def table(speedup: float) -> compare.Table:
        return compare.Table("process_offload", "jobs", {}, 1.0, [
            compare.Row("sequential", 1.0, 0.0, 7, efficiency=0.5, speedup=1.0),
            compare.Row("processes", 1.0 / speedup, 0.0, 7, efficiency=speedup / 2,
                        speedup=speedup)])

    empty, _ = compare._cells(table(0.0009))
    assert "of floor" not in empty and "vs sequential" not in empty
    assert compare._floor_note(table(0.0009)) == ""
    real, _ = compare._cells(table(1.9))
    assert "of floor" in real and "vs sequential" in real


def test_a_row_with_an_option_asked_for_is_measured_but_held_to_no_target() -> None:
    pool = {"workers": 4, "borrows": 100}
    data = {"machine_info": DATA["machine_info"], "benchmarks": [
        bench("sync_pool", "s", "hand-written (threads)", 1.0, params=pool),
        bench("sync_pool", "s", "threads, SyncPool", 1.2, params=pool),
        bench("sync_pool", "s", "threads, SyncPool, check_puts=True", 2.0, params=pool),
    ]}
    tables = build_tables(data)
    checks = {what: ok for what, ok, _ in check_targets(tables)}
    assert checks == {"sync_pool: s: threads, SyncPool within 1.25x hand-written (threads)": True}
    asked = tables[0].row("threads, SyncPool, check_puts=True")
    assert asked is not None and asked.vs_hand == 2.0  # its cost is still shown


def test_a_fetch_row_naming_its_client_is_measured_but_held_to_no_target() -> None:
    """"(httpcore)" and "(httptools)" name a client the row was given: the target is about the
    pattern around the model's default client, so those rows show their cost and are held to
    none."""
    fetch = {"urls": 100, "limit": 10, "delay_ms": 10}
    data = {"machine_info": DATA["machine_info"], "benchmarks": [
        bench("bounded_fetch", "f", "hand-written (anyio/trio)", 1.0, params=fetch),
        bench("bounded_fetch", "f", "anyio/trio", 1.1, params=fetch),
        bench("bounded_fetch", "f", "anyio/trio (httpcore)", 2.0, params=fetch),
        bench("bounded_fetch", "f", "hand-written (asyncio)", 1.0, params=fetch),
        bench("bounded_fetch", "f", "asyncio (httptools)", 0.8, params=fetch),
    ]}
    tables = build_tables(data)
    checks = {what for what, _, _ in check_targets(tables)
              if "within 1.25x" in what}
    assert checks == {"bounded_fetch: f: anyio/trio within 1.25x hand-written (anyio/trio)"}
    asked = tables[0].row("anyio/trio (httpcore)")
    assert asked is not None and asked.vs_hand == 2.0


def test_passes_are_combined_row_by_row_so_a_slow_spell_moves_one_pass_only() -> None:
    """Three passes of the same suite: each row's median is the median of its three medians,
    so one pass slowed down for one row (a slow spell of the machine) does not move it; the
    IQR is that of all the rounds, which shows the passes' disagreement."""
    pool = {"workers": 4, "borrows": 100}

    def run(hand: float, lib: float) -> dict[str, Any]:
        rows = [bench("sync_pool", "s", "hand-written (threads)", hand, params=pool),
                bench("sync_pool", "s", "threads, SyncPool", lib, params=pool,
                      cpu_seconds=lib / 2)]
        for row in rows:
            median = row["stats"]["median"]
            row["stats"]["data"] = [median * 0.99, median, median * 1.01]
        return {"machine_info": DATA["machine_info"], "datetime": "2026-12-07T10:00:00",
                "benchmarks": [*rows, {"name": "imports", "extra_info": {"imports": [1]}}]}

    combined = compare.combine_passes([run(1.0, 1.1), run(1.0, 2.5), run(1.02, 1.12)])
    assert combined["passes"] == 3
    assert compare.import_rows(combined) == [1]  # the first pass's other measurements
    table = build_tables(combined)[0]
    lib = table.row("threads, SyncPool")
    assert lib is not None
    assert lib.median == 1.12  # not 2.5: the slow pass is outvoted
    assert lib.rounds == 21
    assert lib.cpu == pytest.approx(0.56)
    assert lib.iqr > 0.5  # the passes disagreed, and the spread says so
    assert lib.vs_hand == pytest.approx(1.12 / 1.0)
    assert table.passes == 3
    assert "median of 3 passes" in compare.format_markdown([table], "m", [], "how")
    assert compare.combine_passes([run(1.0, 1.1)])["benchmarks"][1]["stats"]["median"] == 1.1


def test_passes_must_be_a_whole_number_of_one_or_more(
    capsys: pytest.CaptureFixture[str],
) -> None:
    for bad in ("0", "two"):
        with pytest.raises(SystemExit):
            main(["compare", "mutex", "--passes", bad])
        assert "--passes takes a whole number of 1 or more" in capsys.readouterr().err

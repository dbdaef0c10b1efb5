"""The command line, run the way a user runs it."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

from concurrency_patterns import __version__
from concurrency_patterns.tools.cli import main
from concurrency_patterns.tools.registry import SLUGS


def test_demo_prints_one_agreed_line_per_pattern() -> None:
    out = subprocess.run(
        [sys.executable, "-m", "concurrency_patterns", "demo"],
        capture_output=True, text=True, timeout=120, check=True,
    ).stdout.splitlines()
    assert max(len(line) for line in out) <= 100
    firsts = [line for line in out if not line.startswith(" ")]  # wrapped lines are indented
    assert [line.split(":")[0] for line in firsts] == list(SLUGS)
    assert "counter = 1000" in firsts[SLUGS.index("mutex")]


@pytest.mark.parametrize("command", [["demo", "--verbose"], ["demo"], ["list"]])
def test_terminal_output_fits_100_columns_and_splits_no_word(command: list[str]) -> None:
    out = subprocess.run(
        [sys.executable, "-m", "concurrency_patterns", *command],
        capture_output=True, text=True, timeout=120, check=True,
    ).stdout.splitlines()
    assert max(len(line) for line in out) <= 100
    # a line may end in a hyphen only where the word has one ("sub-/deadline" was a split)
    split = [line for line in out if re.search(r"[a-z]-$", line)]
    assert not split, split


def test_list_names_every_pattern_with_what_it_does(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["list"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert [line.split()[0] for line in lines if not line.startswith(" ")] == list(SLUGS)
    assert any("claims: " in line and "switch-cost" in line for line in lines)


def test_a_slug_may_be_written_with_dashes(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["demo", "waitgroup", "process-offload"]) == 0
    assert [line.split(":")[0] for line in capsys.readouterr().out.splitlines()
            if not line.startswith(" ")] == ["waitgroup", "process_offload"]


def test_a_claim_id_may_be_written_with_underscores(
    capsys: pytest.CaptureFixture[str],
) -> None:
    committed = Path(__file__).parents[2] / "docs" / "generated" / "claims.json"
    assert main(["claims", "http_10k", "cpu_mem", "--from-json", str(committed)]) == 0
    out = capsys.readouterr().out
    assert "http-10k" in out and "cpu-mem" in out


@pytest.mark.parametrize("argv", [["demo", "spinlock"], ["compare", "spinlock"]])
def test_an_unknown_pattern_is_refused_naming_the_choices(
    capsys: pytest.CaptureFixture[str], argv: list[str],
) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main(argv)
    assert exit_info.value.code == 2
    err = capsys.readouterr().err
    assert "no pattern 'spinlock'" in err and "worker_pool" in err and "[]" not in err


def test_an_unknown_claim_is_refused(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main(["claims", "go-is-fast"])
    assert exit_info.value.code == 2
    assert "no claim 'go-is-fast'" in capsys.readouterr().err


def test_a_bare_command_prints_the_help(capsys: pytest.CaptureFixture[str]) -> None:
    assert main([]) == 0
    out = capsys.readouterr().out
    assert out.startswith("usage: concurrency-patterns") and "demo" in out and "compare" in out


def test_version(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main(["--version"])
    assert exit_info.value.code == 0
    assert capsys.readouterr().out.strip() == f"concurrency-patterns {__version__}"


@pytest.mark.parametrize("command", ["compare", "claims"])
def test_without_the_repository_compare_and_claims_say_so_and_exit_2(
    monkeypatch: pytest.MonkeyPatch, tmp_path: object, command: str,
    capsys: pytest.CaptureFixture[str],
) -> None:
    from concurrency_patterns.tools import repo

    monkeypatch.setattr(repo, "CHECKOUT", tmp_path)  # an installed copy: nothing beside it
    assert main([command]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "only a clone of the repository has" in err
    assert err.startswith(f"concurrency-patterns: {command} runs ")


@pytest.mark.parametrize("command", ["compare", "claims"])
def test_an_output_folder_that_does_not_exist_is_refused_before_any_run(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, command: str,
) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main([command, "--json", str(tmp_path / "missing" / "out.json")])
    assert exit_info.value.code == 2
    err = capsys.readouterr().err
    assert "no folder" in err and "Traceback" not in err


@pytest.mark.parametrize("command", ["compare", "claims"])
def test_a_from_json_that_is_missing_or_not_json_is_refused(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, command: str,
) -> None:
    not_json = tmp_path / "x.json"
    not_json.write_text("<html>")
    for given, says in ((tmp_path / "none.json", "cannot read"), (not_json, "not a JSON file")):
        with pytest.raises(SystemExit) as exit_info:
            main([command, "--from-json", str(given)])
        assert exit_info.value.code == 2
        assert says in capsys.readouterr().err


def test_compare_refuses_a_python_that_is_not_there(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main(["compare", "mutex", "--python", "/nonexistent/python3.13t"])
    assert exit_info.value.code == 2
    assert "no Python interpreter at" in capsys.readouterr().err


def _cache_with_venv(root: Path, *, complete: bool) -> Path:
    python = root / "venv3.13t" / "bin" / "python"
    python.parent.mkdir(parents=True)
    python.symlink_to(sys.executable)
    if complete:
        (root / "venv3.13t" / ".complete").touch()
    return python


@pytest.mark.parametrize(("given", "complete", "expected"), [
    ([], True, "cached"),              # found: its rows join the tables
    ([], False, None),                 # half made (no marker): never taken
    (["--python", "none"], True, None),  # asked not to
])
def test_compare_finds_the_cached_free_threaded_build(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, given: list[str], complete: bool,
    expected: str | None,
) -> None:
    cached = _cache_with_venv(tmp_path, complete=complete)
    monkeypatch.setenv("CONCURRENCY_PATTERNS_CACHE", str(tmp_path))
    seen: dict[str, object] = {}

    def run_compare(patterns: list[str], **kwargs: object) -> int:
        seen.update(kwargs)
        return 0

    monkeypatch.setattr("concurrency_patterns.tools.compare.run_compare", run_compare)
    assert main(["compare", "mutex", *given]) == 0
    assert seen["python"] == (cached if expected else None)


def test_the_readme_names_the_version_it_describes() -> None:
    """The README (and the home page, which includes it) says which version it is about."""
    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text()
    assert f"version {__version__}," in readme


@pytest.mark.timeout(300)
def test_pytest_benchmark_s_tables_fit_100_columns() -> None:
    """`pytest --benchmark-only` prints within the 100 columns pyproject.toml promises: its
    columns, the memory rows' short names, and the folded legend (tests/conftest.py)."""
    root = Path(__file__).resolve().parents[2]
    run = subprocess.run(
        [sys.executable, "-m", "pytest", "tests/benchmarks/bench_once.py",
         "tests/benchmarks/bench_pipeline.py", "--benchmark-only", "--workloads=quick",
         "--benchmark-max-time=0.001", "--benchmark-min-rounds=1", "-q", "-p", "no:randomly",
         "-k", "once or rss or memory"],
        cwd=root, capture_output=True, text=True, timeout=280, check=False)
    assert run.returncode == 0, run.stdout[-2000:] + run.stderr[-2000:]
    assert "peak RSS" in run.stdout and "Legend:" in run.stdout  # the tables were printed
    wide = [line for line in run.stdout.splitlines() if len(line) > 100]
    assert not wide, wide

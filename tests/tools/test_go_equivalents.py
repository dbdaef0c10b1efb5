"""The Python and Go sides cannot drift apart: same patterns, same output for the same input."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from concurrency_patterns.tools.demos import output_file, runs, shown
from concurrency_patterns.tools.registry import SLUGS
from concurrency_patterns.tools.repo import go_command

ROOT = Path(__file__).resolve().parents[2]
GO = ROOT / "go_equivalents"
NOT_PATTERNS = {"cmd", "internal"}  # the Go module's tools and shared helpers


def test_every_go_pattern_folder_is_a_registered_pattern() -> None:
    folders = {p.name for p in GO.iterdir() if p.is_dir()} - NOT_PATTERNS
    assert folders == set(SLUGS)


def test_every_go_folder_holds_only_its_program_and_its_tests() -> None:
    """Go by Example's shape: ``main.go`` is the pattern and its ``main()``; the tests and
    the benchmark workloads are ``_test.go`` files. Beside it only bounded_fetch's loopback
    server (its demo fetches from it) and labelled teaching versions: what x/sync or x/time
    does inside, written with the standard library, which the tests and benchmarks run too."""
    for slug in SLUGS:
        programs = {p.name for p in (GO / slug).glob("*.go") if not p.name.endswith("_test.go")}
        for extra in programs - {"main.go", "server.go"}:
            head = (GO / slug / extra).read_text().split("package main")[0]
            words = " ".join(line.removeprefix("//").strip() for line in head.splitlines())
            assert "a teaching version" in words, (slug, extra)
        assert (GO / slug / f"{slug}_test.go").is_file(), slug


def go_env() -> dict[str, str]:
    return {**os.environ, "GOTOOLCHAIN": "local"}


@pytest.fixture(scope="module")
def go_binaries(tmp_path_factory: pytest.TempPathFactory) -> Path:
    go = go_command()
    if go is None:
        pytest.skip("no Go toolchain (it comes with the [dev] extra)")
    out = tmp_path_factory.mktemp("go-bin")
    subprocess.run([go, "build", "-o", str(out), *(f"./{slug}" for slug in SLUGS)], cwd=GO,
                   env=go_env(), check=True, timeout=300)
    return out


@pytest.mark.parametrize("slug", SLUGS)
def test_go_prints_what_python_prints(go_binaries: Path, slug: str) -> None:
    go_line = subprocess.run(
        [str(go_binaries / slug)], cwd=GO / slug, env=go_env(), capture_output=True, text=True,
        check=True, timeout=60,
    ).stdout.strip()
    python_line = next(iter(runs(slug).values()))()  # every variant prints the same (test_cli)
    assert go_line == python_line


@pytest.mark.parametrize("slug", SLUGS)
def test_the_docs_show_what_go_prints(go_binaries: Path, slug: str) -> None:
    """The Go tab's output (docs/generated/output/, written by ``demo --docs``) is what the
    program prints, wrapped as the demo wraps it."""
    go_line = subprocess.run(
        [str(go_binaries / slug)], cwd=GO / slug, env=go_env(), capture_output=True, text=True,
        check=True, timeout=60,
    ).stdout.strip()
    assert output_file(ROOT / "docs" / "generated", slug).read_text() == shown(go_line)

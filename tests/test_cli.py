"""The command line, run the way a user runs it."""

from __future__ import annotations

import subprocess
import sys

import pytest

from concurrency_patterns.__main__ import main


def test_demo_prints_one_agreed_line_per_pattern() -> None:
    out = subprocess.run(
        [sys.executable, "-m", "concurrency_patterns", "demo"],
        capture_output=True, text=True, timeout=120, check=True,
    ).stdout.splitlines()
    assert [line.split(":")[0] for line in out] == [
        "bounded_fetch", "producer_consumer", "worker_pool", "waitgroup", "mutex", "rwmutex",
        "once", "process_offload",
    ]
    assert "counter = 1000" in out[4]


def test_list_names_the_patterns(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["list"]) == 0
    assert capsys.readouterr().out.split() == [
        "bounded_fetch", "producer_consumer", "worker_pool", "waitgroup", "mutex", "rwmutex",
        "once", "process_offload",
    ]


def test_an_unknown_pattern_is_refused(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main(["demo", "spinlock"])
    assert exit_info.value.code == 2
    assert "invalid choice: 'spinlock'" in capsys.readouterr().err

"""The ledger's parts: what a claim is, what a measurement holds, and how one is run.

A :class:`Claim` names what an article says, how this project measures it, and the rule that
turns the measurement into a verdict — all in one class, so the rule sits beside the code it
judges. ``measure`` takes readings (usually in fresh subprocesses, through :class:`Context`);
``judge`` is a pure function of those readings, so it can be tested with made-up ones.
"""

from __future__ import annotations

import enum
import importlib.util
import json
import os
import platform
import signal
import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar

from concurrency_patterns.tools.repo import CHECKOUT, go_command

__all__ = [
    "CLAIMS",
    "Claim",
    "Context",
    "Judgement",
    "Measured",
    "Sample",
    "Service",
    "Unmeasurable",
    "Verdict",
    "cpu_model",
    "graded",
    "installed",
    "memory_total",
    "ratio_text",
    "read_proc_status",
    "size_text",
]

ROOT = CHECKOUT
GO_DIR = ROOT / "go_equivalents"


class Verdict(enum.StrEnum):
    HOLDS = "holds"
    PARTLY = "holds only partly"
    FAILS = "does not hold"
    UNMEASURED = "not measured"


@dataclass(frozen=True)
class Judgement:
    verdict: Verdict
    reason: str  # one line: why this verdict, with the figures that decided it


def graded(value: float, holds_at: float, partly_at: float, reason: str) -> Judgement:
    """The usual shape of a rule: *holds* at ``holds_at`` or more, *holds only partly* from
    ``partly_at``, *does not hold* below."""
    if value >= holds_at:
        return Judgement(Verdict.HOLDS, reason)
    if value >= partly_at:
        return Judgement(Verdict.PARTLY, reason)
    return Judgement(Verdict.FAILS, reason)


class Killed(RuntimeError):
    """A measuring process was killed by a signal (its name is the message): a result for a
    claim about how much fits in memory, not a failure to measure."""


class Unmeasurable(Exception):
    """Raised by ``measure`` when this machine lacks what the measurement needs (no Go)."""


# --- readings ---------------------------------------------------------------------------------

_UNITS = {"s": "wall time", "B": "bytes", "req/s": "throughput", "x": "ratio"}


@dataclass(frozen=True)
class Sample:
    """Repeated readings of one quantity, in one unit.

    ``kind`` says what exactly was read — ``"wall time"``, ``"RSS"``, ``"heap (tracemalloc)"``
    — because the articles' memory figures mean different things and a reader must know which.
    """

    label: str
    values: tuple[float, ...]
    unit: str
    kind: str = ""

    def __post_init__(self) -> None:
        if not self.values:
            raise ValueError(f"sample {self.label!r}: no values")

    @property
    def median(self) -> float:
        return statistics.median(self.values)

    @property
    def low(self) -> float:
        return min(self.values)

    @property
    def high(self) -> float:
        return max(self.values)

    @property
    def spread(self) -> float:
        """Half the range as a fraction of the median: 0.05 reads "±5%"."""
        if self.median == 0:
            return 0.0
        return (self.high - self.low) / 2 / abs(self.median)

    def text(self, *, spread: bool = True) -> str:
        """The median in friendly units, with its spread when there are several readings."""
        out = quantity(self.median, self.unit)
        if spread and len(self.values) > 1:
            out += f" ±{self.spread:.0%}" if self.spread >= 0.005 else " ±<1%"
        return out

    def to_json(self) -> dict[str, Any]:
        return {"label": self.label, "unit": self.unit, "kind": self.kind,
                "values": list(self.values), "median": self.median, "low": self.low,
                "high": self.high}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Sample:
        return cls(data["label"], tuple(data["values"]), data["unit"], data.get("kind", ""))


def quantity(value: float, unit: str) -> str:
    if unit == "s":
        for name, scale in (("s", 1.0), ("ms", 1e-3), ("µs", 1e-6), ("ns", 1e-9)):
            if abs(value) >= scale:
                return f"{value / scale:.3g} {name}"
        return f"{value / 1e-9:.3g} ns"
    if unit == "B":
        return size_text(value)
    if unit == "req/s":
        return f"{value:,.0f} req/s"
    if unit == "x":
        return ratio_text(value)
    if abs(value) >= 1000:  # a count: 9,462, never 9.46e+03
        return f"{value:,.0f} {unit}".rstrip()
    return f"{value:.3g} {unit}".rstrip()


def size_text(n: float) -> str:
    """Bytes in decimal units (kB, MB, GB), as the articles write them."""
    for name, scale in (("GB", 1e9), ("MB", 1e6), ("kB", 1e3)):
        if abs(n) >= scale:
            return f"{n / scale:.3g} {name}"
    return f"{n:.0f} B"


def ratio_text(r: float) -> str:
    return f"{r:.2g}×" if r < 10 else f"{r:.0f}×"


@dataclass
class Measured:
    """What one claim's measurement found: samples by key, the sizes used, and notes."""

    samples: dict[str, Sample] = field(default_factory=dict)
    params: dict[str, Any] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)

    def add(self, key: str, label: str, values: float | Sequence[float], unit: str,
            kind: str = "") -> Sample:
        if isinstance(values, int | float):
            values = [values]
        sample = Sample(label, tuple(float(v) for v in values), unit, kind or _UNITS.get(unit, ""))
        self.samples[key] = sample
        return sample

    def __getitem__(self, key: str) -> Sample:
        return self.samples[key]

    def __contains__(self, key: str) -> bool:
        return key in self.samples

    def median(self, key: str) -> float:
        return self.samples[key].median

    def add_ratios(self, a: str, b: str, label: str) -> Sample:
        """Round-by-round ratios of two samples taken in turn, as sample ``"a/b"``: each ratio
        compares two runs moments apart, so a slow patch of a noisy machine that hits one
        round does not tilt the whole comparison, as it would a ratio of medians."""
        x, y = self.samples[a].values, self.samples[b].values
        if len(x) != len(y):
            raise ValueError(f"{a} and {b} have different numbers of rounds")
        return self.add(f"{a}/{b}", label, [p / q for p, q in zip(x, y, strict=True)], "x")

    def ratio(self, a: str, b: str) -> float:
        """The median round-by-round ratio if there is one, else the ratio of medians."""
        if f"{a}/{b}" in self.samples:
            return self.median(f"{a}/{b}")
        return self.median(a) / self.median(b)

    def ratio_basis(self, a: str, b: str) -> str:
        """How ``ratio(a, b)`` was computed, for a summary that shows the medians beside it:
        a median of round-by-round ratios is not the ratio of the medians."""
        return " (median of round-by-round ratios)" if f"{a}/{b}" in self.samples else ""

    def to_json(self) -> dict[str, Any]:
        return {"samples": {k: s.to_json() for k, s in self.samples.items()},
                "params": self.params, "notes": self.notes}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Measured:
        return cls({k: Sample.from_json(s) for k, s in data["samples"].items()},
                   dict(data.get("params", {})), list(data.get("notes", [])))


# --- claims -----------------------------------------------------------------------------------

CLAIMS: dict[str, Claim] = {}


class Claim:
    """One measurable claim from the articles. Subclasses register themselves by ``id``.

    The class attributes are the ledger's prose (the docs page is built from them); the three
    methods are its machinery.
    """

    id: ClassVar[str]
    title: ClassVar[str]  # the claim in a few words
    articles: ClassVar[tuple[str, ...]]  # which articles make it: "002", "003"
    said: ClassVar[str]  # the article's figure, as the table shows it
    gist: ClassVar[str]  # what the articles say, in our words
    method: ClassVar[str]  # how it is measured here, what kind of figure, what was scaled
    rule: ClassVar[str]  # the verdict rule, in words (judge() is the same rule in code)
    patterns: ClassVar[tuple[str, ...]] = ()  # pattern pages this claim concerns
    judged: ClassVar[tuple[str, ...]] = ()  # the samples the rule reads (their noise counts)

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if cls.id in CLAIMS:
            raise ValueError(f"two claims named {cls.id!r}")
        CLAIMS[cls.id] = cls()

    def measure(self, ctx: Context) -> Measured:
        raise NotImplementedError

    def judge(self, m: Measured) -> Judgement:
        raise NotImplementedError

    def summary(self, m: Measured) -> tuple[str, str]:
        """The table's *measured* and *ratio* cells."""
        raise NotImplementedError


# --- running measurements ---------------------------------------------------------------------

@dataclass
class Service:
    """A server process started for a measurement: its URL, CPU and memory, and how to stop it."""

    process: subprocess.Popen[str]
    url: str

    def cpu_seconds(self) -> float:
        """User + system CPU time the process has used, from /proc/<pid>/stat."""
        fields = Path(f"/proc/{self.process.pid}/stat").read_text().rsplit(")", 1)[1].split()
        ticks = os.sysconf("SC_CLK_TCK")
        return (int(fields[11]) + int(fields[12])) / ticks  # utime, stime

    def rss(self) -> int:
        return read_proc_status(self.process.pid).get("VmRSS", 0)

    def stop(self) -> None:
        if self.process.stdin is not None:
            self.process.stdin.close()  # the service's signal to stop
        try:
            self.process.wait(10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


def read_proc_status(pid: int | str = "self") -> dict[str, int]:
    """The memory lines of /proc/<pid>/status (VmRSS, VmSize, VmHWM, ...), in bytes."""
    out = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        name, _, value = line.partition(":")
        parts = value.split()
        if len(parts) == 2 and parts[1] == "kB":
            out[name] = int(parts[0]) * 1024
    return out


def installed(module: str) -> bool:
    """Whether an optional module (numpy, orjson, uvloop) can be imported here."""
    return importlib.util.find_spec(module) is not None


def cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def memory_total() -> int:
    """This machine's memory in bytes (0 where /proc/meminfo is missing)."""
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                return int(line.split()[1]) * 1024
    except OSError:
        pass
    return 0


def peak_rss() -> int:
    """This process's peak resident memory, in bytes: the kernel's high-water mark (VmHWM).

    Not ``getrusage``'s ``ru_maxrss``: Linux carries that across ``exec``, so a program started
    by a big parent (this ledger, say) reports the parent's size as its own peak."""
    return read_proc_status().get("VmHWM", 0)


class Context:
    """What a claim's ``measure`` uses: the run's size, subprocesses for Python and Go, pinning
    to cores, a scratch directory and a progress line."""

    def __init__(self, *, quick: bool, scratch: Path,
                 progress: Callable[[str], None] = lambda _: None) -> None:
        self.quick = quick
        self.scratch = scratch
        self.progress = progress
        self.cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") \
            else (os.cpu_count() or 1)
        self._go_binary: Path | None = None
        self._go_error = ""

    # Python, in a fresh interpreter: a clean heap for memory figures, no state shared between
    # measurements, and a crash that cannot take the ledger down with it.
    def python(self, probe: Callable[..., Any], /, *, env: dict[str, str] | None = None,
               cpus: set[int] | None = None, timeout: float = 600, **kwargs: Any) -> Any:
        """Run ``probe(**kwargs)`` in a new interpreter and return its (JSON) result."""
        target = f"{probe.__module__}:{probe.__qualname__}"
        command = [sys.executable, "-m", "concurrency_patterns.tools.claims.probe", target,
                   json.dumps(kwargs)]
        return self._run_json(command, env=env, cpus=cpus, timeout=timeout)

    def script(self, python: str, code: str, *args: str, timeout: float = 600) -> Any:
        """Run *code* (a self-contained script that prints one JSON line) with another
        interpreter, one that may not have this package or its dependencies (PyPy, say)."""
        return self._run_json([python, "-c", code, *args], timeout=timeout)

    def go(self, *args: str, cpus: set[int] | None = None, timeout: float = 600) -> Any:
        """Run a subcommand of the Go claims program and return its JSON answer."""
        return self._run_json([str(self.go_binary()), *args], cpus=cpus, timeout=timeout)

    def go_binary(self) -> Path:
        """go_equivalents/cmd/claims, built once per run; Unmeasurable without a Go toolchain."""
        if self._go_binary is None and not self._go_error:
            go = go_command()
            if go is None:
                self._go_error = ("no Go toolchain on PATH or beside this Python "
                                  "(it comes with the [dev] extra)")
            elif not GO_DIR.is_dir():
                self._go_error = "go_equivalents/ not found: the ledger needs a clone"
            else:
                out = self.scratch / "claims-go"
                build = subprocess.run([go, "build", "-o", str(out), "./cmd/claims"], cwd=GO_DIR,
                                       capture_output=True, text=True, timeout=600,
                                       env={**os.environ, "GOTOOLCHAIN": "local"})
                if build.returncode != 0:
                    raise RuntimeError(f"go build ./cmd/claims failed:\n{build.stderr}")
                self._go_binary = out
        if self._go_binary is None:
            raise Unmeasurable(self._go_error)
        return self._go_binary

    def has_go(self) -> bool:
        try:
            self.go_binary()
        except Unmeasurable:
            return False
        return True

    def parallel_capacity(self) -> float:
        """How many times one process's throughput this machine gives ``cores`` independent
        processes right now: the ceiling of any parallel speed-up measured at this moment.

        On a virtual machine it varies: two virtual cores may be two physical cores, or two
        hyperthreads of one, or share a core with a neighbour. Go's fib(32) is run alone, then
        once per core at the same time, each process timing its own rounds.
        """
        go, args = str(self.go_binary()), ["fib", "-n", "32", "-repeat", "15"]
        alone: float = statistics.median(self.go(*args)["seconds"])
        together = [subprocess.Popen([go, *args], stdout=subprocess.PIPE, text=True)
                    for _ in range(self.cores)]
        slowest = 0.0
        for process in together:
            out, _ = process.communicate(timeout=120)
            if process.returncode != 0:
                raise RuntimeError(f"the parallel capacity check failed (exit "
                                   f"{process.returncode})")
            slowest = max(slowest, statistics.median(json.loads(out)["seconds"]))
        return self.cores * alone / slowest

    def pinned(self, role: str) -> set[int] | None:
        """The cores for a role in a client–server measurement: the server gets core 0, the
        load side (load generator, upstream) the rest. None on a one-core machine."""
        if self.cores < 2 or not hasattr(os, "sched_setaffinity"):
            return None
        cores = sorted(os.sched_getaffinity(0))
        return {cores[0]} if role == "server" else set(cores[1:])

    @contextmanager
    def service(self, command: Sequence[str], *, cpus: set[int] | None = None,
                env: dict[str, str] | None = None) -> Iterator[Service]:
        """Start a server that prints ``{"url": ...}`` and serves until its stdin closes."""
        process = subprocess.Popen(
            list(command), stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
            env={**os.environ, "GOTOOLCHAIN": "local", **(env or {})},
            preexec_fn=_affinity(cpus), cwd=ROOT,
        )
        service = None
        try:
            assert process.stdout is not None
            line = process.stdout.readline()
            if not line:
                raise RuntimeError(f"{command[0]} stopped before serving "
                                   f"(exit {process.wait(10)})")
            service = Service(process, json.loads(line)["url"])
            yield service
        finally:
            if service is not None:
                service.stop()
            else:
                process.kill()
                process.wait()

    def _run_json(self, command: list[str], *, env: dict[str, str] | None = None,
                  cpus: set[int] | None = None, timeout: float) -> Any:
        done = subprocess.run(
            command, capture_output=True, text=True, timeout=timeout, cwd=ROOT,
            env={**os.environ, "GOTOOLCHAIN": "local", **(env or {})},
            preexec_fn=_affinity(cpus),
        )
        if done.returncode < 0:  # a signal: the kernel's out-of-memory killer sends SIGKILL
            raise Killed(signal.Signals(-done.returncode).name)
        if done.returncode != 0:
            raise RuntimeError(f"{' '.join(command[:4])} failed (exit {done.returncode}):\n"
                               f"{done.stderr.strip()[-2000:]}")
        return json.loads(done.stdout.strip().splitlines()[-1])


def _affinity(cpus: set[int] | None) -> Callable[[], None] | None:
    if cpus is None:
        return None
    # Runs in the child between fork and exec: pins the new program to its cores (Go's
    # GOMAXPROCS follows the affinity mask it starts with).
    return lambda: os.sched_setaffinity(0, cpus)


def timed(fn: Callable[[], Any]) -> float:
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start

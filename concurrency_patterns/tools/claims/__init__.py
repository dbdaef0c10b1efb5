"""The claims ledger: ``python -m concurrency_patterns claims``.

Each measurable claim of the articles is a :class:`~concurrency_patterns.tools.claims.core.Claim`
with a measurement and a verdict rule side by side; this module runs them, shows progress, and
writes the table, the JSON and the docs page (``docs/claims.md``).

The claims live by theme: ``cpu`` (computing and parallelism), ``memory``, ``scheduling``
(waiting, starting and switching) and ``network`` (threads on I/O, servers under load).
"""

from __future__ import annotations

import datetime
import json
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from concurrency_patterns.tools.claims import cpu, memory, network, scheduling
from concurrency_patterns.tools.claims.core import (
    CLAIMS,
    Claim,
    Context,
    Judgement,
    Measured,
    Unmeasurable,
    Verdict,
)
from concurrency_patterns.tools.claims.report import (
    Outcome,
    describe_machine,
    format_markdown,
    format_text,
)

__all__ = ["CLAIMS", "ORDER", "run_claims"]

_THEMES = (cpu, memory, network, scheduling)  # importing them registers their claims

# The order: the claims as the articles raise them, then the ones added on reading.
ORDER = [
    "cpu-fib", "gil-threads", "io-threads", "processes", "gather-sleeps", "goroutine-mem",
    "coroutine-mem", "thread-mem", "max-concurrent", "io-gap", "http-json", "http-10k",
    "json-parse", "cpu-mem", "points-mem", "numpy-gil", "go-parallel", "spawn-cost", "switch-cost",
    "cooperative", "pypy",
]
assert sorted(ORDER) == sorted(CLAIMS), "every claim has a place in ORDER"


def run_one(claim: Claim, ctx: Context) -> Outcome:
    """Measure and judge one claim. A missing tool makes it *not measured*; a failure is kept
    in the outcome (and fails the command), never hidden."""
    start = time.monotonic()
    try:
        measured = claim.measure(ctx)
    except Unmeasurable as exc:
        return Outcome(claim, None, Judgement(Verdict.UNMEASURED, str(exc)),
                       time.monotonic() - start)
    except Exception as exc:
        return Outcome(claim, None, Judgement(Verdict.UNMEASURED, f"the measurement failed: "
                                              f"{type(exc).__name__}"),
                       time.monotonic() - start, error=f"{type(exc).__name__}: {exc}")
    return Outcome(claim, measured, claim.judge(measured), time.monotonic() - start)


def run_claims(ids: list[str], *, quick: bool, json_path: Path | None = None,
               markdown_path: Path | None = None, from_json: Path | None = None) -> int:
    """Run (or, with *from_json*, re-read) the claims; print the table; write the files.
    Exit status 1 if any measurement failed."""
    chosen = [CLAIMS[i] for i in (ids or ORDER)]
    if from_json is not None:
        data = json.loads(from_json.read_text())
        outcomes = [_outcome_from_json(c) for c in data["claims"] if not ids or c["id"] in ids]
        machine, quick, when = data["machine"], data["quick"], data["when"]
    else:
        machine = describe_machine()
        when = datetime.date.today().isoformat()
        outcomes = []
        started = time.monotonic()
        with tempfile.TemporaryDirectory(prefix="claims-") as scratch:
            for number, claim in enumerate(chosen, 1):
                tag = f"[{number:{len(str(len(chosen)))}d}/{len(chosen)}] {claim.id}"

                def progress(step: str, tag: str = tag) -> None:
                    print(f"  {time.monotonic() - started:6.1f}s  {tag}: {step}",
                          file=sys.stderr, flush=True)

                ctx = Context(quick=quick, scratch=Path(scratch), progress=progress)
                outcome = run_one(claim, ctx)
                progress(f"{outcome.judgement.verdict} ({outcome.seconds:.1f}s)"
                         + (f" — {outcome.error}" if outcome.error else ""))
                outcomes.append(outcome)
    print(format_text(outcomes, machine, quick))
    if json_path:
        json_path.write_text(json.dumps({"machine": machine, "quick": quick, "when": when,
                                         "claims": [o.to_json() for o in outcomes]},
                                        indent=1, ensure_ascii=False) + "\n")
        print(f"wrote {json_path}")
    if markdown_path:
        markdown_path.write_text(format_markdown(outcomes, machine, quick=quick, when=when))
        print(f"wrote {markdown_path}")
    failed = [o.claim.id for o in outcomes if o.error]
    if failed:
        print(f"measurements failed: {', '.join(failed)}", file=sys.stderr)
        return 1
    return 0


def _outcome_from_json(data: dict[str, Any]) -> Outcome:
    claim = CLAIMS[data["id"]]
    if data.get("data") is None:
        judgement = Judgement(Verdict(data["verdict"]), data["reason"])
        return Outcome(claim, None, judgement, data.get("seconds", 0.0), data.get("error", ""))
    measured = Measured.from_json(data["data"])
    # Judged again by today's rule, so the page always shows the rule it states.
    return Outcome(claim, measured, claim.judge(measured), data.get("seconds", 0.0))

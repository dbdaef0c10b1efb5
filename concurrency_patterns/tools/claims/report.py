"""The ledger's outputs: a table for the terminal, the docs page (Markdown), and JSON."""

from __future__ import annotations

import os
import platform
import subprocess
import textwrap
from dataclasses import dataclass
from typing import Any

from concurrency_patterns.tools.claims.core import (
    Claim,
    Judgement,
    Measured,
    Verdict,
    cpu_model,
    memory_total,
    quantity,
)
from concurrency_patterns.tools.registry import PATTERNS
from concurrency_patterns.tools.repo import go_command

__all__ = ["ARTICLES", "Outcome", "describe_machine", "format_markdown", "format_text"]

# The four articles the ledger checks, by the number the claims cite: title, who published
# it, and when, as far as the copies kept in the repository's shared/seeds/ say.
ARTICLES = {
    "000": ("Choosing Between Python/FastAPI and Go for Your WebAssembly-Driven Qt Web Page",
            "Ayman Alheraki", "11 January 2026"),
    "001": ("Go vs Python for Web Development: Which Language Should You Choose?",
            "author not named", "2026 (its benchmarks are dated 2026)"),
    "002": ("Python vs Go: Choosing the Right Backend Language in 2025",
            "author not named", "2025"),
    "003": ("Python vs Golang High Concurrency: FastAPI, asyncio and Goroutine Practical "
            "Comparison", "a cloud consultancy's blog, not named", "2025"),
}


def cite(numbers: tuple[str, ...]) -> str:
    """How a claim names its articles: number and title, linked to the list of articles."""
    return "; ".join(f"[{n}](#the-articles) *{ARTICLES[n][0]}*" if n in ARTICLES else n
                     for n in numbers)


PATTERN_TITLES = {p.slug: p.title for p in PATTERNS}

# Claims the articles make that this machine cannot check, and why.
NOT_MEASURED = [
    ("Cython brings fib(40) to 2.1 s (002)",
     "not measured: this project's code is pure Python, and the ledger leaves compiling "
     "extensions out; fib is measured in CPython, PyPy and Go."),
    ("Framework figures: Flask, Django, Gin, Fiber, Express (001, 002, 003)",
     "the ledger measures FastAPI on uvicorn, aiohttp and Go's net/http (http-json, "
     "http-10k), the servers the benchmarks use. Gin, Fiber, Flask, Django and Express are "
     "not measured."),
    ("Container images: Go under 20 MB, Python 100–300 MB (001)",
     "building an image needs base images from a container registry, which this machine "
     "can't reach."),
    ("Uber cut its servers by 30%; Python is 23% of TIOBE (001)",
     "reports about other organisations, not measurements anyone can repeat."),
]


NOISY = 0.25  # a figure whose rounds spread more than ±25% makes its claim's verdict suspect


@dataclass
class Outcome:
    """One claim's run: what was measured, the verdict, and how long it took."""

    claim: Claim
    measured: Measured | None
    judgement: Judgement
    seconds: float
    error: str = ""

    @property
    def noisy(self) -> bool:
        """Whether a figure its rule reads varied by more than NOISY between rounds."""
        if self.measured is None:
            return False
        samples = self.measured.samples
        judged = [samples[k] for k in self.claim.judged if k in samples] or [
            s for s in samples.values() if s.unit in ("s", "req/s")]
        return any(s.spread > NOISY for s in judged)

    def verdict_text(self) -> str:
        return str(self.judgement.verdict) + (" ⚠" if self.noisy else "")

    def cells(self) -> tuple[str, str]:
        if self.measured is None:
            return "–", "–"
        return self.claim.summary(self.measured)

    def to_json(self) -> dict[str, Any]:
        measured, ratio = self.cells()
        return {"id": self.claim.id, "title": self.claim.title, "articles": self.claim.articles,
                "said": self.claim.said, "measured": measured, "ratio": ratio,
                "verdict": str(self.judgement.verdict), "reason": self.judgement.reason,
                "seconds": round(self.seconds, 2), "error": self.error,
                "data": self.measured.to_json() if self.measured else None}


# --- the machine --------------------------------------------------------------------------------

def describe_machine() -> dict[str, Any]:
    info: dict[str, Any] = {"cpu": cpu_model(), "cores": os.cpu_count(),
                            "memory": memory_total(), "os": f"{platform.system()} "
                            f"{platform.release()}", "python": platform.python_version()}
    go = go_command()
    if go:
        done = subprocess.run([go, "version"], capture_output=True, text=True,
                              env={**os.environ, "GOTOOLCHAIN": "local"})
        info["go"] = done.stdout.strip().removeprefix("go version ")
    return info


def machine_line(info: dict[str, Any]) -> str:
    memory = f"{info['memory'] / 2**30:.0f} GiB" if info.get("memory") else "? GiB"
    return (f"{info.get('cpu', '?')}, {info.get('cores', '?')} cores, {memory}; "
            f"{info.get('os', '?')}; Python {info.get('python', '?')}; "
            f"Go {info.get('go', 'not installed')}")


# --- the terminal -------------------------------------------------------------------------------

WIDTHS = (13, 21, 32, 10, 16)  # claim, article, measured, ratio, verdict
TEXT_WIDTH = sum(WIDTHS) + 2 * (len(WIDTHS) - 1)  # 100 columns


def format_text(outcomes: list[Outcome], machine: dict[str, Any], quick: bool) -> str:
    header = ("claim", "article says", "measured here", "ratio", "verdict")
    rule = "  ".join("─" * w for w in WIDTHS)
    heading = f"machine: {machine_line(machine)}" + ("   (--quick: sizes scaled down)"
                                                     if quick else "")
    lines = [*textwrap.wrap(heading, TEXT_WIDTH, subsequent_indent="  "), "", _row(header), rule]
    for o in outcomes:
        measured, ratio = o.cells()
        lines.append(_row((o.claim.id, o.claim.said, measured, ratio, o.verdict_text())))
        lines += textwrap.wrap(f"↳ {o.judgement.reason}", width=TEXT_WIDTH,
                               initial_indent=" " * 16, subsequent_indent=" " * 18)
        lines.append("")
    counts: dict[str, int] = {}
    for o in outcomes:
        counts[str(o.judgement.verdict)] = counts.get(str(o.judgement.verdict), 0) + 1
    lines.append("verdicts: " + ", ".join(f"{n} {v}" for v, n in counts.items()))
    if any(o.noisy for o in outcomes):
        lines += textwrap.wrap(f"⚠ a figure of that claim varied by more than ±{NOISY:.0%} "
                               "between rounds: the machine was busy; run it again before "
                               "trusting its verdict", TEXT_WIDTH)
    return "\n".join(lines)


def _row(cells: tuple[str, ...]) -> str:
    wrapped = [textwrap.wrap(c, w) or [""] for c, w in zip(cells, WIDTHS, strict=True)]
    height = max(len(w) for w in wrapped)
    return "\n".join("  ".join((w[i] if i < len(w) else "").ljust(width)
                               for w, width in zip(wrapped, WIDTHS, strict=True)).rstrip()
                     for i in range(height))


# --- the docs page ------------------------------------------------------------------------------

# Shortcodes, which the site draws as SVG (pymdownx.emoji): a browser with no emoji font shows
# the same badge, never an empty box, and the words say the verdict without the picture.
# Material's own icons, which the site inlines as SVG: no image is fetched, so the page reads
# the same offline (an emoji shortcode would load its picture from a CDN).
_BADGE = {Verdict.HOLDS: ":material-check-circle:{ .verdict-holds } holds",
          Verdict.PARTLY: ":material-circle-half-full:{ .verdict-partly } holds only partly",
          Verdict.FAILS: ":material-close-circle:{ .verdict-fails } does not hold",
          Verdict.UNMEASURED: ":material-circle-outline:{ .verdict-unmeasured } not measured"}


def format_markdown(outcomes: list[Outcome], machine: dict[str, Any], *, quick: bool,
                    when: str) -> str:
    out = [
        "# Claims ledger",
        "",
        "<!-- Generated by `python -m concurrency_patterns claims --markdown docs/claims.md`; "
        "edit the claims in concurrency_patterns/tools/claims/, not this page. -->",
        "",
        "The four articles this project started from make many numeric claims about Python "
        "and Go. Here each one is an executable measurement on this project's machine, with "
        "a verdict decided by a rule written in code beside the measurement — and repeated "
        "below — so the goal posts cannot move after the figures are in.",
        "",
        "```sh",
        "python -m concurrency_patterns claims            # every claim",
        "python -m concurrency_patterns claims cpu-fib io-gap --quick",
        "python -m concurrency_patterns claims --json out.json --markdown out.md",
        "```",
        "",
        f"**Machine:** {machine_line(machine)}. **Run:** {when}"
        + (", `--quick` (sizes scaled down)" if quick else "") + ".",
        "",
        "**Verdicts.** *Holds*: the measurement agrees with the claim, within the tolerance "
        "its rule states. *Holds only partly*: part of the claim survives — the rule says "
        "which part. *Does not hold*: the measurement contradicts it. These are verdicts "
        "about this machine (a noisy two-core virtual machine): absolute figures differ from "
        "the articles' machines, so the rules compare ratios wherever the articles allow it.",
        "",
        "**Memory** is named by kind: **RSS** is the memory a process has in RAM, as the "
        "operating system counts it; **heap** is what the language's allocator handed out "
        "(`tracemalloc`, Go's `runtime.MemStats`); **virtual** is address space reserved. "
        "Every figure is a median, with its spread (half the range, as ±%) where there "
        "were several rounds.",
        "",
        "## Summary",
        "",
        "| claim | the articles say | measured here | ratio | verdict |",
        "|---|---|---|--:|---|",
    ]
    for o in outcomes:
        measured, ratio = o.cells()
        out.append(f"| [{o.claim.id}](#{o.claim.id}) | {_md(o.claim.said)} | {_md(measured)} | "
                   f"{_md(ratio) or '–'} | {_BADGE[o.judgement.verdict]}"
                   f"{' ⚠' if o.noisy else ''} |")
    out.append("")
    if any(o.noisy for o in outcomes):
        out += [f"⚠ marks a claim with a figure that varied by more than ±{NOISY:.0%} between "
                "rounds: the machine was busy, and the verdict should be taken with care.", ""]
    for o in outcomes:
        out += _section(o)
    out += ["## Not measured here", "",
            "Some of the articles' claims cannot be checked on this machine:", ""]
    out += [f"- **{what}** — {why}" for what, why in NOT_MEASURED]
    out += ["", "## The articles", ""]
    out += [f"- **{number}** — *{title}*, {by}, {when}."
            for number, (title, by, when) in ARTICLES.items()]
    return "\n".join(out) + "\n"


def _section(o: Outcome) -> list[str]:
    c = o.claim
    out = [f"## {c.id}: {c.title} {{ #{c.id} }}", "",
           f"**{_BADGE[o.judgement.verdict]}** — {_md(o.judgement.reason)}", "",
           f"**The claim** (article{'s' if len(c.articles) > 1 else ''} "
           f"{cite(c.articles)}). {c.gist}", "",
           f"**How it is measured.** {c.method}", "",
           f"**The rule.** {c.rule}", ""]
    if o.measured is not None:
        out += ["| figure | kind | median | range | n |", "|---|---|--:|--:|--:|"]
        for s in o.measured.samples.values():
            spread = (f"{quantity(s.low, s.unit)} – {quantity(s.high, s.unit)}"
                      if len(s.values) > 1 else "")
            out.append(f"| {_md(s.label)} | {s.kind} | {quantity(s.median, s.unit)} | "
                       f"{spread} | {len(s.values)} |")
        out.append("")
        out += [f"- {_md(note)}" for note in o.measured.notes]
        if o.measured.notes:
            out.append("")
    if o.error:
        out += [f"The measurement failed: `{o.error}`", ""]
    if c.patterns:
        links = ", ".join(f"[{PATTERN_TITLES[p]}](patterns/{p}.md)" for p in c.patterns)
        out += [f"*Patterns this concerns:* {links}.", ""]
    return out


def _md(text: str) -> str:
    return text.replace("|", "\\|")

"""The docs' prose and its figures: every placeholder renders against the committed data,
and no hand-written sentence states a measured comparison the data cannot check."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from concurrency_patterns.tools.excerpts import DIRECTIVE
from concurrency_patterns.tools.figures import DATA, FigureError, Figures, render

ROOT = Path(__file__).resolve().parents[2]
# The pages people write; claims.md is written by the ledger, generated/ by compare.
PAGES = sorted(p for p in [*ROOT.glob("docs/*.md"), *ROOT.glob("docs/patterns/*.md")]
               if p.name != "claims.md")

# A comparison with a figure, or in words: "2.2×", "40 %", "as fast as", "slower than"; and
# an approximate figure or comparison: "about 100 ms", "around 1 ms", "approaches the number of
# cores", "close to the floor", "little changes".
COMPARATIVE = re.compile(r"(?<![\w.,])\d+(?:[.,]\d+)*(?:[–-]\d+(?:[.,]\d+)*)?\s?(?:×|%)|"
                         r"\bas fast as\b|\bfaster than\b|\bslower than\b|"
                         r"\btimes (?:faster|slower)\b|"
                         r"\b(?:about|around|roughly|nearly|almost) \d|\bapproach(?:es)? the\b|"
                         r"\bclose to the (?:floor|limit|rate)\b|\blittle changes\b|"
                         r"~\s?\d|\ba few (?:seconds|minutes|hours)\b")

# Comparisons that are not measurements of this project, each with why it may stay literal:
# the exact phrase, on its page. A phrase no longer on its page fails too, so the list never
# keeps an exemption nothing needs.
ALLOWED: dict[str, list[tuple[str, str]]] = {
    "methodology.md": [
        ("above 10 % of its median", "the rule for ⚠"),
        ("anyio costs at most 1.10× hand-written asyncio", "a target"),
        ("Within 1.25× of hand-written code", "a target"),
        ("The portable fetch within 2× of asyncio, threads within 4×", "a target"),
        ("reaches 70 % of the fetch floor", "a target"),
        ("Processes at least 1.8× faster than sequential", "a target"),
        ("grow less than 10 %", "a target"),
        ("a dashed line at 1× (Go)", "how the charts are drawn"),
    ],
    "choosing.md": [("the articles say 1.5–2×", "the articles' claim, named as such")],
    "free-threading.md": [("each runs slower than with the GIL",
                           "its figure, computed, follows in the same sentence")],
    "index.md": [("Go 10× faster", "the articles' claim, named as such")],
    "rate_limit.md": [("must not call it faster than", "what a rate limiter is for")],
    "pipeline.md": [("far slower than the rest", "a condition, not a measurement")],
    "sync_map.md": [("10% stores", "the workload"), ("or 50% (write-heavy)", "the workload")],
}


def prose(text: str) -> str:
    """*text* without what is not prose: code, placeholders, quotations, link targets."""
    text = re.sub(r"```.*?```", " ", text, flags=re.S)
    text = re.sub(r"^--8<--.*$", " ", text, flags=re.M)
    text = re.sub(r"`[^`]*`", " ", text)
    text = re.sub(r"\{\{.*?\}\}", " ", text)
    text = re.sub(r'"[^"]*"|“[^”]*”', " ", text)  # the articles' words, quoted
    # the claims a page lists, by their titles: the articles' words, linked to their verdicts
    text = re.sub(r"^- \[[\w-]+\]\(\.\./claims\.md#[\w-]+\) — .*$", " ", text, flags=re.M)
    return re.sub(r"\]\([^)]*\)", "]", text)


@pytest.fixture(scope="module")
def figures() -> Figures:
    return Figures.load(DATA)


@pytest.mark.parametrize("page", PAGES, ids=lambda p: p.name)
def test_every_placeholder_renders(page: Path, figures: Figures) -> None:
    # The excerpts are the other hook's (excerpts.py): they become code, not figures.
    rendered = render(DIRECTIVE.sub("", page.read_text()), figures, where=page.name)
    assert "{{" not in rendered


@pytest.mark.parametrize("page", PAGES, ids=lambda p: p.name)
def test_no_measured_comparison_is_typed_into_the_prose(page: Path) -> None:
    text = prose(page.read_text())
    for phrase, _why in ALLOWED.get(page.name, []):
        phrase = phrase.replace("\\n", "\n")
        assert phrase in text, f"{page.name} no longer says {phrase!r}: drop it from ALLOWED"
        text = text.replace(phrase, " ")
    typed = sorted({m.group(0) for m in COMPARATIVE.finditer(text)})
    assert not typed, (f"{page.name} states {typed} in words the data cannot check: write a "
                       "placeholder ({{ ratio(...) }}, see concurrency_patterns/tools/figures.py)")


def test_a_placeholder_the_data_cannot_answer_fails_naming_itself() -> None:
    figures = Figures({"tables": [{"pattern": "mutex", "workload": "100-tasks", "rows": [
        {"variant": "go", "median": 0.01}, {"variant": "asyncio", "median": 0.3},
        {"variant": "asyncio+uvloop", "median": 0.29}]}], "targets": []})
    assert render('{{ ratio("mutex", "100", "asyncio") }}', figures) == "30.0×"
    assert render('{{ than("mutex", "100", "asyncio+uvloop", "asyncio") }}', figures) == \
        "about as fast as"
    assert render('{{ than("mutex", "100", "go", "asyncio") }}', figures) == "faster than"
    for bad, says in [('{{ ratio("mutex", "100", "threads") }}', "no row 'threads'"),
                      ('{{ ratio("once", "100", "go") }}', "0 tables of 'once'"),
                      ('{{ load("x") }}', "no figure called 'load'"),
                      ('{{ ratio("mutex", "100", variant) }}', "cannot read the arguments"),
                      ('{{ target("anything") }}', "0 targets contain")]:
        with pytest.raises(FigureError, match=re.escape(says)) as info:
            render(f"text {bad} text", figures, where="page.md")
        assert str(info.value).startswith(f"page.md: {bad}")


def test_the_committed_data_is_what_compare_writes() -> None:
    data = json.loads(DATA.read_text())
    assert {"machine", "tables", "targets"} <= set(data)

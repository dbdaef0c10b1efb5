"""Code the site includes fits its tabs: no included line is wider than the site shows, and
each excerpt a tab shows is the few lines that are the pattern.

The site's stylesheet (docs/stylesheets/extra.css) sizes code so that CODE_WIDTH columns fit
a tab at a 1280-pixel window, with tabs shown 4 wide; .ci/check_site.py checks it in Chromium.
A tab shows an excerpt of the real file (concurrency_patterns/tools/excerpts.py), at most
MAX_LINES lines, with a link to the whole file.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from concurrency_patterns.tools.excerpts import (
    DIRECTIVE,
    MAX_LINES,
    ExcerptError,
    excerpt,
    expand,
)
from tests.tools.test_figures import COMPARATIVE

ROOT = Path(__file__).resolve().parents[2]
CODE_WIDTH = 100
INCLUDE = re.compile(r'^\s*--8<-- "([^"]+)"', re.M)


PAGES = sorted([*ROOT.glob("docs/*.md"), *ROOT.glob("docs/patterns/*.md")])


def excerpts() -> list[tuple[str, str, str]]:
    """(page, path, what) of every excerpt a page shows."""
    found = []
    for page in PAGES:
        for match in DIRECTIVE.finditer(page.read_text()):
            arguments = re.findall(r'"([^"]*)"', match.group(2))
            found.append((page.name, arguments[0], arguments[1] if len(arguments) > 1 else ""))
    return found


def includes() -> list[str]:
    found: set[str] = set()
    for page in PAGES:
        # Not the generated tables, nor a whole Markdown page included as prose (the changelog).
        found |= {i for i in INCLUDE.findall(page.read_text())
                  if not i.startswith("docs/generated/") and not i.endswith(".md")}
    return sorted(found)


def included_lines(include: str) -> list[str]:
    path, _, section = include.partition(":")
    lines = (ROOT / path).read_text().splitlines()
    if not section:
        return lines
    start = next(i for i, line in enumerate(lines) if f"--8<-- [start:{section}]" in line)
    end = next(i for i, line in enumerate(lines) if f"--8<-- [end:{section}]" in line)
    lines = lines[start + 1:end]
    if path.endswith(".md"):  # a section of prose: only its code blocks are code
        fenced, inside = [], False
        for line in lines:
            if line.lstrip().startswith("```"):
                inside = not inside
            elif inside:
                fenced.append(line)
        return fenced
    return lines


@pytest.mark.parametrize("include", includes())
def test_included_code_fits_the_tabs(include: str) -> None:
    wide = [(n, len(line.expandtabs(4))) for n, line in enumerate(included_lines(include), 1)
            if len(line.expandtabs(4)) > CODE_WIDTH]
    assert not wide, f"{include}: lines wider than {CODE_WIDTH} columns (line, width): {wide}"


@pytest.mark.parametrize(("page", "path", "what"), excerpts())
def test_each_excerpt_is_the_pattern_and_fits(page: str, path: str, what: str) -> None:
    lines = excerpt(path, what)
    assert 3 <= len(lines) <= MAX_LINES, f"{page}: {path} {what!r}: {len(lines)} lines"
    wide = [n for n, line in enumerate(lines, 1) if len(line.expandtabs(4)) > CODE_WIDTH]
    assert not wide, f"{page}: {path} {what!r}: lines wider than {CODE_WIDTH}: {wide}"
    assert not any('"""' in line for line in lines), f"{page}: {path} {what!r}: a docstring"
    # The page shows the code's comments too: no measured figure typed into them.
    comments = [line.split("#", 1)[1] if path.endswith(".py") else line.split("//", 1)[1]
                for line in lines if ("#" if path.endswith(".py") else "//") in line]
    typed = [c for c in comments if COMPARATIVE.search(c)]
    assert not typed, f"{page}: {path} {what!r}: a comparison typed into a comment: {typed}"


def test_every_pattern_page_shows_excerpts_only() -> None:
    """No tab includes a whole source file or a long section any more: every code tab of a
    pattern page is an excerpt (the benchmark's own two stay short sections)."""
    for page in ROOT.glob("docs/patterns/*.md"):
        text = page.read_text()
        assert DIRECTIVE.search(text), page.name
        for include in INCLUDE.findall(text):
            if include.startswith(("docs/generated/",)):
                continue
            assert len(included_lines(include)) <= MAX_LINES, f"{page.name}: {include}"


def test_no_section_marker_is_left_unused() -> None:
    """A ``--8<--`` section no page shows is clutter in the code: each one is used."""
    marker = re.compile(r"--8<-- \[start:([\w-]+)\]")
    used: set[tuple[str, str]] = set(excerpts_sections())
    for page in PAGES:
        for include in INCLUDE.findall(page.read_text()):
            path, _, section = include.partition(":")
            used.add((path, section))
    for path in [*ROOT.glob("concurrency_patterns/**/*.py"), *ROOT.glob("go_equivalents/**/*.go"),
                 *ROOT.glob("tests/**/*.py")]:
        relative = str(path.relative_to(ROOT))
        for name in marker.findall(path.read_text()):
            assert (relative, name) in used, f"{relative}: section {name!r} is shown nowhere"


def excerpts_sections() -> list[tuple[str, str]]:
    found = []
    for _, path, what in excerpts():
        names = re.findall(r"\[([\w-]+)\]", what) if path.endswith(".py") else what.split()
        found += [(path, name) for name in names]
    return found


def test_an_excerpt_leaves_out_docstrings_and_keeps_order() -> None:
    lines = excerpt("concurrency_patterns/once.py", "_AsyncOnce(_run do) AsyncioOnce(_new_event)")
    text = "\n".join(lines)
    assert lines[0] == "class _AsyncOnce(Generic[T]):"
    assert text.index("async def do") < text.index("async def _run")  # the file's order
    assert '"""' not in text and "class AsyncioOnce" in text
    assert "__init__" not in text  # only what was asked for


def test_an_overloaded_function_shows_its_implementation() -> None:
    lines = excerpt("concurrency_patterns/worker_pool.py", "map_asyncio")
    assert not any("@overload" in line for line in lines)
    assert any("results.results()" in line for line in lines)


def test_a_section_reads_from_column_0_and_a_go_file_by_sections() -> None:
    assert excerpt("concurrency_patterns/_core/queues.py", "[close]")[0].startswith("if sys")
    go = excerpt("go_equivalents/rate_limit/gcra.go", "inside wait")
    assert go[0].startswith("// Limiter") and "" in go and not any("--8<--" in x for x in go)


@pytest.mark.parametrize(("path", "what", "says"), [
    ("concurrency_patterns/once.py", "NoSuchClass", "no top-level 'NoSuchClass'"),
    ("concurrency_patterns/once.py", "ThreadOnce(nothing)", "no member nothing"),
    ("concurrency_patterns/once.py", "[nowhere]", "no section 'nowhere'"),
    ("go_equivalents/once/main.go", "nowhere", "no section 'nowhere'"),
    ("no/such/file.py", "x", "no file"),
])
def test_a_wrong_excerpt_fails_the_build_naming_it(path: str, what: str, says: str) -> None:
    with pytest.raises(ExcerptError, match=re.escape(says)):
        excerpt(path, what)
    with pytest.raises(ExcerptError, match=r"page\.md"):
        expand(f'    {{{{ excerpt("{path}", "{what}") }}}}', where="page.md")


def test_an_excerpt_becomes_a_block_with_a_link_to_the_whole_file() -> None:
    text = expand('=== "Go"\n\n    {{ excerpt("go_equivalents/once/main.go", "go") }}\n',
                  "https://github.com/o/r")
    assert "    ```go\n" in text
    assert ("    [go_equivalents/once/main.go](https://github.com/o/r/blob/main/"
            "go_equivalents/once/main.go): the whole file." in text)

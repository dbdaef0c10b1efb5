"""Code the site includes fits its tabs: no included line is wider than the site shows.

The site's stylesheet (docs/stylesheets/extra.css) sizes code so that CODE_WIDTH columns fit
a tab at a 1280-pixel window, with tabs shown 4 wide; .ci/check_site.py checks it in Chromium.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
CODE_WIDTH = 100
INCLUDE = re.compile(r'^\s*--8<-- "([^"]+)"', re.M)


def includes() -> list[str]:
    found: set[str] = set()
    for page in [*ROOT.glob("docs/*.md"), *ROOT.glob("docs/patterns/*.md")]:
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

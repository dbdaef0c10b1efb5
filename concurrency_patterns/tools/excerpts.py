"""The code a pattern page shows: the lines that are the pattern, cut from the real file.

A tab shows the 20 to 40 lines a reader learns from, never a copy: a page names a class or a
function of the real file, and the members to show, and this module, an mkdocs hook
(``hooks:`` in ``mkdocs.yml``), puts the code there when the site is built, with a link to
the whole file under it::

    === "asyncio"

        {{ excerpt("concurrency_patterns/once.py", "_AsyncOnce(__init__ do _run) AsyncioOnce") }}

becomes a fenced block holding ``class _AsyncOnce(Generic[T]):`` with its ``__init__``,
``do`` and ``_run`` methods, in the file's order, then the whole of ``AsyncioOnce``: without
docstrings (the reference pages show those), each piece with the comment lines just above
it. Code that is no class or function (a module-level ``if``, the heart of a long function)
is named by the snippet section around it, in brackets: ``"[close]"``. A file that is not
Python (a Go program) is cut by its snippet sections alone: ``excerpt(path, "go wait")``,
or ``excerpt(path)`` for the whole file.

A name the file lacks fails the build, naming the page. ``tests/tools/test_docs_code.py``
renders every excerpt of every page and holds each to ``MAX_LINES`` lines of at most 100
columns.
"""

from __future__ import annotations

import ast
import re
import textwrap
from pathlib import Path
from typing import Any

__all__ = ["DIRECTIVE", "MAX_LINES", "ExcerptError", "excerpt", "expand", "on_page_markdown"]

ROOT = Path(__file__).resolve().parents[2]
MAX_LINES = 40
# A line holding only the directive, indented as the block it belongs to (a tab's content).
DIRECTIVE = re.compile(r'^( *)\{\{\s*excerpt\((.*)\)\s*\}\}[ \t]*$', re.M)
# In a Python file: names of top-level classes and functions, each with the members to show.
# Or, for code that is no class or function (a module-level ``if``), a snippet section in
# brackets: ``[close]``.
PIECE = re.compile(r"\s*(\w+|\[[\w-]+\])(?:\(([^)]*)\))?\s*")
SECTION = re.compile(r"--8<-- \[(start|end):([\w-]+)\]")
LANGUAGES = {".py": "python", ".go": "go"}


class ExcerptError(Exception):
    """An excerpt the file cannot give."""


def _docstring_lines(tree: ast.AST) -> set[int]:
    """The line numbers (1-based) of every docstring inside *tree*."""
    lines: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, (ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef, ast.Module)):
            first = node.body[0] if node.body else None
            if (isinstance(first, ast.Expr) and isinstance(first.value, ast.Constant)
                    and isinstance(first.value.value, str)):
                lines.update(range(first.lineno, (first.end_lineno or first.lineno) + 1))
    return lines


def _start(node: ast.stmt, source: list[str]) -> int:
    """The first line of *node*: its first decorator, or the comment lines just above it."""
    decorators: list[ast.expr] = getattr(node, "decorator_list", [])
    line = min([node.lineno] + [d.lineno for d in decorators])
    while line > 1 and source[line - 2].strip().startswith("#") \
            and not SECTION.search(source[line - 2]):
        line -= 1
    return line


def _names(node: ast.stmt) -> list[str]:
    if isinstance(node, (ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)):
        return [node.name]
    if isinstance(node, ast.Assign):
        return [t.id for t in node.targets if isinstance(t, ast.Name)]
    if isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name):
        return [node.target.id]
    return []


def _cut(source: list[str], first: int, last: int, skip: set[int]) -> list[str]:
    """Lines *first* to *last* (1-based, inclusive) without the *skip* lines, and without the
    blank line a left-out docstring leaves behind."""
    out: list[str] = []
    dropped = False
    for number in range(first, last + 1):
        if number in skip:
            dropped = True
            continue
        line = source[number - 1]
        if SECTION.search(line):  # a snippet section's marker is no part of the code
            continue
        if dropped and not line.strip():
            dropped = False
            continue
        dropped = False
        out.append(line)
    return out


def _python(path: Path, name: str, members: str) -> list[str]:
    source = path.read_text().splitlines()
    tree = ast.parse("\n".join(source))
    skip = _docstring_lines(tree)
    found = [n for n in tree.body if name in _names(n)]
    if not found:
        raise ExcerptError(f"{path.name} has no top-level {name!r}")
    node = found[-1]  # after its @overload stubs, the implementation
    wanted = members.split()
    if not wanted:
        return _cut(source, _start(node, source), node.end_lineno or node.lineno, skip)
    if not isinstance(node, ast.ClassDef):
        raise ExcerptError(f"{name!r} in {path.name} is not a class: it has no members")
    # The class's header: its decorators and the line(s) up to its body.
    header_end = node.body[0].lineno - 1
    out = _cut(source, _start(node, source), header_end, skip)
    while out and not out[-1].strip():
        out.pop()
    shown: set[str] = set()
    header = len(out)
    for member in node.body:
        names = [n for n in _names(member) if n in wanted]
        if not names:
            continue
        shown.update(names)
        # A blank line between methods, none between attributes that follow each other.
        if len(out) > header and isinstance(
                member, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            out.append("")
        out += _cut(source, _start(member, source), member.end_lineno or member.lineno, skip)
    if missing := [m for m in wanted if m not in shown]:
        raise ExcerptError(f"{name!r} in {path.name} has no member {', '.join(missing)}")
    return out


def _sections(path: Path, section: str, skip: frozenset[int] = frozenset()) -> list[str]:
    """The lines of snippet *section* of *path* (all of them for ""), but the *skip* lines."""
    source = path.read_text().splitlines()
    if not section:
        return source
    marker = SECTION
    start = next((i for i, line in enumerate(source)
                  if (m := marker.search(line)) and m.groups() == ("start", section)), None)
    if start is None:
        raise ExcerptError(f"{path.name} has no section {section!r}")
    out: list[str] = []
    for number, line in enumerate(source[start + 1:], start + 2):
        if number in skip:
            continue
        m = marker.search(line)
        if m and m.groups() == ("end", section):
            while out and not out[-1].strip():
                out.pop()
            while out and not out[0].strip():
                out.pop(0)
            return out
        if not m:
            out.append(line)
    raise ExcerptError(f"{path.name}: section {section!r} has no end")


def excerpt(path: str, what: str = "") -> list[str]:
    """The lines *path* gives for *what*, as the page shows them.

    In a Python file *what* names top-level classes and functions, each with the members
    to show in parentheses: ``"_AsyncOnce(__init__ do _run) AsyncioOnce(_new_event)"``. In any
    other file it names snippet sections, shown one after the other, or is empty for the
    whole file.
    """
    file = ROOT / path
    if not file.is_file():
        raise ExcerptError(f"no file {path}")
    if file.suffix == ".py":
        matches = list(PIECE.finditer(what))
        pieces = [m.groups() for m in matches]
        if not pieces or "".join(m.group(0) for m in matches) != what:
            raise ExcerptError(f"{path}: {what!r}: name the classes and functions to show, "
                               "each with its members in parentheses")
        lines: list[str] = []
        skip = frozenset(_docstring_lines(ast.parse(file.read_text())))
        for name, members in pieces:
            if lines:
                lines += ["", ""]
            if name.startswith("["):  # from inside a function, say: read from column 0
                section = "\n".join(_sections(file, name[1:-1], skip))
                lines += textwrap.dedent(section).splitlines()
            else:
                lines += _python(file, name, members or "")
    else:
        lines = []
        for section in what.split() or [""]:  # from inside a function: read from column 0
            cut = textwrap.dedent("\n".join(_sections(file, section))).splitlines()
            lines += ([""] if lines else []) + cut
    while lines and not lines[-1].strip():
        lines.pop()
    return lines


def _arguments(text: str) -> list[str]:
    wrong = ExcerptError(f"excerpt({text}): give the path, then what to show, as strings")
    try:
        parsed = ast.parse(f"f({text})", mode="eval").body
        values = [ast.literal_eval(a) for a in parsed.args] if isinstance(parsed, ast.Call) \
            and not parsed.keywords else []
    except (SyntaxError, ValueError):
        raise wrong from None
    if not 1 <= len(values) <= 2 or not all(isinstance(v, str) for v in values):
        raise wrong
    return values


def expand(markdown: str, repo_url: str = "", where: str = "") -> str:
    """*markdown* with every excerpt directive replaced by its code block and a link to the
    whole file; ``ExcerptError`` naming *where* for one that cannot be cut."""

    def replace(match: re.Match[str]) -> str:
        indent, text = match.group(1), match.group(2)
        try:
            arguments = _arguments(text)
            lines = excerpt(*arguments)
        except ExcerptError as exc:
            raise ExcerptError(f"{where}: {exc}") from None
        path = arguments[0]
        block = [f"```{LANGUAGES.get(Path(path).suffix, 'text')}", *lines, "```", ""]
        link = f"[{path}]({repo_url.rstrip('/')}/blob/main/{path})" if repo_url else f"`{path}`"
        docstrings = ", docstrings and all" if path.endswith(".py") else ""
        block.append(f"{link}: the whole file{docstrings}.")
        return "\n".join(indent + line if line else "" for line in block)

    return DIRECTIVE.sub(replace, markdown)


def on_page_markdown(markdown: str, page: Any, config: Any, **_: Any) -> str:
    """The mkdocs hook: put each excerpt's code in the page."""
    if "excerpt(" not in markdown:
        return markdown
    return expand(markdown, config.get("repo_url") or "", where=page.file.src_path)

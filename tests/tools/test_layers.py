"""Three layers, arrows one way: the patterns on a private core, the namespaces on the
patterns, the tools on top.

Walks every module's imports with ``ast``: a pattern module imports only ``_core`` (and
outside libraries), never another pattern or the tools; ``_core`` imports only itself; the root
and the namespaces import only patterns and the core; and no tool's name is exported.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

import concurrency_patterns
from concurrency_patterns.tools.registry import NAMESPACES, SLUGS

PACKAGE = Path(concurrency_patterns.__file__).parent
TOOLS = PACKAGE / "tools"


def package_imports(path: Path) -> set[str]:
    """The modules of this package that *path* imports, as dotted names under the package."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom):
            if node.level:  # relative: resolve against the module's own package
                package = path.parent.relative_to(PACKAGE.parent).parts
                base = package[: len(package) - node.level + 1]
                module = ".".join([*base, *([node.module] if node.module else [])])
            else:
                module = node.module or ""
            if module == "concurrency_patterns":
                found |= {f"concurrency_patterns.{a.name}" for a in node.names}
            elif module.startswith("concurrency_patterns."):
                found.add(module)
        elif isinstance(node, ast.Import):
            found |= {a.name for a in node.names if a.name.startswith("concurrency_patterns.")}
    return found


def in_core(module: str) -> bool:
    return module.partition(".")[2].split(".")[0] == "_core"


@pytest.mark.parametrize("slug", SLUGS)
def test_a_pattern_imports_only_the_private_core(slug: str) -> None:
    imports = package_imports(PACKAGE / f"{slug}.py")
    assert all(in_core(m) for m in imports), imports


@pytest.mark.parametrize("module", sorted((PACKAGE / "_core").glob("*.py")), ids=lambda p: p.stem)
def test_the_core_imports_only_itself(module: Path) -> None:
    imports = package_imports(module)
    assert all(in_core(m) for m in imports), imports


@pytest.mark.parametrize("module", ["__init__", *NAMESPACES])
def test_the_root_and_the_namespaces_import_only_patterns_and_the_core(module: str) -> None:
    root = {*concurrency_patterns.__all__, "_SHARED", "_exports"}  # the root's, not a module
    allowed = {f"concurrency_patterns.{m}" for m in (*SLUGS, *root)}
    imports = package_imports(PACKAGE / f"{module}.py")
    assert all(m in allowed or in_core(m) for m in imports), imports


def test_no_tool_is_exported_from_the_package() -> None:
    tool_names = {p.stem for p in TOOLS.rglob("*.py")} | {"tools"}
    exported = set(concurrency_patterns.__all__)
    assert not exported & tool_names
    for name in exported:
        module = getattr(getattr(concurrency_patterns, name), "__module__", "")
        assert not module.startswith("concurrency_patterns.tools"), (name, module)


def test_a_bad_import_would_be_caught(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """The walk itself: a pattern that imported a tool or a sibling would not pass."""
    bad = tmp_path / "concurrency_patterns" / "mutex.py"
    bad.parent.mkdir()
    bad.write_text("from .tools.demos import runs\nfrom . import once\n"
                   "import concurrency_patterns.rwmutex\nfrom ._core import check_callable\n")
    monkeypatch.setitem(globals(), "PACKAGE", bad.parent)
    assert package_imports(bad) == {
        "concurrency_patterns.tools.demos", "concurrency_patterns.once",
        "concurrency_patterns.rwmutex", "concurrency_patterns._core",
    }

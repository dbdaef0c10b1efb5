"""The registry is the one list of patterns, and every pattern has its five parts."""

from __future__ import annotations

import importlib
from pathlib import Path

import pytest

import concurrency_patterns
from concurrency_patterns.tools.registry import NAMESPACES, PARTS, PATTERNS, SLUGS, parts, pattern

ROOT = Path(__file__).resolve().parents[2]
PACKAGE = ROOT / "concurrency_patterns"


@pytest.mark.parametrize("slug", SLUGS)
@pytest.mark.parametrize("part", PARTS)
def test_every_pattern_has_its_five_parts(slug: str, part: str) -> None:
    path = ROOT / parts(slug)[part]
    assert path.is_file(), f"{slug} has no {part}: {path.relative_to(ROOT)} is missing"


def test_every_pattern_module_is_registered() -> None:
    modules = {p.stem for p in PACKAGE.glob("*.py") if not p.stem.startswith("_")}
    assert modules == set(SLUGS) | set(NAMESPACES)
    contract_suites = {p.stem.removeprefix("test_") for p in (ROOT / "tests").glob("test_*.py")}
    assert contract_suites == set(SLUGS)
    benchmarks = {p.stem.removeprefix("bench_") for p in (ROOT / "tests/benchmarks").glob("b*.py")}
    assert benchmarks == set(SLUGS) | {"imports"}  # and what importing a namespace costs


@pytest.mark.parametrize("entry", PATTERNS, ids=lambda p: p.slug)
def test_each_module_exports_what_the_registry_lists(entry: object) -> None:
    assert hasattr(entry, "slug") and hasattr(entry, "exports")
    module = importlib.import_module(f"concurrency_patterns.{entry.slug}")
    assert set(module.__all__) == entry.exports


def test_the_namespaces_export_every_variant_and_the_root_only_what_they_share() -> None:
    """Each variant is in a namespace under a bare name, and each shared type is in every one."""
    exported: dict[int, str] = {}
    for ns in NAMESPACES:
        module = importlib.import_module(f"concurrency_patterns.{ns}")
        exported |= {id(getattr(module, name)): name for name in module.__all__}
        assert set(concurrency_patterns.__all__) <= set(module.__all__), ns
    for p in PATTERNS:
        module = importlib.import_module(f"concurrency_patterns.{p.slug}")
        for name in p.variants + p.also:
            assert id(getattr(module, name)) in exported, f"{p.slug}.{name} is in no namespace"
        for name in p.teaching:
            assert id(getattr(module, name)) not in exported, f"{p.slug}.{name} is for teaching"
    variants = {name for p in PATTERNS for name in p.variants + p.teaching}
    assert not set(concurrency_patterns.__all__) & variants


def test_the_docs_navigation_follows_the_registry() -> None:
    yaml = pytest.importorskip("yaml")  # with the docs tools ([dev])

    class Loader(yaml.SafeLoader):
        pass

    # mkdocs.yml may hold !!python/name tags; the navigation needs none of them.
    Loader.add_multi_constructor("", lambda loader, suffix, node: None)
    nav = yaml.load((ROOT / "mkdocs.yml").read_text(), Loader=Loader)["nav"]
    section = next(item["Patterns"] for item in nav if "Patterns" in item)
    assert section == [{p.title: f"patterns/{p.slug}.md"} for p in PATTERNS]


def test_every_docs_page_is_titled_as_the_registry_says() -> None:
    for p in PATTERNS:
        first = (ROOT / parts(p.slug)["docs"]).read_text().splitlines()[0]
        assert first == f"# {p.title} — `{p.slug}`", first


def test_the_readme_table_lists_every_pattern() -> None:
    readme = (ROOT / "README.md").read_text()
    for slug in SLUGS:
        assert f"| `{slug}` |" in readme, slug


def test_the_home_page_table_lists_every_pattern_in_order() -> None:
    home = (ROOT / "docs/index.md").read_text()
    rows = [line for line in home.splitlines() if line.startswith("| [")]
    assert [row.split("]")[0].removeprefix("| [") for row in rows] == [p.title for p in PATTERNS]
    for row, p in zip(rows, PATTERNS, strict=True):
        assert f"(patterns/{p.slug}.md)" in row


@pytest.mark.parametrize("name", ["worker_pool", "worker-pool"])
def test_a_slug_may_be_written_with_dashes(name: str) -> None:
    assert pattern(name).slug == "worker_pool"


def test_an_unknown_slug_names_the_choices() -> None:
    with pytest.raises(KeyError, match="bounded_fetch"):
        pattern("spinlock")

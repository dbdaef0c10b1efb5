"""The public surface: one namespace per model, the same names in each, and nothing loaded early.

* Every namespace exports the same names, with the same parameters, except where
  CONTRIBUTING.md's table of differences says why a model differs. The table is read from the
  file, so the documented list and the code cannot drift apart.
* Importing a namespace loads no third-party package; using a name loads only its model.
* Every name has a docstring of its own, with its contract, not a pointer to another model's.
"""

from __future__ import annotations

import ast
import importlib
import inspect
import json
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

import concurrency_patterns
from concurrency_patterns.tools.registry import NAMESPACES

ROOT = Path(__file__).resolve().parents[2]
MODELS = ("asyncio", "anyio", "threads")  # processes holds only the work that runs in processes
THIRD_PARTY = ("anyio", "sniffio", "trio", "aiohttp", "httpcore", "httptools", "h11", "culsans",
               "aiologic", "yarl", "multidict", "idna", "certifi")


def namespace(name: str) -> Any:
    return importlib.import_module(f"concurrency_patterns.{name}")


def own(ns: str) -> set[str]:
    """A namespace's names, less the types every model shares."""
    return set(namespace(ns).__all__) - set(concurrency_patterns.__all__)


def signature(obj: Any) -> dict[str, tuple[str, str]]:
    """Each parameter's kind and default, less ``self``."""
    params = inspect.signature(obj).parameters.values()
    return {p.name: (p.kind.name, "" if p.default is p.empty else repr(p.default))
            for p in params if p.name != "self"}


# Arguments that make an instance, for the classes that need some.
ARGUMENTS: dict[str, dict[str, Any]] = {
    "RateLimiter": {"rate": 10.0}, "SyncPool": {"new": list, "max_size": 2}}


def members(name: str, obj: Any) -> dict[str, Any]:
    """What to compare of one exported name: its signature, or its class's public members and
    the public attributes of a new instance."""
    if not inspect.isclass(obj):
        return {"": signature(obj)}
    out: dict[str, Any] = {"": signature(obj)}
    for member, value in inspect.getmembers(obj):
        if not member.startswith("_"):
            out[member] = signature(value) if callable(value) else "attribute"
    if name in ARGUMENTS or all(p[1] for p in signature(obj).values()):
        instance = obj(**ARGUMENTS.get(name, {}))
        slots = [a for c in type(instance).__mro__ for a in getattr(c, "__slots__", ())]
        names = [*getattr(instance, "__dict__", {}), *slots]  # a class with slots has no vars()
        out |= {a: "attribute" for a in names if not a.startswith("_") and a not in out}
    return out


def differences() -> set[str]:
    """Every way the namespaces differ, one key each, as CONTRIBUTING.md's table writes it:
    ``name`` (a name some model lacks), ``Name.member``, ``name(param)`` (a parameter some
    model lacks), ``name(param=)`` (a default that differs)."""
    found: set[str] = set()
    names = set().union(*(own(m) for m in MODELS))
    for name in sorted(names):
        holders = [m for m in (*MODELS, "processes") if name in own(m)]
        if set(MODELS) - set(holders):
            found.add(f"`{name}`")
        views = {m: members(name, getattr(namespace(m), name)) for m in holders}
        for member in set().union(*views.values()):
            label = f"{name}.{member}" if member else name
            present = [v[member] for v in views.values() if member in v]
            if len(present) < len(views):
                found.add(f"`{label}`")
                continue
            if not all(isinstance(p, dict) for p in present):
                continue
            for param in set().union(*present):
                values = [p.get(param) for p in present]
                if None in values:
                    found.add(f"`{label}({param})`")
                elif len({v[1] for v in values}) > 1:
                    found.add(f"`{label}({param}=)`")
                elif len({v[0] for v in values}) > 1:
                    found.add(f"`{label}({param}:)`")
    return found


def documented() -> set[str]:
    text = (ROOT / "CONTRIBUTING.md").read_text()
    table = text.split("<!-- differences:start -->")[1].split("<!-- differences:end -->")[0]
    rows = [line for line in table.splitlines() if line.startswith("| `")]
    return {key.strip() for row in rows for key in row.split("|")[1].split(",")}


def test_every_namespace_exports_the_shared_types() -> None:
    for ns in NAMESPACES:
        for name in concurrency_patterns.__all__:
            assert getattr(namespace(ns), name) is getattr(concurrency_patterns, name), (ns, name)


def test_the_models_differ_only_where_contributing_says_why() -> None:
    found, listed = differences(), documented()
    assert not found - listed, f"undocumented differences: {sorted(found - listed)}"
    assert not listed - found, f"documented but gone: {sorted(listed - found)}"


def test_all_is_what_the_namespace_serves() -> None:
    for ns in ["__init__", *NAMESPACES]:
        module = concurrency_patterns if ns == "__init__" else namespace(ns)
        assert sorted(module.__all__) == sorted(set(module.__all__)), ns
        for name in module.__all__:
            assert getattr(module, name) is not None
        assert set(module.__all__) <= set(dir(module))
        with pytest.raises(AttributeError, match="no attribute 'Nothing'"):
            module.Nothing  # noqa: B018


def test_the_static_imports_match_what_is_served() -> None:
    """The ``if TYPE_CHECKING:`` imports (what mypy and editors see) name the same objects as
    the table the namespace serves at run time."""
    for ns in ["__init__", *NAMESPACES]:
        tree = ast.parse((ROOT / "concurrency_patterns" / f"{ns}.py").read_text())
        block = next(node for node in tree.body if isinstance(node, ast.If)
                     and isinstance(node.test, ast.Name) and node.test.id == "TYPE_CHECKING")
        static = {alias.asname or alias.name: f"{node.module or '__init__'}:{alias.name}"
                  for node in block.body if isinstance(node, ast.ImportFrom)
                  for alias in node.names}
        module = concurrency_patterns if ns == "__init__" else namespace(ns)
        assert set(static) == set(module.__all__), ns
        for name, where in static.items():
            source_module, _, attr = where.partition(":")
            target = (concurrency_patterns if source_module == "__init__"
                      else importlib.import_module(f"concurrency_patterns.{source_module}"))
            assert getattr(target, attr) is getattr(module, name), (ns, name)


def loaded_after(code: str) -> set[str]:
    """The top-level modules a fresh interpreter has loaded after running *code*."""
    probe = (f"import sys\nbefore = set(sys.modules)\n{code}\nafter = set(sys.modules)\n"
             "import json\nprint(json.dumps(sorted({m.split('.')[0] for m in after} - "
             "{m.split('.')[0] for m in before})))")
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True,
                         check=True, timeout=60).stdout
    return set(json.loads(out))


@pytest.mark.parametrize("ns", NAMESPACES)
def test_importing_a_namespace_loads_nothing_else(ns: str) -> None:
    """Nothing but the package and three small modules of the standard library."""
    loaded = loaded_after(f"import concurrency_patterns.{ns}")
    assert loaded <= {"concurrency_patterns", "__future__", "importlib", "warnings"}, loaded


# What using every name of a namespace may load, beyond the standard library.
MAY_LOAD = {
    "threads": set(),
    "processes": set(),
    "asyncio": {"asyncio"},
    "anyio": {"asyncio", "anyio", "sniffio"},
}


@pytest.mark.parametrize("ns", NAMESPACES)
def test_using_a_namespace_loads_its_model_only(ns: str) -> None:
    loaded = loaded_after(f"import concurrency_patterns.{ns} as n\n"
                          "for name in n.__all__: getattr(n, name)")
    assert not loaded & {*THIRD_PARTY, "asyncio", "multiprocessing"} - MAY_LOAD[ns], loaded


def test_a_missing_extra_names_it() -> None:
    """The fetch without ``[http]``: one error that says which extra to install."""
    code = ("import sys\nsys.modules['aiohttp'] = None\n"  # as if not installed
            "import asyncio\nfrom concurrency_patterns.asyncio import fetch, MissingExtra\n"
            "try:\n    asyncio.run(fetch(['http://127.0.0.1:9/']))\n"
            "except MissingExtra as e:\n    print(e)\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         timeout=60)
    assert out.returncode == 0, out.stderr
    assert "pip install 'concurrency-patterns[http]'" in out.stdout
    assert "aiohttp" in out.stdout


POINTER = re.compile(r"(same (arguments|contract)|(arguments|args)[^.]* as ``)", re.I)


def contract_problems(ns: str) -> list[str]:
    problems = []
    module = namespace(ns)
    for name in module.__all__:
        obj = getattr(module, name)
        if not callable(obj):
            continue
        doc = inspect.getdoc(obj) or ""
        if len(doc) < 80:
            problems.append(f"{name}: no docstring of its own")
        if POINTER.search(doc):
            problems.append(f"{name}: points elsewhere: {POINTER.search(doc).group(0)!r}")
        try:
            params = [p for p in signature(obj) if p not in ("args", "kwargs")]
        except ValueError:  # an exception class: its attributes are its contract
            params = []
        if params and "Args:" not in doc and "Attributes:" not in doc:
            problems.append(f"{name}: documents no Args")
        if inspect.isclass(obj):
            for member, value in inspect.getmembers(obj):
                if not member.startswith("_") and callable(value) and not inspect.getdoc(value):
                    problems.append(f"{name}.{member}: no docstring")
    return problems


@pytest.mark.parametrize("ns", NAMESPACES)
def test_every_name_states_its_own_contract(ns: str) -> None:
    """``help()`` on any name finds its contract, not a pointer to another model's."""
    assert contract_problems(ns) == []

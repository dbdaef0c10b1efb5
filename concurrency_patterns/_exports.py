"""Names a package module exports without importing them until they are first read (PEP 562).

``concurrency_patterns.threads`` exports fifty names from fifteen pattern modules. Importing
them all up front would make ``from concurrency_patterns.threads import Mutex`` pay for the
fetch, the pipeline and ``concurrent.futures`` too. Instead each name is looked up in a table
(``"Mutex": "mutex:ThreadMutex"``) the first time it is read, and then stored in the module, so
every later read is a plain attribute: the table costs one call per name, once.
"""

from __future__ import annotations

import importlib
import sys

TYPE_CHECKING = False  # not typing's: importing typing costs more than this module
if TYPE_CHECKING:
    from collections.abc import Callable, Mapping
    from typing import Any

__all__ = ["lazy_exports"]


def lazy_exports(
    module: str, table: Mapping[str, str],
) -> tuple[Callable[[str], Any], Callable[[], list[str]]]:
    """The ``__getattr__`` and ``__dir__`` of *module*, serving the names of *table*.

    Args:
        module: the exporting module's ``__name__``.
        table: each exported name and where it lives, as ``"slug:name"`` or
            ``"_core.errors:JobError"``, relative to the package.
    """
    package = module.split(".")[0]

    def __getattr__(name: str) -> Any:
        try:
            where, _, attr = table[name].partition(":")
        except KeyError:
            raise AttributeError(f"module {module!r} has no attribute {name!r}") from None
        value = getattr(importlib.import_module(f"{package}.{where}"), attr)
        setattr(sys.modules[module], name, value)
        return value

    def __dir__() -> list[str]:
        return sorted(set(vars(sys.modules[module])) | set(table))

    return __getattr__, __dir__

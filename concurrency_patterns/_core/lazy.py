"""Modules imported when first used, so that a namespace costs no more than its model.

A pattern module holds every model's variant, so a plain ``import anyio`` at its top would make
``concurrency_patterns.threads.Mutex`` load anyio, and ``asyncio.Mutex`` load trio's helpers.
Instead each pattern module binds the model's module to a stand-in::

    if TYPE_CHECKING:
        import anyio
    else:
        anyio = lazy(globals(), "anyio", "anyio.abc")

The first attribute read (``anyio.Lock``) imports the module, and its submodules, and puts the
real module in the pattern module's globals in place of the stand-in. Every later read is an
ordinary global lookup: the stand-in costs one call, once.

An optional library (the fetch's HTTP clients, culsans) names its extra: when it is missing, the
first use raises ``ImportError`` saying which extra to install, and nothing else.
"""

from __future__ import annotations

import importlib
from types import ModuleType
from typing import Any

__all__ = ["MissingExtra", "lazy"]


class MissingExtra(ImportError):
    """An optional library a pattern needs is not installed; the message names the extra.

    Attributes:
        extra: the extra that installs it, as in ``pip install 'concurrency-patterns[http]'``.
    """

    def __init__(self, message: str, *, extra: str, name: str | None = None) -> None:
        super().__init__(message, name=name)
        self.extra = extra


class _Lazy:
    __slots__ = ("_bind", "_extra", "_globals", "_module", "_names")

    def __init__(
        self, namespace: dict[str, Any], names: tuple[str, ...], extra: str | None,
        bind: str | None,
    ) -> None:
        self._globals = namespace
        self._names = names
        self._extra = extra
        # "anyio", "anyio.abc" stand for the package anyio, as "import anyio.abc" binds it;
        # with bind=, the first name is the module bound (one of our own, such as _core.http1).
        self._module = names[0] if bind else names[0].split(".")[0]
        self._bind = bind or self._module

    def load(self) -> ModuleType:
        try:
            for name in self._names:
                importlib.import_module(name)
        except ModuleNotFoundError as e:
            # Only an optional library missing names the extra; anything else is reported as is.
            if self._extra is None or (e.name or "").startswith("concurrency_patterns"):
                raise
            raise MissingExtra(
                f"{e.name} is not installed: it comes with the [{self._extra}] extra, "
                f"pip install 'concurrency-patterns[{self._extra}]'",
                extra=self._extra, name=e.name,
            ) from None
        module = importlib.import_module(self._module)
        self._globals[self._bind] = module
        return module

    def __getattr__(self, attr: str) -> Any:
        return getattr(self.load(), attr)

    def __repr__(self) -> str:
        return f"<module {self._module!r}, imported on first use>"


def lazy(
    namespace: dict[str, Any], *names: str, extra: str | None = None, bind: str | None = None,
) -> Any:
    """A stand-in for a module, bound in *namespace*, that imports it on first use.

    Args:
        namespace: the calling module's ``globals()``; the stand-in replaces itself there.
        names: the module and the submodules to import with it (``"anyio", "anyio.abc"``).
        extra: the extra that installs the library, named by the error when it is missing.
        bind: the global name to replace, for a module bound under another name than its
            package's (``bind="http1"`` for ``concurrency_patterns._core.http1``).
    """
    return _Lazy(namespace, names, extra, bind)


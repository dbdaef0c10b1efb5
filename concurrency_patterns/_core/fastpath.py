"""Small pieces for the patterns' fast paths.

* ``READY``, ``READY_TRUE`` — awaitables that are done at once, for an ``__aenter__`` or
  ``__aexit__`` written as a plain method that has nothing to wait for;
* ``gil_enabled()`` — whether this interpreter runs with the GIL, for the thread variants that
  may skip a lock while it is on.
"""

from __future__ import annotations

import sys
from collections.abc import Generator
from typing import Any, Generic, TypeVar, cast

__all__ = ["READY", "READY_TRUE", "Ready", "gil_enabled"]

T = TypeVar("T")


class Ready(Generic[T]):
    """An awaitable that is done at once with *value*: ``await`` on it runs no coroutine and
    makes no trip through the event loop. For None, the iterator it hands over is an empty
    tuple's."""

    __slots__ = ("value",)

    def __init__(self, value: T) -> None:
        self.value = value

    def __await__(self) -> Generator[Any, None, T]:
        if self.value is None:
            return cast("Generator[Any, None, T]", iter(()))
        return self._value()

    def _value(self) -> Generator[Any, None, T]:
        return self.value
        yield  # a generator, which returns at once


READY: Ready[None] = Ready(None)
READY_TRUE: Ready[bool] = Ready(True)


def gil_enabled() -> bool:
    """Whether the GIL is on: always before 3.13, and on a free-threaded build only when it
    was turned back on (it can be turned on while running, never off)."""
    return bool(getattr(sys, "_is_gil_enabled", lambda: True)())

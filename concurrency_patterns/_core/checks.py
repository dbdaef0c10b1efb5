"""Argument checks: bad input fails at once, with an error that names the parameter.

Every public function validates its arguments here before it starts anything, so no task,
thread or process is left behind by a bad call.
"""

from __future__ import annotations

__all__ = [
    "check_callable",
    "check_picklable",
    "check_positive_int",
    "check_positive_number",
]


def check_positive_int(name: str, value: object) -> int:
    """Return *value* if it is an int >= 1; otherwise raise an error naming *name*."""
    # bool is an int subclass: ``workers=True`` is a bug, not one worker.
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError(f"{name} must be an int, got {type(value).__name__}: {value!r}")
    if value < 1:
        raise ValueError(f"{name} must be >= 1, got {value}")
    return value


def check_positive_number(name: str, value: object, what: str = "a number of seconds") -> float:
    """Return *value* as a float if it is a real number > 0; otherwise raise naming *name*,
    and saying *what* it should be."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise TypeError(f"{name} must be {what}, got {type(value).__name__}")
    if not value > 0:  # also rejects NaN
        raise ValueError(f"{name} must be > 0, got {value}")
    return float(value)


def check_callable(name: str, value: object) -> None:
    """Raise ``TypeError`` naming *name* unless *value* is callable."""
    if not callable(value):
        raise TypeError(f"{name} must be callable, got {type(value).__name__}: {value!r}")


def check_picklable(name: str, fn: object) -> None:
    """Raise ``TypeError`` naming *name* unless *fn* can be sent to another process.

    A process pool pickles the function by reference (module + qualified name), so lambdas,
    nested functions and bound methods of unpicklable objects cannot cross. Checking here, before
    anything is submitted, turns a late ``PicklingError`` from a worker into an early, clear error.
    """
    check_callable(name, fn)
    import pickle  # here, not at the top: only the process variants need it

    try:
        pickle.dumps(fn)
    except Exception as exc:
        what = getattr(fn, "__qualname__", repr(fn))
        raise TypeError(
            f"{name} must be picklable to run in another process; {what!r} is not "
            f"(define it at module level, not as a lambda or nested function): {exc}"
        ) from exc

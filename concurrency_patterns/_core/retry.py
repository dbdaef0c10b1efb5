"""Retries, the same for every job: which failures, how long to wait, and a budget.

A policy answers three questions after a failed attempt:

* **Is it worth another try?** ``retry_on``: exception types, or a predicate. The fetch adds
  statuses (429, 502, 503 and 504 by default).
* **How long to wait?** Exponential backoff with *full jitter*: a random wait between 0 and
  ``BACKOFF_BASE * 2 ** (attempt - 1)``, at most ``BACKOFF_CAP``, so that many callers failing
  together do not come back together. A server's ``Retry-After`` overrides it; one that asks
  for longer than ``BACKOFF_CAP`` is not retried at all.
* **Is there budget left?** Retries may add at most ``share`` of the first attempts, plus a
  floor of ``BUDGET_FLOOR`` per call (Finagle's and Envoy's retry budgets, 20 % by default).
  When an upstream fails everything, a call of N jobs with ``retries=3`` sends
  ``N + 0.2 N + 10`` requests, not ``4 N``: retries help with the odd failure and stay out of
  the way of an outage.
"""

from __future__ import annotations

import random
import threading
import time
from collections.abc import Awaitable, Callable, Iterable
from typing import Any

__all__ = [
    "BACKOFF_BASE",
    "BACKOFF_CAP",
    "BUDGET_FLOOR",
    "Budget",
    "Exhausted",
    "Policy",
    "call_async",
    "call_sync",
    "check_retries",
    "describe",
    "job_policy",
    "wait_after",
    "policy",
]

BACKOFF_BASE = 0.1  # seconds: the first retry waits up to this, each next up to twice as long
BACKOFF_CAP = 10.0  # seconds: the longest wait between attempts, Retry-After included
BUDGET_FLOOR = 10  # retries a call may always make, whatever its share allows
DEFAULT_SHARE = 0.2


class Budget:
    """How many retries a call may still make: ``floor + share * first attempts``.

    Shared by every worker of one call; a lock keeps the count exact across threads (and
    costs nothing to speak of on one event loop).
    """

    __slots__ = ("_lock", "first", "floor", "retried", "share")

    def __init__(self, share: float, floor: int = BUDGET_FLOOR) -> None:
        self.share = share
        self.floor = floor
        self.first = 0
        self.retried = 0
        self._lock = threading.Lock()

    def first_attempt(self) -> None:
        with self._lock:
            self.first += 1

    def take(self) -> bool:
        """Spend one retry, if the budget allows it."""
        with self._lock:
            if self.retried >= self.floor + self.share * self.first:
                return False
            self.retried += 1
            return True

    def __repr__(self) -> str:
        return (f"<Budget {self.retried} retries of {self.floor} + {self.share:g} x "
                f"{self.first} first attempts>")


class Policy:
    """One call's retry policy; ``wants(outcome)`` says whether an outcome is retryable."""

    __slots__ = ("budget", "retries", "wants")

    def __init__(self, retries: int, wants: Callable[[Any], bool], budget: Budget | None) -> None:
        self.retries = retries
        self.wants = wants
        self.budget = budget

    def backoff(self, attempt: int) -> float:
        """Full jitter: anywhere from 0 to the exponential bound for *attempt* (1 = first)."""
        return random.uniform(0, min(BACKOFF_CAP, BACKOFF_BASE * 2 ** (attempt - 1)))


def check_retries(retries: object) -> int:
    if isinstance(retries, bool) or not isinstance(retries, int) or retries < 0:
        raise ValueError(f"retries must be an int >= 0, got {retries!r}")
    return retries


def check_budget(retry_budget: object) -> float | None:
    if retry_budget is None:
        return None
    if isinstance(retry_budget, bool) or not isinstance(retry_budget, int | float) \
            or not 0 <= retry_budget < float("inf"):
        raise ValueError(f"retry_budget must be a share >= 0 (0.2 is 20 %) or None, "
                         f"got {retry_budget!r}")
    return float(retry_budget)


def policy(
    retries: object, retry_on: object, retry_budget: object, *, default: Callable[[Any], bool],
    classify: Callable[[Iterable[object]], Callable[[Any], bool]],
) -> Policy | None:
    """The policy behind ``retries=``, ``retry_on=`` and ``retry_budget=`` (``None``: no
    retries). *default* decides when ``retry_on`` is ``None``; *classify* turns a collection
    given as ``retry_on`` into a decision (each caller knows what its items may be)."""
    count = check_retries(retries)
    share = check_budget(retry_budget)
    if retry_on is None:
        wants = default
    elif isinstance(retry_on, type) and issubclass(retry_on, BaseException):
        kind = retry_on
        wants = lambda outcome: isinstance(outcome, kind)  # noqa: E731
    elif isinstance(retry_on, Iterable) and not isinstance(retry_on, str | bytes):
        wants = classify(list(retry_on))
    elif callable(retry_on):
        wants = retry_on
    else:
        raise TypeError(f"retry_on must be exception types, a predicate or None, "
                        f"got {type(retry_on).__name__}")
    if count == 0:
        return None
    return Policy(count, wants, None if share is None else Budget(share))


def exception_types(items: Iterable[object]) -> Callable[[Any], bool]:
    """``retry_on`` as a collection of exception types."""
    kinds: list[type[BaseException]] = []
    for kind in items:
        if not (isinstance(kind, type) and issubclass(kind, BaseException)):
            raise TypeError(f"retry_on must hold exception types, got {kind!r}")
        kinds.append(kind)
    chosen = tuple(kinds)
    return lambda outcome: isinstance(outcome, chosen)


def wait_after(policy: Policy, exc: Exception, attempt: int) -> float | None:
    """The backoff before the next attempt after *exc*, or ``None`` when it is final: the
    last attempt, a failure not to retry, or no budget left."""
    if attempt > policy.retries or not policy.wants(exc):
        return None
    if policy.budget is not None and not policy.budget.take():
        return None
    return policy.backoff(attempt)


def describe(exc: BaseException) -> str:
    """Why an attempt failed, in a few words, for a result's list of retry reasons."""
    text = str(exc)
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


def job_policy(retries: object, retry_on: object, retry_budget: object) -> Policy | None:
    """The policy of a job's ``retries=``, ``retry_on=`` and ``retry_budget=`` (the worker
    pool's, a pipeline stage's): ``retry_on`` is exception types or a predicate given the
    exception, any ``Exception`` by default."""
    return policy(retries, retry_on, retry_budget, default=_any_exception,
                  classify=exception_types)


def _any_exception(exc: BaseException) -> bool:
    return isinstance(exc, Exception)


class Exhausted(Exception):  # unwrapped by its callers: users never see it
    """A job failed for the last time: ``cause`` is its last exception, after ``attempts``
    attempts; ``reasons`` says why each retry happened. Callers unwrap it."""

    def __init__(self, cause: Exception, attempts: int, reasons: tuple[str, ...]) -> None:
        super().__init__(cause)
        self.cause, self.attempts, self.reasons = cause, attempts, reasons


async def call_async(
    fn: Callable[[Any], Awaitable[Any]], arg: Any, policy: Policy,
    sleep: Callable[[float], Awaitable[Any]],
    before: Callable[[], Awaitable[Any]] | None = None,
) -> tuple[Any, int, tuple[str, ...]]:
    """``await fn(arg)`` until it succeeds or *policy* says stop, awaiting *before* ahead of
    every attempt (a rate limiter's slot) and *sleep* between them.

    Returns:
        What *fn* returned, how many attempts it took, and why each retry happened.

    Raises:
        Exhausted: the last failure, once no retry is left.
    """
    if policy.budget is not None:
        policy.budget.first_attempt()
    attempt, reasons = 1, tuple[str, ...]()
    while True:
        if before is not None:
            await before()
        try:
            return await fn(arg), attempt, reasons
        except Exception as exc:
            wait, attempt, reasons = _next_attempt(policy, exc, attempt, reasons)
            await sleep(wait)


def _next_attempt(policy: Policy, exc: Exception, attempt: int,
                  reasons: tuple[str, ...]) -> tuple[float, int, tuple[str, ...]]:
    """After *exc* ended try number *attempt*: the wait before the next, its number and the
    reasons so far; ``Exhausted`` if there is to be no next."""
    wait = wait_after(policy, exc, attempt)
    if wait is None:
        raise Exhausted(exc, attempt, reasons) from None
    return wait, attempt + 1, (*reasons, describe(exc))


def call_sync(
    fn: Callable[[Any], Any], arg: Any, policy: Policy,
    before: Callable[[], object] | None = None,
) -> tuple[Any, int, tuple[str, ...]]:
    """``call_async`` for a blocking *fn*: the waits block the calling thread."""
    if policy.budget is not None:
        policy.budget.first_attempt()
    attempt, reasons = 1, tuple[str, ...]()
    while True:
        if before is not None:
            before()
        try:
            return fn(arg), attempt, reasons
        except Exception as exc:
            wait, attempt, reasons = _next_attempt(policy, exc, attempt, reasons)
            time.sleep(wait)

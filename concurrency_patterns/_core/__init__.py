"""The private core every pattern stands on.

Patterns import this package and nothing else of the library: no pattern imports another
pattern, and none imports the tools.

* ``checks`` — argument checks that name the parameter;
* ``errors`` — ``JobError`` and the unwrapping of task-group errors;
* ``fastpath`` — awaitables that are done at once, and whether the GIL is on;
* ``http`` — the fetch's requests and answers, redirects, decoding and caps, for every client;
  ``http1`` — the lean HTTP/1.1 client; ``network`` — httpcore's network backends;
* ``keyed`` — at most ``n`` holders per key, with no state for a key nobody holds;
* ``rate`` — GCRA, one limiter or one per key;
* ``retry`` — retry policies, backoff with full jitter, and the retry budget;
* ``processes`` — ``new_process_pool``;
* ``workers`` — W workers over one lazily read feed, results through a bounded buffer: the
  engine under the worker pool and the bounded fetch.
"""

from __future__ import annotations

from .checks import check_callable, check_picklable, check_positive_int, check_positive_number
from .errors import JobError, unwrap_group
from .processes import new_process_pool

__all__ = [
    "JobError",
    "check_callable",
    "check_picklable",
    "check_positive_int",
    "check_positive_number",
    "new_process_pool",
    "unwrap_group",
]

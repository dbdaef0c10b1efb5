"""The tools: the command line, the demo, compare, the claims ledger, the loopback servers.

Not part of the library. The patterns never import anything from here; these modules sit on
the patterns, and ``tests/tools/test_layers.py`` keeps the arrows pointing one way.

* ``cli`` — ``concurrency-patterns`` (also ``python -m concurrency_patterns``).
* ``registry`` — the one list of patterns, which everything below derives from.
* ``demos`` — one demo per pattern, named by its slug; ``workloads`` and ``workloads.json``
  — the inputs shared with Go and the job functions.
* ``compare`` — the benchmark suites against Go; ``claims`` — the articles' claims, measured.
* ``loopback`` — a real HTTP server on 127.0.0.1 for the demo and the contract tests.
* ``repo`` — finds the repository, which ``compare`` and ``claims`` need.
"""

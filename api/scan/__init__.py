"""The nightly scan, one module per stage, following the data.

``options`` → ``plan`` (which files, which pipeline versions; durable ``units``) → ``worker``
(per-unit analysis, run by ``driver`` on an executor of ``executors``: local pool or Ray) →
``judge`` (rules) → ``record`` (store, with ``evidence``: stills and clips) → ``summary``;
``run`` strings them together. Executors depend on the stages, never the other way round.
"""

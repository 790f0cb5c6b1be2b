"""Watching a long-running ``record`` or ``replay``: the events their loops tell
(:mod:`.events`), Prometheus metrics (:mod:`.metrics`, the optional
``prometheus_client``), ``/healthz`` (:mod:`.health`) and the HTTP listener of
``--metrics ADDR`` (:mod:`.listener`), put together by :mod:`.serve`.

Nothing here is imported unless ``--metrics`` (or ``--snapshot``) is given, except
the event base classes, which import nothing heavy.
"""

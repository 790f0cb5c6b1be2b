"""Realistic entries for the benches: the sample recording's shape.

Ten kinds of event (stream, field names), the first ones most often, each of 3 to 8
JSON-like fields (ids, prices, sizes, users, flags, timestamps; about 90 bytes of names
and values, varied), so that files compress as real traffic does. Used by
``bench/format.py`` (sizes) and ``bench/record.py`` (recorder throughput).
"""

from __future__ import annotations

import random

#: The sample recording's event kinds (stream name, field names).
SHAPES: list[tuple[bytes, list[bytes]]] = [
    (b"price.update", [b"basketId", b"price", b"source", b"timestamp"]),
    (b"order.request", [b"orderId", b"user", b"basketId", b"size", b"collateral", b"isLong", b"leverage", b"timestamp"]),
    (b"order.accepted", [b"orderId", b"positionId", b"basketId", b"fillPrice", b"timestamp"]),
    (b"position.opened", [b"positionId", b"user", b"basketId", b"size", b"collateral", b"entryPrice", b"isLong", b"timestamp"]),
    (b"position.closed", [b"positionId", b"user", b"pnl", b"timestamp"]),
    (b"funding.rate", [b"basketId", b"rate", b"timestamp"]),
    (b"liquidation", [b"positionId", b"user", b"price", b"loss", b"timestamp"]),
    (b"order.cancelled", [b"orderId", b"user", b"reason", b"timestamp"]),
    (b"balance.update", [b"user", b"asset", b"free", b"locked", b"timestamp", b"reason"]),
    (b"heartbeat", [b"service", b"seq", b"timestamp"]),
]  # fmt: skip


def value(name: bytes, rng: random.Random, ms: int, n: int) -> bytes:
    """A JSON-like value for a field: ids, prices, sizes, flags, times."""
    if name == b"timestamp":
        return b"%d" % ms
    if name.endswith(b"Id") or name in (b"user", b"service"):
        return b"%s_%d" % (name[:-2].lower() if name.endswith(b"Id") else name, rng.randrange(5000))
    if name == b"isLong":
        return rng.choice((b"true", b"false"))
    if name in (b"source", b"reason", b"asset"):
        return rng.choice((b"oracle", b"user", b"risk", b"USDC", b"BTC", b"expired"))
    if name == b"seq":
        return b"%d" % n
    return b"%d.%02d" % (rng.randrange(100_000), rng.randrange(100))


def event(rng: random.Random, ms: int, n: int) -> tuple[bytes, list[bytes]]:
    """``(stream, [f1, v1, ...])`` of the ``n``-th event, at ``ms``."""
    stream, names = SHAPES[min(int(rng.expovariate(0.4)), len(SHAPES) - 1)]
    flat: list[bytes] = []
    for name in names:
        flat += [name, value(name, rng, ms, n)]
    return stream, flat

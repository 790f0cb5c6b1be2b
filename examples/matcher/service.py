"""The matcher: a small service on Redis Streams, the example of ``xtape test``.

A consumer group ``matcher`` reads orders from ``order.request`` and answers each on
``order.accepted`` or ``order.rejected``. Every answer carries a generated id
(``matchId``/``rejectId``) and a timestamp (``ts``); everything else follows from the
order, so a regression case can ignore those three fields and compare the rest.

    REDIS_URL=redis://127.0.0.1:6379/0 python service.py
"""

from __future__ import annotations

import os
import signal
import sys
import time
import uuid
from decimal import Decimal, InvalidOperation
from types import FrameType
from typing import Any

import redis

REQUESTS = "order.request"
GROUP = "matcher"
CONSUMER = "matcher-1"
SYMBOLS = frozenset({"BTC-USD", "ETH-USD", "SOL-USD"})
SIDES = frozenset({"buy", "sell"})
#: Orders above this quantity are rejected.
MAX_QTY = Decimal(1000)

stopping = False


def on_term(signum: int, frame: FrameType | None) -> None:
    global stopping
    stopping = True


def decide(order: dict[str, str]) -> tuple[str, dict[str, str]]:
    """The answer to one order: the stream and the fields (without id and timestamp)."""
    order_id = order.get("orderId", "")
    try:
        qty = Decimal(order.get("qty", ""))
        price = Decimal(order.get("price", ""))
    except InvalidOperation:
        return "order.rejected", {"orderId": order_id, "reason": "malformed", "detail": "qty and price must be numbers"}
    symbol = order.get("symbol", "")
    side = order.get("side", "")
    if symbol not in SYMBOLS:
        return "order.rejected", {"orderId": order_id, "reason": "unknown_symbol", "detail": f"no market {symbol}"}
    if side not in SIDES:
        return "order.rejected", {"orderId": order_id, "reason": "bad_side", "detail": f"side {side} is not buy or sell"}
    if qty <= 0 or price <= 0:
        return "order.rejected", {"orderId": order_id, "reason": "not_positive", "detail": "qty and price must be above 0"}
    if qty > MAX_QTY:
        return "order.rejected", {"orderId": order_id, "reason": "qty_limit", "detail": f"qty {qty} above the limit of {MAX_QTY}"}
    return "order.accepted", {
        "orderId": order_id,
        "symbol": symbol,
        "side": side,
        "qty": str(qty),
        "price": str(price),
        "notional": str(qty * price),
    }


def main() -> int:
    client = redis.Redis.from_url(os.environ.get("REDIS_URL", "redis://localhost:6379/0"), protocol=2)
    try:
        client.xgroup_create(REQUESTS, GROUP, id="0", mkstream=True)
    except redis.ResponseError as exc:
        if "BUSYGROUP" not in str(exc):
            raise
    signal.signal(signal.SIGTERM, on_term)
    print(f"matcher: reading {REQUESTS} as group {GROUP}", flush=True)
    while not stopping:
        reply: Any = client.xreadgroup(GROUP, CONSUMER, {REQUESTS: ">"}, count=100, block=200)
        for _stream, entries in reply or []:
            for entry_id, fields in entries:
                order = {k.decode(): v.decode() for k, v in fields.items()}
                stream, answer = decide(order)
                answer["matchId" if stream == "order.accepted" else "rejectId"] = uuid.uuid4().hex
                answer["ts"] = str(time.time_ns() // 1_000_000)
                pipe = client.pipeline(transaction=False)
                pipe.xadd(stream, answer)  # type: ignore[arg-type]
                pipe.xack(REQUESTS, GROUP, entry_id)
                pipe.execute()
    print("matcher: stopped", flush=True)
    client.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())

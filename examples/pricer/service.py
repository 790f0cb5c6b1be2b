"""The pricer: a FastStream service on Redis Streams, the example of ``xtape test`` on a
service built with a framework (docs/regression.md, "Consumer groups and readiness").

FastStream's defaults throughout: a consumer group ``pricer`` on ``price.request`` created
at ``$`` when the app starts (so whatever is published before is never read), a handler
that acknowledges what it handled, a publisher on ``price.quote`` whose messages carry a
random ``correlation_id``. Each quote is the order's total with VAT, rounded.

    REDIS_URL=redis://127.0.0.1:6379/0 python service.py
"""

from __future__ import annotations

import asyncio
import os
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from faststream import FastStream
from faststream.redis import RedisBroker, StreamSub
from pydantic import BaseModel

VAT = Decimal("0.2")
#: Totals are rounded to this many decimals.
DECIMALS = 2
#: Orders of these SKUs take longer (a slow path of the service).
SLOW_SKUS: frozenset[str] = frozenset()
SLOW_S = 0.3
#: Orders of these SKUs make the handler raise.
FAILING_SKUS: frozenset[str] = frozenset()


class Order(BaseModel):
    orderId: str
    sku: str
    qty: int
    unit_price: Decimal


broker = RedisBroker(os.environ.get("REDIS_URL", "redis://localhost:6379/0"))
app = FastStream(broker)


@broker.subscriber(stream=StreamSub("price.request", group="pricer", consumer="pricer-1"))
@broker.publisher(stream="price.quote")
async def price(order: Order) -> dict[str, Any]:
    if order.sku in FAILING_SKUS:
        raise ValueError(f"no price list for {order.sku}")
    if order.sku in SLOW_SKUS:
        await asyncio.sleep(SLOW_S)
    net = order.unit_price * order.qty
    total = (net * (1 + VAT)).quantize(Decimal(1).scaleb(-DECIMALS), rounding=ROUND_HALF_UP)
    return {"orderId": order.orderId, "sku": order.sku, "qty": order.qty, "total": str(total)}


if __name__ == "__main__":
    asyncio.run(app.run())

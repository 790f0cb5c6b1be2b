"""A taskiq worker for the regression tests: taskiq-redis's stream broker with its
defaults (a consumer group ``taskiq`` created at ``$`` on start), one task that prices an
order and publishes the quote on the stream ``quotes``.

    REDIS_URL=... python -m taskiq worker taskiq_pricer:broker --workers 1
"""

from __future__ import annotations

import os
from decimal import ROUND_HALF_UP, Decimal

import redis.asyncio as aioredis
from taskiq_redis import RedisStreamBroker

URL = os.environ.get("REDIS_URL", "redis://localhost:6379/0")
broker = RedisStreamBroker(URL, queue_name="tasks", xread_block=100)
DECIMALS = 2


@broker.task(task_name="price")
async def price(order_id: str, qty: int, unit_price: str) -> None:
    total = (Decimal(unit_price) * qty * Decimal("1.2")).quantize(Decimal(1).scaleb(-DECIMALS), ROUND_HALF_UP)
    client = aioredis.from_url(URL)
    try:
        await client.xadd("quotes", {"orderId": order_id, "total": str(total)})
    finally:
        await client.aclose()

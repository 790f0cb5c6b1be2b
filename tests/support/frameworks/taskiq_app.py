"""A taskiq producer on taskiq-redis's stream broker (defaults), run as a process by tests.

    python taskiq_app.py URL QUEUE COUNT     kick COUNT tasks ``add(i, 2, scale=...)``, exit
"""

from __future__ import annotations

import asyncio
import sys

from taskiq_redis import RedisStreamBroker


async def main(url: str, queue: str, count: int) -> None:
    broker = RedisStreamBroker(url, queue_name=queue)

    @broker.task(task_name="shop:add")
    async def add(a: int, b: int, scale: float = 1.0) -> float:
        return (a + b) * scale

    await broker.startup()
    for i in range(count):
        await add.kiq(i, 2, scale=1.5)
    await broker.shutdown()


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1], sys.argv[2], int(sys.argv[3])))

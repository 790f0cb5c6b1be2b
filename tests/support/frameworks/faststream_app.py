"""A FastStream service with FastStream's defaults, run as a process by the codec tests.

    python faststream_app.py publish URL STREAM COUNT [I] publish COUNT orders (order I's
                                                          total one more), then exit
    python faststream_app.py consume URL STREAM OUT       subscribe (group "svc", at "$");
                                                          append each body, headers as a
                                                          JSON line to OUT; run until killed
"""

from __future__ import annotations

import asyncio
import json
import sys
from typing import Any

from faststream import FastStream
from faststream.redis import RedisBroker, RedisStreamMessage, StreamSub


def order(i: int) -> dict[str, Any]:
    return {
        "order_id": f"o-{i}",
        "total": 10 * i + 5,
        "lines": [{"sku": f"s{j}", "line_total": j + i} for j in range(4)],
        "note": "café",
    }


async def publish(url: str, stream: str, count: int, bump: int) -> None:
    async with RedisBroker(url) as broker:
        for i in range(count):
            body = order(i)
            if i == bump:
                body["total"] += 1
            await broker.publish(body, stream=stream)


def consume(url: str, stream: str, out: str) -> None:
    broker = RedisBroker(url)

    @broker.subscriber(stream=StreamSub(stream, group="svc", consumer="c1"))
    async def handle(body: dict[str, Any], msg: RedisStreamMessage) -> None:
        with open(out, "a", encoding="utf-8") as f:
            f.write(json.dumps({"body": body, "correlation_id": msg.correlation_id}) + "\n")

    asyncio.run(FastStream(broker).run())


if __name__ == "__main__":
    mode, url, stream, arg = sys.argv[1:5]
    if mode == "publish":
        asyncio.run(publish(url, stream, int(arg), int(sys.argv[5]) if len(sys.argv) > 5 else -1))
    else:
        consume(url, stream, arg)

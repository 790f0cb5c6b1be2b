"""Reading streams back exactly as the server holds them."""

from __future__ import annotations

import redis


def xrange_raw(client: redis.Redis, stream: bytes | str) -> list[tuple[bytes, list[bytes]]]:
    """XRANGE - + as the server sent it: duplicate field names survive (no dicts)."""
    reply = client.execute_command("XRANGE", stream, "-", "+")
    return [(entry[0], list(entry[1])) for entry in reply]

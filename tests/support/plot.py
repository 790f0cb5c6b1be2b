"""Support for the plot tests: the sample recording's streams, and a recording with a
marker of every kind and a gap."""

from __future__ import annotations

import re
from pathlib import Path

from xtape.recording import RecordingWriter
from xtape.timeline import NS_PER_MS

SAMPLE_STREAMS = [
    "prod:price.update",
    "prod:order.request",
    "prod:order.accepted",
    "prod:position.opened",
    "prod:liquidation.signal",
    "prod:position.liquidated",
    "prod:service.heartbeat",
    "prod:price.mark",
    "prod:order.response",
    "prod:position.closed",
]

T0 = 1_764_000_000_000  # ms

MARKERS = {
    60: ("reconnect", "reconnected after 2.0s: Connection reset by peer"),
    130: ("restart", "server restarted (run_id aaa -> bbb)"),
    180: ("flush", "the server's data was flushed (FLUSHALL/FLUSHDB)"),
    240: ("recreated", "stream orders:eu was deleted and created again"),
    270: ("deleted", "stream audit was deleted"),
}


def write_eventful(path: Path) -> Path:
    """Five minutes of four streams at steady rates (orders:eu triples for 20 s;
    orders:us is missing 100-130 s: a gap of 240 entries), with one marker of each of
    the recorder's kinds."""
    with RecordingWriter(path) as w:
        for sec in range(300):
            for stream, rate in (
                (b"orders:eu", 20),
                (b"orders:us", 8),
                (b"prices.$btc", 50),
                (b"audit", 1),
            ):
                if stream == b"orders:us" and 100 <= sec < 130:
                    continue
                if stream == b"audit" and sec % 10:
                    continue
                n = rate * (3 if stream == b"orders:eu" and 200 <= sec < 220 else 1)
                entries = [
                    [f"{T0 + sec * 1000 + j * (1000 // n)}-0".encode(), [b"k", b"v"]]
                    for j in range(n)
                ]
                w.write_entries(stream, entries, (T0 + sec * 1000 + 999) * NS_PER_MS)
            if sec in MARKERS:
                kind, text = MARKERS[sec]
                w.write_marker(kind, text, (T0 + sec * 1000 + 500) * NS_PER_MS)
            if sec == 130:
                w.write_gap(
                    b"orders:us",
                    f"{T0 + 99_875}-0".encode(),
                    f"{T0 + 130_000}-0".encode(),
                    240,
                    (T0 + 130_500) * NS_PER_MS,
                )
            w.flush()  # a chunk a second, as the recorder's flush interval makes them
    return path


def no_outside_references(page: str) -> None:
    """Nothing in the page that a browser would fetch: no URL at all, no script, no
    stylesheet link; SVG references are to ids in the page."""
    assert "://" not in page
    assert "<script" not in page.lower()
    assert "<link" not in page.lower()
    assert "@import" not in page
    for ref in re.findall(r'(?:href|src)\s*=\s*"([^"]*)"', page):
        assert ref.startswith("#"), ref
    for ref in re.findall(r"url\(([^)]*)\)", page):
        assert ref.startswith("#"), ref

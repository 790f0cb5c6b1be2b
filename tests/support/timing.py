"""Irregular traffic for the timing tests: bursts, lone entries, a steady run and idle
gaps, about 1.5 s in all. The schedule logic is checked on the fake clock
(tests/replay/test_replay_timing_modes.py), one real replay per timing mode with wide
bounds (tests/e2e/test_e2e_timing.py)."""

from __future__ import annotations

from pathlib import Path

from support.e2e import write_recording

T0 = 1_700_000_000_000

#: (offset ms, stream, entries at that ms): bursts of 50, lone entries, a steady run,
#: and idle gaps of 100-300 ms, about 1.5 s in all.
LAYOUT: list[tuple[int, bytes, int]] = [
    (0, b"t:a", 50),
    (120, b"t:b", 1),
    (130, b"t:a", 1),
    (400, b"t:a", 25),
    (400, b"t:b", 25),
    *[(410 + 10 * i, b"t:c", 1) for i in range(5)],
    (700, b"t:b", 50),
    (950, b"t:c", 1),
    (1200, b"t:a", 50),
    (1500, b"t:c", 1),
]
LAST_MS = max(ms for ms, _, _ in LAYOUT)
TOTAL = sum(n for _, _, n in LAYOUT)

#: The rate ramp the tests replay t:a (126 entries) with, and how it is described.
RAMP = "100:1000:1s"


def offsets_by_stream() -> dict[bytes, list[int]]:
    """Each stream's entries' offsets (ms), in order."""
    out: dict[bytes, list[int]] = {}
    for ms, stream, n in LAYOUT:
        out.setdefault(stream, []).extend([ms] * n)
    return out


def write_irregular(path: Path) -> Path:
    """The layout as a recording (ids at ``T0`` + offset; fields name stream and offset)."""
    return write_recording(
        path,
        [
            (stream, T0 + ms, seq, [b"stream", stream, b"ms", str(ms).encode(), b"seq", str(seq).encode()])
            for ms, stream, n in LAYOUT
            for seq in range(n)
        ],
    )


def ramp_due_ms(n: int) -> float:
    """When entry ``n`` is due on the ramp ``RAMP``: the rate rises from 100/s by 900/s
    per second, so where 100 t + 450 t^2 = n (the last of t:a, n = 125, at 0.4275 s,
    not at 1.2 s as originally spaced nor at 1.25 s at a steady 100/s)."""
    return 1000 * 2 * n / (100 + (100**2 + 4 * 450 * n) ** 0.5)

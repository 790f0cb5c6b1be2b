"""What a case found besides the diff, as lines a user reads: inputs the service did not
acknowledge or never read, outputs that never appeared, latency above its guard."""

from __future__ import annotations

from collections.abc import Sequence

from xtape.capture.groups import Leftovers
from xtape.report.diff_text import fields_line
from xtape.timeline import display_name
from xtape.units import plural

#: Leftover entries shown per group (all are counted).
SHOWN = 5

def escape_text(text: str) -> str:
    """Control characters of a name shown as escapes (a summary line stays one line)."""
    if text.isprintable():
        return text
    return "".join(ch if ch.isprintable() else ch.encode("unicode_escape").decode("ascii") for ch in text)


def leftover_headline(left: Leftovers, published: int | None) -> str:
    """``order.request (group pricer): the service did not acknowledge 8 of 80 inputs``."""
    total = f" of {published}" if published else ""
    parts = []
    if left.pending:
        parts.append(f"did not acknowledge {left.pending}{total} inputs")
    if left.undelivered:
        parts.append(f"never read {left.undelivered}{total} inputs")
    where = f"{display_name(left.stream)} (group {display_name(left.group)})"
    return f"{where}: the service " + " and ".join(parts)


def leftover_lines(left: Leftovers, published: int | None) -> list[str]:
    """The headline, then the first entries of each kind with their ids and fields."""
    lines = [leftover_headline(left, published)]
    for label, count, entries in (
        ("pending (delivered, never acknowledged)", left.pending, left.pending_entries),
        ("never delivered", left.undelivered, left.undelivered_entries),
    ):
        if not count:
            continue
        lines.append(f"  {label}:")
        for entry_id, flat in entries[:SHOWN]:
            lines.append(f"    {display_name(entry_id)}  {fields_line(flat, 4)}")
        if count > SHOWN:
            lines.append(f"    ... and {plural(count - SHOWN, 'more')}")
    return lines


def never_appeared(outputs: Sequence[str], seen: Sequence[bytes]) -> list[str]:
    """The output names (or globs) no captured stream matches."""
    import fnmatch

    names = [s.decode("utf-8", "surrogateescape") for s in seen]
    return [o for o in outputs if not any(fnmatch.fnmatchcase(n, o) for n in names)]


__all__ = ["escape_text", "leftover_headline", "leftover_lines", "never_appeared"]

"""What changed between two slot maps of a cluster, said the way a recording keeps it.

The recorder re-reads a cluster's slot map on a schedule and after a redirect or a fault
(:class:`~xtape.capture.cluster_reader.ClusterReader`); :func:`compare` turns two maps
into :class:`~xtape.capture.server_reader.TopologyChange` values: a ``failover`` for each
primary whose slots a replica of its own took over (the replica may lack the last
entries), and one ``topology`` change for the rest (primaries added, primaries that
serve no slot any more, slots moved), which lose nothing: the data moved with the slots.
"""

from __future__ import annotations

from collections.abc import Sequence

from xtape.capture.server_reader import TopologyChange
from xtape.topology import Topology

#: At most this many slot moves are named in one marker (the rest are counted).
_MOVES_SHOWN = 6
#: At most this many slot ranges are named per move.
_RANGES_SHOWN = 4


def compare(old: Topology, new: Topology, *, after_fault: bool = False) -> list[TopologyChange]:
    """The changes from ``old`` to ``new`` (none when every slot has the same primary).

    A primary gone whose slots went to a new primary is a failover when the new one was
    its replica in ``old``, or when the map was read after a fault (``after_fault``: the
    old primary stopped answering), where taking a planned move for a failover only
    costs a cautious marker, and the reverse would take a stream behind its cursor
    for a new one.
    """
    if _slot_owners(old) == _slot_owners(new):
        return []
    before = {n.address for n in old.primaries}
    after = {n.address for n in new.primaries}
    added, removed = after - before, before - after
    replicas: dict[str, set[str]] = {}
    for _, _, node, others in old.ranges:
        replicas.setdefault(node.address, set()).update(r.address for r in others)
    moves: dict[tuple[str, str], list[int]] = {}
    for slot, (was, now) in enumerate(zip(old.owners(), new.owners(), strict=True)):
        a, b = (was.address if was else ""), (now.address if now else "")
        if a != b:
            moves.setdefault((a, b), []).append(slot)
    changes: list[TopologyChange] = []
    explained: set[str] = set()
    for (a, b), slots in sorted(moves.items()):
        if a in removed and b in added and (b in replicas.get(a, ()) or after_fault):
            explained.update((a, b))
            changes.append(
                TopologyChange(
                    "failover",
                    f"primary {a} of the cluster failed over to {b} ({_slots(slots)}): entries "
                    "it had acknowledged but not replicated are lost (asynchronous "
                    "replication); recording goes on from the last recorded ids",
                    (b,),
                )
            )
            del moves[a, b]
    parts = [f"primary {a} added" for a in sorted(added - explained)]
    parts += [f"primary {a} removed (it serves no slot)" for a in sorted(removed - explained)]
    shown = sorted(moves.items(), key=lambda m: -len(m[1]))
    parts += [
        f"{_slots(slots)} moved {a or 'nowhere'} -> {b or 'nowhere (not served)'}"
        for (a, b), slots in shown[:_MOVES_SHOWN]
    ]
    if len(shown) > _MOVES_SHOWN:
        parts.append(f"and {len(shown) - _MOVES_SHOWN} more moves")
    if parts:
        changes.append(
            TopologyChange(
                "topology",
                "cluster topology changed: " + "; ".join(parts)
                + " (streams go on from their recorded ids)",
                tuple(sorted(added - explained)),
            )
        )
    return changes


def _slot_owners(topology: Topology) -> list[tuple[int, int, str]]:
    return [(a, b, node.address) for a, b, node, _ in topology.ranges]


def _slots(slots: Sequence[int]) -> str:
    """``slot 7``, ``slots 0-5460`` or ``slots 1-3, 9, ... (1,024 slots)``."""
    ranges: list[list[int]] = []
    for slot in slots:
        if ranges and ranges[-1][1] == slot - 1:
            ranges[-1][1] = slot
        else:
            ranges.append([slot, slot])
    text = ", ".join(str(a) if a == b else f"{a}-{b}" for a, b in ranges[:_RANGES_SHOWN])
    if len(ranges) > _RANGES_SHOWN:
        text += f", ... ({len(slots):,} slots)"
    return ("slot " if len(slots) == 1 else "slots ") + text

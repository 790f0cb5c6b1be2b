"""``xtape import FILE -o REC.xtape``: JSON lines (``xtape cat``) or MCAP (``xtape export``)
back into a recording, through the recording writer, in flat memory. See
:mod:`xtape.interop.jsonl_in` and :mod:`xtape.interop.mcap_in` for what each reads.
"""

from __future__ import annotations

import os
import secrets
import sys
from pathlib import Path

from xtape.errors import UsageError
from xtape.interop.jsonl_in import Batcher, ImportStats, jsonl_entries
from xtape.outputs import commit
from xtape.recording import RecordingWriter, has_recording_header
from xtape.timeline import STDIN_NAME

MCAP_MAGIC = b"\x89MCAP0\r\n"


def is_mcap(source: str | Path) -> bool:
    """Whether ``source`` (a file; ``-`` is never) starts with MCAP's magic."""
    if str(source) == "-":
        return False
    try:
        with open(source, "rb") as fh:
            return fh.read(len(MCAP_MAGIC)) == MCAP_MAGIC
    except OSError:
        return False


def import_file(source: str | Path, output: str | Path) -> ImportStats:
    """Write the entries of ``source`` (JSON lines, ``-`` standard input, or MCAP) into
    the recording ``output``, which replaces any file there only when it is complete."""
    if has_recording_header(source):
        raise UsageError(f"{source}: a recording already; import reads JSON lines (xtape cat) or MCAP (xtape export)")
    mcap = is_mcap(source)
    stats = ImportStats("mcap" if mcap else "jsonl")
    name = STDIN_NAME if str(source) == "-" else str(source)
    final = Path(output)
    part = final.with_name(f".{final.name}.{os.getpid()}.{secrets.token_hex(4)}.part")
    try:
        with RecordingWriter(part, source={"imported": name, "format": stats.format}) as writer:
            batches = Batcher(writer, stats)
            if mcap:
                from xtape.interop.mcap_in import read_mcap

                read_mcap(Path(source), batches, stats)
            else:
                _read_jsonl(source, name, batches)
            batches.flush()
        commit(part, final)
    finally:
        part.unlink(missing_ok=True)
    return stats


def _read_jsonl(source: str | Path, name: str, batches: Batcher) -> None:
    if str(source) == "-":
        if sys.stdin.isatty():
            raise UsageError("- reads JSON lines from standard input, which is a terminal here: pipe them in (xtape cat REC | xtape import - -o OUT.xtape)")
        entries = jsonl_entries(sys.stdin.buffer, name)
        for stream, entry_id, flat in entries:
            batches.add(stream, entry_id, flat)
        return
    try:
        fh = open(source, "rb")  # noqa: SIM115 (closed below; an OSError names the file)
    except OSError as exc:
        raise UsageError(f"{source}: cannot read: {exc.strerror or exc}") from None
    with fh:
        for stream, entry_id, flat in jsonl_entries(fh, name):
            batches.add(stream, entry_id, flat)


__all__ = ["MCAP_MAGIC", "ImportStats", "import_file", "is_mcap"]

"""Where a recording is written: a file created (mode 0600, never through a symlink) and
locked for as long as a recorder writes it, standard output, or a binary stream; and
whether a recorder is writing a file now (:func:`is_being_written`: it holds the lock).
"""

from __future__ import annotations

import fcntl
import os
import stat
import sys
from pathlib import Path
from typing import BinaryIO

from xtape.errors import RuntimeFailure, UsageError
from xtape.outputs import create as create_output
from xtape.outputs import create_new


def open_output(
    path: str | Path | BinaryIO, exclusive: bool = False
) -> tuple[int | BinaryIO, str, bool]:
    """``(fd or stream, name, owned)``: a file opened, created and locked for writing;
    or ``"-"`` (standard output) or a binary stream, written through its descriptor
    where it has one (so nothing lingers in a buffer after a failure). ``exclusive``:
    the file is created, mode 0600, or :class:`FileExistsError` is raised (whatever
    the name holds: a file, a symlink, even a dangling one)."""
    if isinstance(path, (str, Path)) and str(path) != "-":
        name = str(path)
        if exclusive:  # a split series' next file: a name taken by anyone is skipped
            fd = create_new(path)
        else:
            if is_being_written(path):
                raise RuntimeFailure(f"cannot write {name}: another recorder is writing it")
            fd = create_output(path)  # mode 0600, never through a symlink (xtape.outputs)
        try:
            if stat.S_ISREG(os.fstat(fd).st_mode):
                # Held until close: `xtape info` tells a recording still being written
                # from one whose recorder died, and a second recorder cannot clobber it.
                try:
                    fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                except BlockingIOError:
                    raise RuntimeFailure(
                        f"cannot write {name}: another recorder is writing it"
                    ) from None
                os.ftruncate(fd, 0)
        except BaseException:
            os.close(fd)
            raise
        return fd, name, True
    stream = sys.stdout.buffer if isinstance(path, (str, Path)) else path
    name = "standard output" if isinstance(path, (str, Path)) else str(getattr(path, "name", "<stream>"))
    if stream.isatty():
        raise UsageError(
            f"will not write a recording to a terminal ({name}); redirect it to a file or a pipe"
        )
    stream.flush()
    try:
        return stream.fileno(), name, False
    except (OSError, ValueError):  # io.UnsupportedOperation is both
        return stream, name, False


def is_being_written(path: str | Path) -> bool:
    """Whether a recorder is writing ``path`` now (it holds the file's lock)."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_CLOEXEC)
    except OSError:
        return False
    try:
        fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
    except BlockingIOError:
        return True
    except OSError:
        return False
    finally:
        os.close(fd)  # also drops a lock taken here
    return False

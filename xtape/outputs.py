"""Creating the files xtape writes: one policy for every command (docs/cli.md).

- :func:`check_output` runs before any work: a missing folder, a folder given as the
  file, a folder that cannot be written, an existing file without ``--force``, or one
  of the command's own inputs (``--force`` or not) is one line and exit 2.
- :func:`create` and :func:`replacing` make the file: created exclusively
  (``O_CREAT | O_EXCL | O_NOFOLLOW``), mode 0600 (recordings, scenarios, reports and
  catalogs hold production payloads), never through a symlink. A file that is already
  there is replaced by a new file renamed onto its name (a symlink there is replaced,
  not followed; a reader never sees half a file from :func:`replacing`).
- An output :func:`check_output` found free without ``--force`` stays so to the end:
  where another process made that file meanwhile (two commands writing one new output
  at once), the finished file is not renamed over it (:func:`commit`, a hard link that
  fails where the name is taken) and the command says so, exit 2. Of two copies of a
  command writing one new file, exactly one succeeds.

The library's writers use :func:`create` and :func:`replacing`; only the command line
asks for ``--force`` (the library writes where it is told, as ``open(path, "w")``).
"""

from __future__ import annotations

import errno
import glob
import os
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO

from xtape.errors import RuntimeFailure, UsageError

#: The mode of every file xtape creates (before the umask, which can only narrow it).
OUTPUT_MODE = 0o600

_CREATE = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC


def is_stdout(path: str | Path) -> bool:
    return str(path) == "-"


def check_output(
    path: str | Path,
    *,
    force: bool,
    inputs: Iterable[str | Path | None] = (),
    option: str = "-o",
    stdout_ok: bool = True,
) -> None:
    """Refuse an output path before any work is done (:class:`UsageError`, exit 2).

    ``inputs`` are the command's inputs (files, folders or globs; ``-`` and ``None`` are
    skipped): the output may not be one of them, nor a recording in an input folder (it
    would join that split recording), even with ``force``. ``-`` is standard output
    where ``stdout_ok``.
    """
    text = str(path)
    if text == "-":
        if not stdout_ok:
            raise UsageError(f"{option} - (standard output) is not possible here: give {option} FILE")
        return
    if not text:
        raise UsageError(f"{option}: give a file name")
    out = Path(text)
    if text.endswith(os.sep) or out.is_dir():
        raise UsageError(f"{option} {text}: is a folder; give a file name (e.g. {out / 'out'})")
    folder = out.parent
    if not folder.exists():
        raise UsageError(f"{option} {text}: no such folder {folder}")
    if not folder.is_dir():
        raise UsageError(f"{option} {text}: {folder} is not a folder")
    if not os.access(folder, os.W_OK | os.X_OK):
        raise UsageError(f"{option} {text}: cannot write into {folder} (permission denied)")
    _refuse_inputs(out, inputs, option)
    if os.path.lexists(out) and not force:
        raise UsageError(f"{out} exists; pass --force to overwrite it")
    if force:
        _NEW_ONLY.discard(os.path.abspath(out))
    else:
        _NEW_ONLY.add(os.path.abspath(out))


#: Outputs :func:`check_output` found free without ``--force`` (absolute paths).
_NEW_ONLY: set[str] = set()


def forget_checked() -> None:
    """Forget the outputs checked as new (a command has ended: the next, in the same
    process, checks its own)."""
    _NEW_ONLY.clear()


def _taken(target: Path) -> UsageError:
    return UsageError(f"{target} was created meanwhile by another process; not replaced (pass --force to overwrite it)")


def commit(tmp: Path, target: Path) -> None:
    """Rename the finished file ``tmp`` onto ``target``; where ``target`` was checked as
    new (no ``--force``), never over a file another process made there meanwhile
    (:class:`UsageError`)."""
    if os.path.abspath(target) not in _NEW_ONLY:
        os.replace(tmp, target)
        return
    try:
        os.link(tmp, target, follow_symlinks=False)
    except FileExistsError:
        raise _taken(target) from None
    except OSError:  # (a filesystem without hard links: the check, then the rename)
        if os.path.lexists(target):
            raise _taken(target) from None
        os.replace(tmp, target)
        return
    os.unlink(tmp)


def check_split_folder(path: str, option: str = "-o", inputs: Iterable[str | Path | None] = ()) -> None:
    """A split recording's folder: an existing folder, or ``DIR/`` (a trailing slash) to
    create in an existing one. ``-o notadir.xtape`` is refused rather than made a folder,
    and so is a folder that is, or holds, one of the command's ``inputs``."""
    folder = Path(path)
    hint = "numbered files go into a folder: an existing one, or DIR/ (with the slash) to create it"
    if path == "-":
        raise UsageError(f"{option} -: {hint}")
    if folder.exists():
        if not folder.is_dir():
            raise UsageError(f"{option} {path}: not a folder; {hint}")
    elif not path.endswith(os.sep):
        raise UsageError(f"{option} {path}: no such folder; {hint}")
    elif not folder.parent.is_dir():
        raise UsageError(f"{option} {path}: no such folder {folder.parent}")
    target = folder if folder.exists() else folder.parent
    if not os.access(target, os.W_OK | os.X_OK):
        raise UsageError(f"{option} {path}: cannot write into {target} (permission denied)")
    where = folder.resolve()
    for source in _expanded(inputs):
        if source.resolve() == where or source.resolve().parent == where:
            raise UsageError(
                f"{option} {path} holds {source}, an input of this command: its numbered files "
                "would join it; write them into another folder"
            )


def check_distinct(outputs: Iterable[tuple[str, str | Path | None]]) -> None:
    """Two outputs of one command may not be the same file (``--html X --save-actual X``)."""
    seen: dict[str, str] = {}
    for option, path in outputs:
        if path is None or is_stdout(path):
            continue
        key = os.path.abspath(path)
        if key in seen:
            raise UsageError(f"{seen[key]} and {option} name the same file {path}")
        seen[key] = option


def _expanded(inputs: Iterable[str | Path | None]) -> Iterator[Path]:
    for each in inputs:
        if each is None or is_stdout(each):
            continue
        text = str(each)
        if glob.has_magic(text) and not os.path.lexists(text):
            yield from (Path(p) for p in glob.glob(text))
        else:
            yield Path(text)


def _refuse_inputs(out: Path, inputs: Iterable[str | Path | None], option: str) -> None:
    folder = out.parent.resolve()
    for source in _expanded(inputs):
        if out.exists() and source.exists() and os.path.samefile(out, source):
            raise UsageError(
                f"{option} {out} is also an input of this command ({source}); "
                "write to another file (--force does not change this)"
            )
        if out.suffix == ".xtape" and source.is_dir() and source.resolve() == folder:
            raise UsageError(
                f"{option} {out}: a recording in the input folder {source} would join it; "
                "write it elsewhere"
            )


def _failed(path: str | Path, exc: OSError) -> RuntimeFailure:
    if exc.errno == errno.ELOOP:
        return RuntimeFailure(f"cannot write {path}: it is a symlink (xtape never writes through one)")
    return RuntimeFailure(f"cannot write {path}: {exc.strerror or exc}")


def _temp_beside(path: Path) -> tuple[int, Path]:
    """A new private file in ``path``'s folder (for a rename onto ``path``)."""
    for _ in range(100):
        tmp = path.with_name(f".{path.name}.{os.urandom(4).hex()}.part")
        try:
            return os.open(tmp, _CREATE, OUTPUT_MODE), tmp
        except FileExistsError:
            continue
        except OSError as exc:
            raise _failed(path, exc) from None
    raise RuntimeFailure(f"cannot write {path}: no free temporary name beside it")


def create_new(path: str | Path) -> int:
    """A file descriptor for writing ``path``, created exclusively (mode 0600), or
    :class:`FileExistsError` whatever the name holds (a file, a symlink, even a
    dangling one). The caller owns the descriptor."""
    try:
        return os.open(path, _CREATE, OUTPUT_MODE)
    except FileExistsError:
        raise
    except OSError as exc:
        raise _failed(path, exc) from None


def create(path: str | Path) -> int:
    """A file descriptor for writing ``path``, a new file (mode 0600) now under that
    name: created exclusively, or, where a file (or a symlink) is there, a new file
    renamed over it. The caller owns the descriptor."""
    target = Path(path)
    try:
        return create_new(target)
    except FileExistsError:
        if os.path.abspath(target) in _NEW_ONLY:
            raise _taken(target) from None
    if target.is_dir() and not target.is_symlink():
        raise RuntimeFailure(f"cannot write {path}: it is a folder")
    fd, tmp = _temp_beside(target)
    try:
        os.replace(tmp, target)
    except OSError as exc:
        os.close(fd)
        tmp.unlink(missing_ok=True)
        raise _failed(path, exc) from None
    return fd


@contextmanager
def replacing(path: str | Path) -> Iterator[IO[str]]:
    """A text file (UTF-8) to write whose content replaces ``path`` when the block ends
    without an error (removed on any error), so a reader never sees half of it."""
    with _replacing(Path(path)) as fd, os.fdopen(fd, "w", encoding="utf-8", newline="\n", closefd=False) as fh:
        yield fh


@contextmanager
def replacing_binary(path: str | Path) -> Iterator[IO[bytes]]:
    """As :func:`replacing`, for bytes."""
    with _replacing(Path(path)) as fd, os.fdopen(fd, "wb", closefd=False) as fh:
        yield fh


@contextmanager
def _replacing(target: Path) -> Iterator[int]:
    if target.is_dir() and not target.is_symlink():
        raise RuntimeFailure(f"cannot write {target}: it is a folder")
    fd, tmp = _temp_beside(target)
    try:
        try:
            yield fd
        finally:
            os.close(fd)
        commit(tmp, target)
    except OSError as exc:
        raise _failed(target, exc) from None
    finally:
        tmp.unlink(missing_ok=True)


def write_text(path: str | Path, text: str) -> None:
    """``path`` replaced by ``text`` (UTF-8) as every output is (see the module)."""
    with replacing(path) as fh:
        fh.write(text)


def write_bytes(path: str | Path, data: bytes) -> None:
    with replacing_binary(path) as fh:
        fh.write(data)


__all__ = [
    "OUTPUT_MODE",
    "check_distinct",
    "check_output",
    "check_split_folder",
    "commit",
    "create",
    "create_new",
    "forget_checked",
    "is_stdout",
    "replacing",
    "replacing_binary",
    "write_bytes",
    "write_text",
]

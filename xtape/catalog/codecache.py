"""Schema checks compiled once per user, not once per command.

``fastjsonschema`` turns a JSON Schema into Python source and compiles it: for the
draft-7 meta-schema and a catalog's few stream schemas that is most of what a catalog
costs a command (~0.03 s of ``xtape validate`` of a scenario). :func:`compile_cached`
keeps the compiled code (``marshal``, as Python's own bytecode cache does) in a folder
of the user's cache (``$XDG_CACHE_HOME/xtape`` or ``~/.cache/xtape``), keyed by a hash
of the schema's exact text, the options, the Python and the ``fastjsonschema`` versions.

Loading compiled code runs it, so a cache file is trusted only as a ``.pyc`` would be:
the folder must be the user's own and closed to others (0700, not a symlink), a file
the user's own, a plain file, closed to others (0600); anything else, and any error
(an unwritable home, a full disk, a damaged file), is a miss: the schema is compiled as
without a cache. Only schemas of plain JSON data (mappings, lists, text, numbers,
booleans, null) are cached, so the key (its ``repr``) is exact.
"""

from __future__ import annotations

import contextlib
import hashlib
import marshal
import os
import re
import stat
import sys
from collections.abc import Callable, Mapping
from functools import partial, update_wrapper
from pathlib import Path
from typing import Any

import fastjsonschema

#: The layout of a cache file; bump when it (or what is compiled) changes.
FORMAT = b"xtape-schema-code 1\n"
#: Files kept in the folder at most (the oldest are removed beyond).
MAX_FILES = 256
_PLAIN = (str, int, float, bool, type(None))
_ROOT = re.compile(r"^def (\w+)\(data, custom_formats=", re.M)


def compile_cached(
    definition: dict[str, Any],
    *,
    handlers: Mapping[str, Callable[[str], Any]],
    formats: Mapping[str, Callable[[Any], bool]],
    **options: Any,
) -> Callable[[Any], Any]:
    """``fastjsonschema.compile(definition, handlers=..., formats=..., **options)``,
    its code kept between runs (see the module doc). ``definition`` may be rewritten,
    as by ``fastjsonschema`` (pass a copy). ``handlers`` (the fetchers of remote
    ``$ref``s) are not part of the key: xtape's all refuse (a schema compiled has none)."""
    key = _key(definition, formats, options)
    folder = _folder() if key is not None else None
    try:
        code, root = _read(folder, key) if folder is not None and key is not None else (None, None)
        if code is None:
            source = fastjsonschema.compile_to_code(definition, handlers=dict(handlers), formats=dict(formats), **options)
            found = _ROOT.search(source)
            if found is None:  # (not the code this module knows: compiled as without a cache)
                return fastjsonschema.compile(definition, handlers=dict(handlers), formats=dict(formats), **options)
            root = found.group(1)
            code = compile(source, "<fastjsonschema>", "exec")
            if folder is not None and key is not None:
                _write(folder, key, root, code)
    finally:
        if folder is not None:
            os.close(folder)
    namespace: dict[str, Any] = {}
    exec(code, namespace)  # (code fastjsonschema generated, or the user's own copy of it)
    func = namespace[str(root)]
    if formats:
        return update_wrapper(partial(func, custom_formats=dict(formats)), func)
    return func  # type: ignore[no-any-return]


def _plain(value: Any) -> bool:
    """Whether ``value`` is plain JSON data (its ``repr`` then says exactly what it is)."""
    stack = [value]
    while stack:
        item = stack.pop()
        kind = type(item)
        if kind is dict:
            if not all(type(k) is str for k in item):
                return False
            stack.extend(item.values())
        elif kind is list:
            stack.extend(item)
        elif kind not in _PLAIN:
            return False
    return True


def _key(definition: dict[str, Any], formats: Mapping[str, Any], options: Mapping[str, Any]) -> str | None:
    if os.environ.get("XTAPE_NO_CACHE") or not _plain(definition):
        return None
    named = sorted((name, getattr(check, "__qualname__", "?")) for name, check in formats.items())
    text = repr((FORMAT, sys.version, sys.implementation.cache_tag, fastjsonschema.VERSION, named, sorted(options.items()), definition))
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()


def _folder() -> int | None:
    """A descriptor of the cache folder, if it is one to trust (else None: no cache)."""
    if not hasattr(os, "geteuid") or os.open not in os.supports_dir_fd or not hasattr(os, "O_NOFOLLOW"):
        return None
    base = os.environ.get("XDG_CACHE_HOME", "")
    home = Path(base) if os.path.isabs(base) else Path.home() / ".cache"
    path = home / "xtape"
    try:
        home.mkdir(mode=0o700, parents=True, exist_ok=True)
        path.mkdir(mode=0o700, exist_ok=True)
        fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW)
    except (OSError, RuntimeError):
        return None
    if not _own(os.fstat(fd), stat.S_ISDIR):
        os.close(fd)
        return None
    return fd


def _own(info: os.stat_result, kind: Callable[[int], bool]) -> bool:
    """Whether a file is of ``kind``, the user's own and closed to others."""
    return kind(info.st_mode) and info.st_uid == os.geteuid() and not info.st_mode & 0o077


def _read(folder: int, key: str) -> tuple[Any, str | None]:
    """The compiled code and root function name under ``key`` (None, None: a miss)."""
    try:
        fd = os.open(f"{key}.bin", os.O_RDONLY | os.O_NOFOLLOW, dir_fd=folder)
    except OSError:
        return None, None
    try:
        with os.fdopen(fd, "rb") as file:
            if not _own(os.fstat(file.fileno()), stat.S_ISREG):
                return None, None
            data = file.read()
        head, _, rest = data.partition(b"\n")
        named, _, body = rest.partition(b"\n")
        if head + b"\n" != FORMAT or not body.startswith(key.encode("ascii")):
            return None, None
        code = marshal.loads(body[len(key) :])
        return code, named.decode("ascii")
    except (OSError, EOFError, ValueError, TypeError, UnicodeDecodeError):
        return None, None


def _write(folder: int, key: str, root: str, code: Any) -> None:
    """Keep ``code`` under ``key`` (atomically; any failure: not kept)."""
    temp = f".{key}.{os.getpid()}.tmp"
    try:
        data = FORMAT + root.encode("ascii") + b"\n" + key.encode("ascii") + marshal.dumps(code)
        fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o600, dir_fd=folder)
        with os.fdopen(fd, "wb") as file:
            file.write(data)
        os.replace(temp, f"{key}.bin", src_dir_fd=folder, dst_dir_fd=folder)
        _prune(folder)
    except (OSError, ValueError):
        with contextlib.suppress(OSError):
            os.unlink(temp, dir_fd=folder)


def _prune(folder: int) -> None:
    """Remove the oldest files beyond :data:`MAX_FILES`."""
    names = [name for name in os.listdir(folder) if name.endswith(".bin")]
    if len(names) <= MAX_FILES:
        return
    dated = sorted(names, key=lambda name: os.stat(name, dir_fd=folder, follow_symlinks=False).st_mtime)
    for name in dated[: len(names) - MAX_FILES]:
        os.unlink(name, dir_fd=folder)


__all__ = ["FORMAT", "MAX_FILES", "compile_cached"]

"""Which streams to record: literal names and globs, found at the start, named by hints
while recording, and re-scanned now and then."""

from __future__ import annotations

import time
from collections.abc import Callable, Container, Sequence

from xtape.capture.cursors import StreamInfo
from xtape.capture.options import is_glob
from xtape.capture.redact import glob_regex
from xtape.capture.server_reader import StreamReader
from xtape.errors import UsageError
from xtape.notice import Notice
from xtape.timeline import display_name

#: At most this many keys known not to be streams are remembered.
_OTHERS_MAX = 100_000


class Discovery:
    """Finds the streams matching ``patterns`` that are not recorded yet."""

    def __init__(
        self,
        reader: StreamReader,
        patterns: Sequence[str],
        *,
        warn: Callable[[str], None],
        recheck_s: float,
        exclude: Sequence[str] = (),
    ) -> None:
        self.reader: StreamReader = reader
        self.warn = warn
        self.recheck_s = recheck_s
        self._globs = [p.encode("utf-8", "surrogateescape") for p in patterns if is_glob(p)]
        self._matchers = [glob_regex(p) for p in patterns if is_glob(p)]
        self._literals = [
            p.encode("utf-8", "surrogateescape") for p in patterns if not is_glob(p)
        ]
        #: ``--exclude`` globs: matching keys are never recorded.
        self._excluded = [glob_regex(p) for p in exclude]
        self._waiting: set[bytes] = set()
        #: Keys a hint named that match a pattern, to be looked at.
        self._named: set[bytes] = set()
        #: Keys that matched but held another type, and until when to skip them.
        self._others: dict[bytes, float] = {}

    def matches(self, key: bytes) -> bool:
        if self.excluded(key):
            return False
        return key in self._literals or any(m.fullmatch(key) for m in self._matchers)

    def excluded(self, key: bytes) -> bool:
        return any(m.fullmatch(key) for m in self._excluded)

    def note(self, key: bytes) -> None:
        """A hint named ``key`` (not recorded yet): look at it soon, if it matches."""
        if self.matches(key):
            self._named.add(key)

    @property
    def pending(self) -> bool:
        return bool(self._named)

    def scan(self, known: Container[bytes], *, initial: bool) -> list[tuple[bytes, StreamInfo]]:
        """Every matching stream not in ``known``: globs by SCAN, literal names by TYPE.
        At the start, a literal name holding another type is an error."""
        found: list[bytes] = []
        for pattern in self._globs:
            for key in self.reader.scan(pattern):
                if key not in known and key not in found and not self.excluded(key):
                    found.append(key)
        missing = [
            n for n in self._literals if n not in known and n not in found and not self.excluded(n)
        ]
        if missing:
            for name, kind in zip(missing, self.reader.types(missing), strict=True):
                if kind == b"stream":
                    found.append(name)
                elif kind == b"none":
                    if name not in self._waiting:
                        self._waiting.add(name)
                        self.warn(Notice("waiting", f"stream {_show(name)} does not exist yet; waiting for it", stream=name))
                elif initial:
                    raise UsageError(f"{_show(name)} is a {kind.decode()}, not a stream")
        return self._infos(found)

    def named(self, known: Container[bytes]) -> list[tuple[bytes, StreamInfo]]:
        """The streams among the keys hints named (a key found not to be a stream is not
        asked about again for ``recheck_s``)."""
        now = time.monotonic()
        keys = [k for k in self._named if k not in known and self._others.get(k, 0.0) <= now]
        self._named = set()
        if not keys:
            return []
        kinds = self.reader.types(keys)
        if len(self._others) > _OTHERS_MAX:
            self._others.clear()
        for key, kind in zip(keys, kinds, strict=True):
            if kind not in (b"stream", b"none"):
                self._others[key] = now + self.recheck_s
        return self._infos([k for k, kind in zip(keys, kinds, strict=True) if kind == b"stream"])

    def _infos(self, names: list[bytes]) -> list[tuple[bytes, StreamInfo]]:
        if not names:
            return []
        out = []
        for name, reply in zip(names, self.reader.infos(names), strict=True):
            if isinstance(reply, list):  # else deleted since: found again if it comes back
                out.append((name, StreamInfo.parse(reply)))
                self._waiting.discard(name)
        return out


def _show(name: bytes) -> str:
    return f"'{display_name(name)}'"

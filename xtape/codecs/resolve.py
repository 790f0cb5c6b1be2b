"""One resolver chooses the codec of each stream, and says what it chose.

Precedence, highest first: ``--codec GLOB=NAME`` on the command line, a case file's
``codecs: {GLOB: NAME}``, the stream catalog's ``codec:``, then detection on the
stream's first entry (FastStream's envelope by its magic, taskiq's task message, JSON by
its shape). ``raw`` (or ``none``) chosen explicitly turns decoding off for a stream.
"""

from __future__ import annotations

import fnmatch
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass

from xtape.codecs.base import Codec, CodecFailed, Fields, Message
from xtape.codecs.registry import codec_spec, detection_candidates, get_codec
from xtape.errors import UsageError
from xtape.timeline import display_name

#: Where a choice came from, in precedence order.
SOURCES = ("--codec", "case file", "catalog", "detected")
_OFF = frozenset({"raw", "none"})


@dataclass(frozen=True, slots=True)
class CodecChoice:
    """The codec of one stream (None: payloads are shown as fields) and why."""

    stream: bytes
    codec: Codec | None
    source: str

    def describe(self) -> str:
        """``codec for stream 'orders': faststream (detected)``."""
        name = codec_spec(self.codec) if self.codec is not None else "none"
        return f"codec for stream {display_name(self.stream)!r}: {name} ({self.source})"


def parse_codec_options(values: Iterable[str]) -> list[tuple[str, str]]:
    """``--codec GLOB=NAME`` values as ``(glob, name)`` pairs, each name checked."""
    out = []
    for text in values:
        glob, sep, name = text.partition("=")
        if not sep:
            glob, name = "*", text
        if not glob.strip() or not name.strip():
            raise UsageError(f"invalid --codec {text!r}: expected STREAM_GLOB=NAME (or NAME for every stream)")
        name = name.strip()
        if name not in _OFF:
            get_codec(name)
        out.append((glob.strip(), name))
    return out


class CodecResolver:
    """Chooses, remembers and reports the codec of each stream it is asked about."""

    def __init__(
        self,
        cli: Sequence[tuple[str, str]] = (),
        case: Mapping[str, str] | None = None,
        catalog: Callable[[bytes], str | None] | None = None,
        *,
        detect: bool = True,
        detect_json: bool = True,
        report: Callable[[str], None] | None = None,
    ) -> None:
        self._rules: list[tuple[str, str, str]] = [(g, n, "--codec") for g, n in cli]
        self._rules += [(g, n, "case file") for g, n in (case or {}).items()]
        self._catalog = catalog
        self._detect = detect
        self._detect_json = detect_json
        self._report = report
        self.choices: dict[bytes, CodecChoice] = {}

    def choice(self, stream: bytes, fields: Fields | None = None) -> CodecChoice:
        """The codec of ``stream``, chosen on first sight (``fields``: its first entry)."""
        found = self.choices.get(stream)
        if found is None:
            found = self.choices[stream] = self._choose(stream, fields)
            if self._report is not None and (found.codec is not None or found.source not in ("detected", "none")):
                self._report(found.describe())  # a stream left as fields by default goes unsaid
        return found

    def codec(self, stream: bytes, fields: Fields | None = None) -> Codec | None:
        return self.choice(stream, fields).codec

    def decode(self, stream: bytes, fields: Fields) -> tuple[Codec, Message] | None:
        """The stream's codec and the entry decoded by it; None when the stream has no
        codec or this entry is not in its format (it is then shown as fields)."""
        codec = self.codec(stream, fields)
        if codec is None:
            return None
        try:
            return codec, codec.decode(fields)
        except (CodecFailed, RecursionError):
            return None

    def _choose(self, stream: bytes, fields: Fields | None) -> CodecChoice:
        text = stream.decode("utf-8", "surrogateescape")
        for glob, name, source in self._rules:
            if fnmatch.fnmatchcase(text, glob):
                return CodecChoice(stream, None if name in _OFF else get_codec(name), source)
        if self._catalog is not None:
            named = self._catalog(stream)
            if named:
                return CodecChoice(stream, None if named in _OFF else get_codec(named), "catalog")
        if self._detect and fields is not None:
            codec = detect(fields, json=self._detect_json)
            if codec is not None:
                return CodecChoice(stream, codec, "detected")
        return CodecChoice(stream, None, "detected" if fields is not None else "none")


def detect(fields: Fields, *, json: bool = True) -> Codec | None:
    """The first codec that recognises ``fields`` and decodes them, if any (``json``
    False: envelopes only, not JSON by its shape)."""
    for codec in detection_candidates():
        if not json and codec.name == "json":
            continue
        try:
            if codec.detect(fields):
                codec.decode(fields)
                return codec
        except (CodecFailed, RecursionError):
            continue
    return None

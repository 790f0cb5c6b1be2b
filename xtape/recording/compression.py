"""Chunk compressions: one class each, found by name (``--compression``) or by the code
a chunk's head stores (``docs/format.md``).

A codec compresses a chunk's records whole and hands them back a step at a time, never
producing much more than the step asked for, so what a chunk declares is never
allocated at once; :func:`xtape.recording.chunks.raw_pieces` holds the total to the
length the chunk's head declares (the limits of ``docs/format.md``). Each codec imports
its package only when a chunk is compressed or decompressed; a codec whose package is
an optional extra that is missing says how to install it.

Adding a compression is a class below and a line in :data:`CODECS` (``docs/architecture.md``).
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Iterator
from types import ModuleType
from typing import Any, ClassVar

from xtape.errors import CodecUnavailable, UsageError
from xtape.recording.records import Malformed

#: The zstd level chosen by ``bench/format.py`` (size against recording speed).
DEFAULT_ZSTD_LEVEL = 1

#: Why a chunk whose records are not as long as its head says is damage.
RAW_LENGTH = "a chunk's length after decompression is not the one it declares"

Compress = Callable[[bytes | bytearray], bytes]


class Codec:
    """A chunk compression: its name, its code in a chunk's head, and where its package
    comes from (``extra``: the optional extra that installs it; None: always there)."""

    name: ClassVar[str]
    code: ClassVar[int]
    module: ClassVar[str | None] = None
    extra: ClassVar[str | None] = None

    def package(self, *, writing: bool = False) -> Any:
        """The codec's package, imported on first use; :class:`CodecUnavailable` (how
        to install it) when it is missing."""
        if self.module is None:
            return None
        try:
            package: ModuleType = importlib.import_module(self.module)
        except ImportError:
            raise CodecUnavailable(self.name, self.extra or self.name, writing=writing) from None
        return package

    def compressor(self, level: int) -> Compress:
        """A function compressing a chunk's records (``level``: the codec's own scale)."""
        raise NotImplementedError

    def pieces(self, data: bytes, raw_len: int, step: int) -> Iterator[bytes]:
        """``data`` decompressed, at most about ``step`` bytes at a time; refuses (with
        :class:`Malformed`) a frame that declares another length than ``raw_len``
        before decompressing any of it."""
        raise NotImplementedError


class Stored(Codec):
    """No compression: the records as they are."""

    name = "none"
    code = 0

    def compressor(self, level: int) -> Compress:
        return bytes

    def pieces(self, data: bytes, raw_len: int, step: int) -> Iterator[bytes]:
        if len(data) != raw_len:
            raise Malformed(RAW_LENGTH)
        for at in range(0, raw_len, step):
            yield data[at : at + step]


class Zstd(Codec):
    """zstd (the default): a fifth of the records' size at level 1 (``bench/format.py``)."""

    name = "zstd"
    code = 1
    module = "zstandard"

    def compressor(self, level: int) -> Compress:
        compress: Compress = self.package(writing=True).ZstdCompressor(level=level).compress
        return compress

    def pieces(self, data: bytes, raw_len: int, step: int) -> Iterator[bytes]:
        zstandard = self.package()
        try:
            declared = zstandard.frame_content_size(data)
            if declared not in (-1, raw_len):
                raise Malformed(f"a chunk's zstd frame declares {declared} bytes, its head {raw_len}")
            # A decompressor of its own: two readings may be interleaved (merge, a seek).
            yield from zstandard.ZstdDecompressor().read_to_iter(data, read_size=step, write_size=step)
        except zstandard.ZstdError as exc:
            raise Malformed(f"a chunk does not decompress: {exc}") from None


class Lz4(Codec):
    """lz4's frame format (the optional ``lz4`` extra): faster than zstd, larger files."""

    name = "lz4"
    code = 2
    module = "lz4.frame"
    extra = "lz4"

    def compressor(self, level: int) -> Compress:
        frame = self.package(writing=True)

        def compress(raw: bytes | bytearray) -> bytes:
            out: bytes = frame.compress(bytes(raw), compression_level=level, store_size=True)
            return out

        return compress

    def pieces(self, data: bytes, raw_len: int, step: int) -> Iterator[bytes]:
        frame = self.package()
        try:
            declared = frame.get_frame_info(data)["content_size"]
            if declared not in (0, raw_len):  # (0: not stored)
                raise Malformed(f"a chunk's lz4 frame declares {declared} bytes, its head {raw_len}")
            decompressor = frame.LZ4FrameDecompressor()
            rest = data
            while True:
                piece: bytes = decompressor.decompress(rest, max_length=step)
                rest = b""
                if piece:
                    yield piece
                if decompressor.eof:
                    break
                if decompressor.needs_input:
                    raise Malformed("a chunk does not decompress: its lz4 frame is cut short")
        except RuntimeError as exc:  # (python-lz4's error for a frame it cannot read)
            raise Malformed(f"a chunk does not decompress: {exc}") from None
        if decompressor.unused_data:
            raise Malformed("a chunk does not decompress: bytes after its lz4 frame")


#: Every compression, by name: a new one is a class above and a line here.
CODECS: dict[str, Codec] = {codec.name: codec for codec in (Zstd(), Lz4(), Stored())}
_BY_CODE = {codec.code: codec for codec in CODECS.values()}


def codec_named(name: str) -> Codec:
    """The codec of ``--compression NAME``; :class:`UsageError` listing the known ones."""
    codec = CODECS.get(name)
    if codec is None:
        raise UsageError(f"--compression must be {_names()}, not {name!r}")
    return codec


def writable(name: str) -> Codec:
    """The codec of ``--compression NAME`` with its package at hand: a usage error, or
    how to install the package, before anything is recorded."""
    codec = codec_named(name)
    codec.package(writing=True)
    return codec


def codec_of(code: int) -> Codec:
    """The codec of a chunk's compression code; :class:`Malformed` for an unknown one."""
    codec = _BY_CODE.get(code)
    if codec is None:
        raise Malformed(f"a chunk with unknown compression {code}")
    return codec


def _names() -> str:
    names = list(CODECS)
    return ", ".join(names[:-1]) + " or " + names[-1]

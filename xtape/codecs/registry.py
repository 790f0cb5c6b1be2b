"""Codecs by name: the built-ins and third parties' (entry point group ``xtape.codecs``).

A name may carry a JSON layout, ``NAME:compact`` or ``NAME:python``, for the codecs that
write JSON (``json``, ``faststream``, ``faststream-json``, ``taskiq``); without one they
write what their producer writes by default: ``compact`` (orjson, pydantic, FastStream
with orjson) except ``taskiq`` (``python``: its serializer is ``json.dumps``). A third-party
entry point names a codec object, or a class / factory called with no arguments.
"""

from __future__ import annotations

import logging
import sys
from collections.abc import Callable
from functools import cache
from typing import Any

from xtape.codecs.base import JSON_STYLES, Codec
from xtape.codecs.builtin import (
    Base64Codec,
    FastStreamCodec,
    JsonCodec,
    MsgpackCodec,
    RawCodec,
    TaskiqCodec,
)
from xtape.errors import UsageError

log = logging.getLogger(__name__)

ENTRY_POINT_GROUP = "xtape.codecs"

_STYLED: dict[str, Callable[..., Codec]] = {
    "json": JsonCodec,
    "faststream": FastStreamCodec,
    "faststream-json": lambda style="compact": FastStreamCodec(style, envelope="json"),
    "taskiq": TaskiqCodec,
}
_PLAIN: dict[str, Callable[[], Codec]] = {
    "msgpack": MsgpackCodec,
    "base64": Base64Codec,
    "raw": RawCodec,
}
#: Tried in this order when no codec is chosen for a stream (most specific first).
DETECTION_ORDER: tuple[str, ...] = ("faststream", "taskiq", "json")


class UnknownCodec(UsageError):
    """A codec name that is neither built in nor registered by an installed package."""

    def __init__(self, spec: str) -> None:
        super().__init__(f"unknown codec {spec!r} (codecs: {', '.join(codec_names())})")


def entry_points(group: str) -> Any:
    """The installed entry points of ``group`` (importlib.metadata, imported only now and
    only when some package may declare the group: it costs ~20 ms of a start that needs
    no plugin, as codec detection on a machine without one)."""
    if not _may_declare(group):
        return ()
    from importlib.metadata import entry_points as installed

    return installed(group=group)


def _may_declare(group: str) -> bool:
    """False only when importlib.metadata would surely find no entry point of ``group``:
    every distribution it could see is a ``*.dist-info``/``*.egg-info`` folder in a
    folder of ``sys.path``, and no ``entry_points.txt`` among them names ``group``.
    Anything else (a zip or egg on the path, another finder of distributions) is left
    to importlib.metadata."""
    import os
    from importlib.machinery import PathFinder

    for finder in sys.meta_path:
        if finder is not PathFinder and getattr(finder, "find_distributions", None) is not None:
            return True
    needle = group.encode()
    for entry in sys.path:
        if not isinstance(entry, str) or entry.lower().endswith(".egg"):
            return True
        try:
            children = os.listdir(entry or ".")
        except OSError:
            if os.path.exists(entry):
                return True  # a zip file: importlib.metadata reads it
            continue
        for child in children:
            if child.lower().endswith((".dist-info", ".egg-info")):
                try:
                    with open(os.path.join(entry, child, "entry_points.txt"), "rb") as fh:
                        if needle in fh.read():
                            return True
                except OSError:
                    continue
    return False


@cache
def _third_party() -> dict[str, Codec]:
    found: dict[str, Codec] = {}
    for point in entry_points(group=ENTRY_POINT_GROUP):
        try:
            loaded = point.load()
            codec = loaded() if isinstance(loaded, type) or not hasattr(loaded, "decode") else loaded
        except Exception as error:  # a broken plugin must not break xtape
            log.warning("codec entry point %s could not be loaded: %s", point.name, error)
            continue
        if not isinstance(codec, Codec):
            log.warning("codec entry point %s is not a codec (name, detect, decode, encode)", point.name)
            continue
        found[point.name] = codec
    return found


def codec_names() -> list[str]:
    """Every codec name a user may give, built-ins first."""
    return [*_STYLED, *_PLAIN, *(n for n in sorted(_third_party()) if n not in _STYLED and n not in _PLAIN)]


@cache
def get_codec(spec: str) -> Codec:
    """The codec ``spec`` names (``faststream``, ``json:python``, a plugin's name)."""
    name, sep, style = spec.strip().partition(":")
    if name in _STYLED:
        if sep and style not in JSON_STYLES:
            raise UsageError(
                f"unknown JSON layout {style!r} in codec {spec!r} (layouts: {', '.join(JSON_STYLES)})"
            )
        return _STYLED[name](style) if sep else _STYLED[name]()
    if not sep:
        if name in _PLAIN:
            return _PLAIN[name]()
        plugin = _third_party().get(name)
        if plugin is not None:
            return plugin
    raise UnknownCodec(spec)


def codec_spec(codec: Codec) -> str:
    """The name that gives ``codec`` back from :func:`get_codec` (its layout if not compact)."""
    style = getattr(codec, "style", None)
    if style is None or codec_spec_default(codec.name) == style:
        return codec.name
    return f"{codec.name}:{style}"


def codec_spec_default(name: str) -> str | None:
    """The JSON layout codec ``name`` writes when none is given (None: it writes no JSON)."""
    return getattr(get_codec(name), "style", None) if name in _STYLED else None


def variants(codec: Codec) -> list[Codec]:
    """``codec`` in each JSON layout it can write (itself first)."""
    if codec.name not in _STYLED:
        return [codec]
    return [codec, *(get_codec(f"{codec.name}:{s}") for s in JSON_STYLES if s != getattr(codec, "style", None))]


def detection_candidates() -> list[Codec]:
    """The codecs tried, in order, on a stream with none chosen."""
    plugins = [c for n, c in sorted(_third_party().items()) if n not in _STYLED and n not in _PLAIN]
    return [get_codec(DETECTION_ORDER[0]), get_codec(DETECTION_ORDER[1]), *plugins, get_codec(DETECTION_ORDER[2])]

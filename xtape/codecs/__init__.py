"""Payload codecs: an entry's fields <-> a value (JSON, msgpack, FastStream, taskiq, ...).

One layer below everything that shows, compares, converts or validates payloads. No Redis
imports. Built-ins are in :mod:`.builtin`; third parties register in the entry point group
``xtape.codecs``; :class:`CodecResolver` picks the codec of each stream.
"""

from xtape.codecs.base import Codec, CodecFailed, Fields, JsonStyle, Message, message_of
from xtape.codecs.registry import (
    ENTRY_POINT_GROUP,
    UnknownCodec,
    codec_names,
    codec_spec,
    get_codec,
    variants,
)
from xtape.codecs.resolve import CodecChoice, CodecResolver, detect, parse_codec_options

__all__ = [
    "ENTRY_POINT_GROUP",
    "Codec",
    "CodecChoice",
    "CodecFailed",
    "CodecResolver",
    "Fields",
    "JsonStyle",
    "Message",
    "UnknownCodec",
    "codec_names",
    "codec_spec",
    "detect",
    "get_codec",
    "message_of",
    "parse_codec_options",
    "variants",
]

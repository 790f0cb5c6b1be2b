"""Reading a stream catalog's data: every problem found, each ``path:line: where: what``.

The keys a catalog and its stream entries may have are one table each
(:data:`TOP_KEYS`, :data:`STREAM_KEYS`): a new key is one line there, and its use where
the stream's schema is built (:meth:`CatalogReader.stream`). See docs/architecture.md.
"""

from __future__ import annotations

import difflib
import importlib
import sys
from collections.abc import Callable, Mapping
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any, NamedTuple

from xtape.catalog.safe import SchemaRefused, is_schema_error
from xtape.catalog.schema import StreamSchema
from xtape.codecs import get_codec
from xtape.errors import CatalogError, UsageError, YamlError
from xtape.yamlfile.check import Checker, Loc, format_loc, show
from xtape.yamlfile.load import load_yaml

if TYPE_CHECKING:
    from pydantic import BaseModel

#: Short field types and the JSON Schema each stands for.
FIELD_TYPES: dict[str, dict[str, Any]] = {
    "string": {"type": "string"},
    "integer": {"type": "integer"},
    "number": {"type": "number"},
    "boolean": {"type": "boolean"},
    "null": {"type": "null"},
    "object": {"type": "object"},
    "array": {"type": "array"},
    "json": {"x-json": True},
    "binary": {"type": "string", "contentEncoding": "base64"},
}


def _show(value: Any) -> str:
    return show(value, sizes=False)


def _text(value: Any) -> bool:
    return value is None or isinstance(value, str)


def _string(value: Any) -> bool:
    return isinstance(value, str)


def _flag(value: Any) -> bool:
    return isinstance(value, bool)


class Key(NamedTuple):
    """A key of a catalog file: whether a value has the right shape (None: the reader
    checks it where it uses it), what the value must be (the message), its default."""

    check: Callable[[Any], bool] | None = None
    must: str = ""
    default: Any = None


#: The keys of a catalog file and of each ``streams:`` entry, in the order messages list
#: them. A new key is one line here, and its use where the stream's schema is built
#: (:meth:`CatalogReader.stream`).
TOP_KEYS: dict[str, Key] = {
    "version": Key(default=1),
    "description": Key(_text, "must be text"),
    "strict": Key(_flag, "must be true or false", False),
    "streams": Key(),
}
STREAM_KEYS: dict[str, Key] = {
    "description": Key(_string, "must be text", ""),
    "strict": Key(_flag, "must be true or false"),
    "fields": Key(),
    "required": Key(),
    "schema": Key(),
    "model": Key(),
    "codec": Key(),
}


class CatalogReader:
    """Checks a catalog's data, collecting every problem with its line."""

    def __init__(self, check: Checker[CatalogError], base: Path, *, trusted: bool = True) -> None:
        self.check = check
        self.base = base
        self.trusted = trusted
        self.unchecked: list[str] = []

    def error(self, loc: Loc, message: str) -> None:
        self.check.add(loc, message)

    def values(self, data: Mapping[Any, Any], loc: Loc, table: dict[str, Key]) -> dict[str, Any]:
        """Each key of ``table``: its value checked (its default when missing or invalid)."""
        self.check.unknown_keys(data, loc, table)
        out: dict[str, Any] = {}
        for key, (check, must, default) in table.items():
            value = data.get(key, default)
            if check is not None and key in data and not check(value):
                self.error((*loc, key), f"{must} (got {_show(value)})")
                value = default
            out[key] = value
        return out

    def catalog(self, data: Any) -> tuple[list[StreamSchema], bool] | None:
        """The streams of a catalog's ``data`` (those without problems) and its ``strict``;
        None when it is not a catalog at all."""
        if not isinstance(data, dict):
            self.error((), f"a catalog must be a mapping with a streams: mapping (got {_show(data)})")
            return None
        top = self.values(data, (), TOP_KEYS)
        if top["version"] != 1:
            self.error(("version",), f"catalog version {_show(top['version'])} is not supported (this xtape reads version 1)")
        strict = top["strict"]
        streams = top["streams"]
        if not isinstance(streams, dict):
            if "streams" not in data:
                self.error((), "missing required key 'streams' (a mapping of stream name: schema)")
            else:
                self.error(("streams",), f"must be a mapping of stream name: schema (got {_show(streams)})")
            return [], strict
        compiled: list[StreamSchema] = []
        for name, spec in streams.items():
            found = self.stream(name, spec, strict)
            if found is not None:
                compiled.append(found)
        return compiled, strict

    def stream(self, name: Any, spec: Any, strict_default: bool) -> StreamSchema | None:
        loc: Loc = ("streams", name)
        if not isinstance(name, str) or not name:
            self.error(loc, f"stream names must be text (got {_show(name)})")
            return None
        if spec is None:
            spec = {}
        if isinstance(spec, str):
            spec = {"description": spec}
        if not isinstance(spec, dict):
            self.error(loc, f"must be a mapping with description, fields, schema or model (got {_show(spec)})")
            return None
        before = len(self.check)
        values = self.values(spec, loc, STREAM_KEYS)
        given = [key for key in ("fields", "schema", "model") if key in spec]
        if len(given) > 1:
            self.error((*loc, given[1]), f"give one of fields:, schema: and model: (got {' and '.join(given)})")
            return None
        if "required" in spec and "fields" not in spec:
            self.error((*loc, "required"), "required: goes with fields: (a schema: or model: says it itself)")
        schema, model, ref = self.payload(spec, loc)
        codec = self.codec(values["codec"], (*loc, "codec"))
        if len(self.check) != before:
            return None
        strict = strict_default if values["strict"] is None else values["strict"]
        make = partial(
            StreamSchema, name, description=values["description"] or "", strict=strict, schema=schema, model=model,
            model_ref=ref, codec=codec,
        )  # fmt: skip
        return self.compile(make, spec, loc, given)

    def payload(self, spec: dict[str, Any], loc: Loc) -> tuple[dict[str, Any] | None, type[BaseModel] | None, str]:
        """What describes a stream's payload: ``(schema, model, model reference)``."""
        if "fields" in spec:
            return self.fields(spec["fields"], spec.get("required"), loc), None, ""
        if "schema" in spec:
            return self.schema(spec["schema"], (*loc, "schema")), None, ""
        if "model" in spec and not self.trusted:
            at = (*loc, "model")
            self.unchecked.append(
                f"{self.check.path}:{self.check.line(at)}: {format_loc(at)}: not checked: Python models "
                "need --catalog (a catalog found, not named, never imports code)"
            )
        elif "model" in spec:
            return None, self.model(spec["model"], (*loc, "model")), spec["model"]
        return None, None, ""

    def codec(self, codec: Any, loc: Loc) -> str | None:
        if codec is None:
            return None
        try:
            get_codec(str(codec)) if codec not in ("raw", "none") else None
        except UsageError as error:
            self.error(loc, str(error))
        return str(codec)

    def compile(self, make: Callable[[], StreamSchema], spec: dict[str, Any], loc: Loc, given: list[str]) -> StreamSchema | None:
        """The stream's schema compiled, or None with the compiler's complaint where it points."""
        try:
            return make()
        except Exception as error:  # the compiler refused the schema (or a model's schema failed)
            if isinstance(error, SchemaRefused) or is_schema_error(error):
                self.schema_refused(error, spec, loc, given)
            else:
                at = (*loc, given[0]) if given else loc
                self.error(at, f"invalid schema: {' '.join(str(error).split())}")
            return None

    def schema_refused(self, error: Any, spec: dict[str, Any], loc: Loc, given: list[str]) -> None:
        """A :class:`SchemaRefused` or jsonschema's ``SchemaError``, where it points."""
        at = (*loc, given[0]) if given else loc
        path = list(error.path)
        if given and given[0] == "fields" and path[:1] == ["properties"]:
            at = (*loc, "fields", *path[1:])
        elif given and given[0] == "fields" and path[:1] == ["required"]:
            at = (*loc, "required", *path[1:])
        elif given and given[0] == "schema" and isinstance(spec["schema"], dict):
            at = (*at, *path)
        if isinstance(error, SchemaRefused):
            self.error(at, error.message)
        else:
            self.error(at, f"invalid JSON Schema: {' '.join(error.message.split())}")

    def fields(self, fields: Any, required: Any, loc: Loc) -> dict[str, Any] | None:
        at = (*loc, "fields")
        if not isinstance(fields, dict):
            self.error(at, f"must be a mapping of field name: type (got {_show(fields)})")
            return None
        properties: dict[str, Any] = {}
        for name, spec in fields.items():
            field_loc = (*at, name)
            if isinstance(name, int) and not isinstance(name, bool):
                name = str(name)  # as a scenario's payload keys: `1: x` names field "1"
            if not isinstance(name, str):
                self.error(field_loc, f"field names must be text (got {_show(name)})")
                continue
            converted = self.field(spec, field_loc)
            if converted is not None:
                properties[name] = converted
        schema: dict[str, Any] = {"type": "object", "properties": properties}
        if required is not None:
            if not isinstance(required, list) or not all(isinstance(r, str) for r in required):
                self.error((*loc, "required"), f"must be a list of field names (got {_show(required)})")
            else:
                for index, name in enumerate(required):
                    if name not in fields:
                        close = difflib.get_close_matches(name, list(fields), n=1)
                        hint = f" (did you mean {close[0]!r}?)" if close else ""
                        self.error((*loc, "required", index), f"{name!r} is not one of the fields{hint}")
                schema["required"] = list(required)
        return schema

    def field(self, spec: Any, loc: Loc) -> dict[str, Any] | None:
        if isinstance(spec, str):
            spec = {"type": spec}
        if spec is None:
            return {}
        if not isinstance(spec, dict):
            self.error(loc, f"must be a type ({', '.join(FIELD_TYPES)}) or a JSON Schema mapping (got {_show(spec)})")
            return None
        out = dict(spec)
        kind = out.get("type")
        kinds = kind if isinstance(kind, list) else [kind] if kind is not None else []
        for item in kinds:
            if item not in FIELD_TYPES:
                close = difflib.get_close_matches(str(item), list(FIELD_TYPES), n=1)
                hint = f"did you mean {close[0]!r}?" if close else f"types: {', '.join(FIELD_TYPES)}"
                self.error((*loc, "type"), f"unknown type {_show(item)} ({hint})")
                return None
        if kind in ("json", "binary"):
            del out["type"]
            out.update(FIELD_TYPES[kind])
        elif isinstance(kind, list) and ("json" in kind or "binary" in kind):
            self.error((*loc, "type"), "json and binary cannot be combined with other types")
            return None
        return out

    def schema(self, value: Any, loc: Loc) -> dict[str, Any] | None:
        if isinstance(value, dict):
            return value
        if not isinstance(value, str) or not value:
            self.error(loc, f"must be a JSON Schema mapping or the path of a schema file (got {_show(value)})")
            return None
        file = Path(value)
        if not file.is_absolute():
            file = self.base / file
        try:
            text = file.read_text("utf-8-sig")
        except (OSError, UnicodeDecodeError) as error:
            reason = getattr(error, "strerror", None) or str(error)
            self.error(loc, f"cannot read schema file {value!r} ({file}): {reason}")
            return None
        try:
            data, _ = load_yaml(text, str(file))  # JSON is YAML; errors say file:line
        except YamlError as error:
            self.check.keep_error(CatalogError(str(file), error.line, error.reason))
            return None
        if not isinstance(data, dict):
            self.error(loc, f"schema file {value!r} must hold a JSON Schema object (got {_show(data)})")
            return None
        return data

    def model(self, ref: Any, loc: Loc) -> type[BaseModel] | None:
        if not isinstance(ref, str) or ref.count(":") != 1 or not all(ref.split(":")):
            self.error(loc, f"must be 'package.module:Model' (got {_show(ref)})")
            return None
        module_name, _, attr = ref.partition(":")
        base = str(self.base.resolve())
        added = base not in sys.path
        if added:
            sys.path.insert(0, base)
        try:
            target: Any = importlib.import_module(module_name)
            for part in attr.split("."):
                target = getattr(target, part)
        except Exception as error:
            self.error(loc, f"cannot import model {ref!r}: {type(error).__name__}: {error}")
            return None
        finally:
            if added:
                sys.path.remove(base)
        from pydantic import BaseModel  # (only a catalog that names a model needs pydantic)

        if not (isinstance(target, type) and issubclass(target, BaseModel)):
            self.error(loc, f"{ref!r} is not a Pydantic model (a subclass of pydantic.BaseModel)")
            return None
        return target

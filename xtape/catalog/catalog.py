"""The stream catalog (``streams.yaml``): which streams exist and what their payloads hold.

::

    strict: false                    # default for every stream: fields not described are allowed
    streams:
      order.request:                 # a name, or a glob ("audit.*")
        description: An order a user placed.
        strict: true                 # unknown fields are errors on this stream
        fields:                      # field -> its type, or a JSON Schema of its decoded value
          orderId: {type: string, pattern: "^order_[0-9]+$"}
          leverage: {type: integer, minimum: 1, maximum: 100}
          isLong: boolean
          meta: json
          signature: binary
        required: [orderId, leverage]
      price.update:
        schema: schemas/price.json   # a JSON Schema file (beside the catalog), or inline
      position.opened:
        model: myteam.events:PositionOpened   # a Pydantic model
      audit.*: {}                    # known, payload not checked
      shop.orders:
        codec: faststream            # payloads decoded first: the schema checks the body
        fields: {total: integer}

Loading checks the file itself and reports each problem as ``path:line: where: what``.
See docs/catalog.md.
"""

from __future__ import annotations

import difflib
import fnmatch
import importlib
import json
import os
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import jsonschema
from pydantic import BaseModel

from xtape.catalog.discover import CATALOG_ENV, CATALOG_NAME, find_catalog_path
from xtape.catalog.safe import SchemaRefused
from xtape.catalog.schema import NO_PROBLEMS, Problem, StreamSchema
from xtape.codecs import get_codec
from xtape.errors import CatalogError, CatalogInvalid, InputError, ScenarioError, UsageError
from xtape.scenario.locations import Loc, SourceMap, format_loc
from xtape.scenario.plan import EventPlan, Plan
from xtape.scenario.yaml_io import load_yaml

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
_TOP_KEYS = ("version", "description", "strict", "streams")
_STREAM_KEYS = ("description", "strict", "fields", "required", "schema", "model", "codec")
_GLOB_CHARS = frozenset("*?[")


class Catalog:
    """The streams a system knows, each with the schema of its payloads.

    :meth:`lookup` finds the entry for a stream (an exact name first, else the first glob
    that matches, in file order); :meth:`check` gives the problems of one entry's fields.
    """

    def __init__(
        self,
        streams: Sequence[StreamSchema],
        *,
        path: str | None = None,
        strict: bool = False,
        unchecked: Sequence[str] = (),
    ) -> None:
        self.path = path
        self.strict = strict
        self.streams = list(streams)
        #: Why some streams' payloads are not checked (``path:line: where: why``): the
        #: Python models of a catalog that was found, not named, are not imported.
        self.unchecked = list(unchecked)
        self._exact = {s.pattern: s for s in self.streams if not _GLOB_CHARS & set(s.pattern)}
        self._globs = [s for s in self.streams if _GLOB_CHARS & set(s.pattern)]
        self._found: dict[bytes, StreamSchema | None] = {}

    def __repr__(self) -> str:
        return f"Catalog({self.path!r}, {len(self.streams)} streams)"

    def lookup(self, stream: str | bytes) -> StreamSchema | None:
        """The entry that covers ``stream``, None if the catalog does not know it."""
        raw = stream if isinstance(stream, bytes) else stream.encode("utf-8")
        try:
            return self._found[raw]
        except KeyError:
            pass
        name = raw.decode("utf-8", "backslashreplace")
        found = self._exact.get(name)
        if found is None:
            found = next((s for s in self._globs if fnmatch.fnmatchcase(name, s.pattern)), None)
        if len(self._found) < 100_000:
            self._found[raw] = found
        return found

    def suggestion(self, stream: str | bytes) -> str:
        """`` (did you mean 'x'?)`` for a stream the catalog does not know, or the names it has."""
        name = stream.decode("utf-8", "backslashreplace") if isinstance(stream, bytes) else stream
        names = [s.pattern for s in self.streams]
        close = difflib.get_close_matches(name, names, n=1, cutoff=0.6)
        if close:
            return f" (did you mean {close[0]!r}?)"
        if not names:
            return " (the catalog lists no streams)"
        listed = ", ".join(names[:8]) + (", ..." if len(names) > 8 else "")
        return f" (known streams: {listed})"

    def unknown_stream(self, stream: str | bytes) -> str:
        """The message for a stream the catalog does not know."""
        name = stream.decode("utf-8", "backslashreplace") if isinstance(stream, bytes) else stream
        where = f" {self.path}" if self.path else ""
        return f"unknown stream {name!r}: not in the catalog{where}{self.suggestion(name)}"

    def codec(self, stream: bytes) -> str | None:
        """The ``codec:`` the catalog gives ``stream`` (for :class:`xtape.codecs.CodecResolver`)."""
        spec = self.lookup(stream)
        return None if spec is None else spec.codec

    def check(self, stream: str | bytes, flat: Sequence[bytes]) -> Sequence[Problem] | None:
        """The problems of one entry's flat fields; None when the stream is unknown."""
        spec = self.lookup(stream)
        if spec is None:
            return None
        return spec.check(flat) if spec.kind != "none" else NO_PROBLEMS

    # -- scenarios (the :class:`xtape.scenario.render.PayloadCheck` protocol) -----------

    def check_plan(self, plan: Plan, *, seed: int, run_code: bool) -> list[InputError]:
        """Every problem of a compiled scenario's events (see :mod:`xtape.catalog.scenarios`)."""
        from xtape.catalog.scenarios import check_plan

        return check_plan(self, plan, seed=seed, run_code=run_code)

    def check_event(
        self, plan: Plan, event: EventPlan, flat: Sequence[bytes], *, iteration: int
    ) -> InputError | None:
        """The problem of one rendered publish of a scenario event, None if valid."""
        from xtape.catalog.scenarios import check_event

        return check_event(self, plan, event, flat, iteration=iteration)


# --------------------------------------------------------------------------- loading


def load_catalog(path: str | Path, *, trusted: bool = True) -> Catalog:
    """Read and check a catalog file; raises :class:`CatalogError` (one) or
    :class:`CatalogInvalid` (several) with ``path:line:`` for each problem.

    Only a ``trusted`` catalog (one the user named) imports its Python models: importing
    runs the module. Otherwise those streams are known but not checked (``unchecked``)."""
    shown = str(path)
    try:
        text = Path(path).read_text("utf-8-sig")
    except OSError as error:
        raise CatalogError(f"cannot read the catalog: {error.strerror or error}", shown) from None
    except UnicodeDecodeError:
        raise CatalogError("not UTF-8 text", shown) from None
    return load_catalog_text(text, shown, base=Path(path).parent, trusted=trusted)


def load_catalog_text(
    text: str, path: str = "<catalog>", *, base: Path | None = None, trusted: bool = True
) -> Catalog:
    """A catalog from YAML ``text``; ``base`` is where schema files and models are looked for."""
    try:
        data, lines = load_yaml(text, path)
    except ScenarioError as error:
        raise CatalogError(error.reason, path, error.line) from None
    reader = _Reader(SourceMap(path, lines), base or Path("."), trusted=trusted)
    catalog = reader.catalog(data)
    if reader.errors:
        errors = sorted(reader.errors, key=lambda e: e.line or 0)
        raise errors[0] if len(errors) == 1 else CatalogInvalid(errors)
    assert catalog is not None
    return catalog


def _show(value: Any) -> str:
    if isinstance(value, Mapping):
        return "a mapping"
    if isinstance(value, list):
        return "a list"
    return json.dumps(value) if isinstance(value, (bool, type(None), int, float)) else repr(value)


class _Reader:
    """Checks a catalog's data, collecting every problem with its line."""

    def __init__(self, source: SourceMap, base: Path, *, trusted: bool = True) -> None:
        self.source = source
        self.base = base
        self.trusted = trusted
        self.errors: list[CatalogError] = []
        self.unchecked: list[str] = []

    def error(self, loc: Loc, message: str, *, named: Loc | None = None) -> None:
        """A problem at ``loc`` (its line), named by ``named`` (default: ``loc``)."""
        where = format_loc(loc if named is None else named)
        self.errors.append(
            CatalogError(f"{where}: {message}" if where else message, self.source.path, self.source.line(loc))
        )

    def keys(self, data: Mapping[Any, Any], loc: Loc, allowed: Sequence[str]) -> None:
        for key in data:
            if key not in allowed:
                close = difflib.get_close_matches(str(key), allowed, n=1)
                hint = f"did you mean {close[0]!r}?" if close else f"valid keys: {', '.join(allowed)}"
                self.error((*loc, key), f"unknown key {key!r} ({hint})", named=loc)

    def catalog(self, data: Any) -> Catalog | None:
        if not isinstance(data, dict):
            self.error((), f"a catalog must be a mapping with a streams: mapping (got {_show(data)})")
            return None
        self.keys(data, (), _TOP_KEYS)
        version = data.get("version", 1)
        if version != 1:
            self.error(("version",), f"catalog version {_show(version)} is not supported (this xtape reads version 1)")
        description = data.get("description")
        if description is not None and not isinstance(description, str):
            self.error(("description",), f"must be text (got {_show(description)})")
        strict = self.flag(data, "strict", (), False)
        streams = data.get("streams")
        if not isinstance(streams, dict):
            if "streams" not in data:
                self.error((), "missing required key 'streams' (a mapping of stream name: schema)")
            else:
                self.error(("streams",), f"must be a mapping of stream name: schema (got {_show(streams)})")
            return Catalog([], path=self.source.path, strict=strict)
        compiled: list[StreamSchema] = []
        for name, spec in streams.items():
            found = self.stream(name, spec, strict)
            if found is not None:
                compiled.append(found)
        return Catalog(compiled, path=self.source.path, strict=strict, unchecked=self.unchecked)

    def flag(self, data: Mapping[Any, Any], key: str, loc: Loc, default: bool) -> bool:
        value = data.get(key, default)
        if not isinstance(value, bool):
            self.error((*loc, key), f"must be true or false (got {_show(value)})")
            return default
        return value

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
        before = len(self.errors)
        self.keys(spec, loc, _STREAM_KEYS)
        description = spec.get("description", "")
        if not isinstance(description, str):
            self.error((*loc, "description"), f"must be text (got {_show(description)})")
        strict = self.flag(spec, "strict", loc, strict_default)
        given = [key for key in ("fields", "schema", "model") if key in spec]
        if len(given) > 1:
            self.error((*loc, given[1]), f"give one of fields:, schema: and model: (got {' and '.join(given)})")
            return None
        if "required" in spec and "fields" not in spec:
            self.error((*loc, "required"), "required: goes with fields: (a schema: or model: says it itself)")
        schema: dict[str, Any] | None = None
        model: type[BaseModel] | None = None
        ref = ""
        if "fields" in spec:
            schema = self.fields(spec["fields"], spec.get("required"), loc)
        elif "schema" in spec:
            schema = self.schema(spec["schema"], (*loc, "schema"))
        elif "model" in spec and not self.trusted:
            at = (*loc, "model")
            self.unchecked.append(
                f"{self.source.path}:{self.source.line(at)}: {format_loc(at)}: not checked: Python models "
                "need --catalog (a catalog found, not named, never imports code)"
            )
        elif "model" in spec:
            ref = spec["model"]
            model = self.model(ref, (*loc, "model"))
        codec = spec.get("codec")
        if codec is not None:
            try:
                get_codec(str(codec)) if codec not in ("raw", "none") else None
            except UsageError as error:
                self.error((*loc, "codec"), str(error))
        if len(self.errors) != before:
            return None
        try:
            return StreamSchema(
                name, description=description or "", strict=strict, schema=schema, model=model, model_ref=ref,
                codec=None if codec is None else str(codec),
            )
        except (jsonschema.SchemaError, SchemaRefused) as error:
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
            return None
        except Exception as error:  # the compiler refused the schema (or a model's schema failed)
            at = (*loc, given[0]) if given else loc
            self.error(at, f"invalid schema: {' '.join(str(error).split())}")
            return None

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
        except ScenarioError as error:
            self.errors.append(CatalogError(error.reason, str(file), error.line))
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
        if not (isinstance(target, type) and issubclass(target, BaseModel)):
            self.error(loc, f"{ref!r} is not a Pydantic model (a subclass of pydantic.BaseModel)")
            return None
        return target


# --------------------------------------------------------------------------- discovery


_LOADED: dict[tuple[str, int, int, bool], Catalog] = {}


def find_catalog(
    explicit: str | Path | None = None,
    near: str | Path | None = None,
    *,
    enabled: bool = True,
    environ: Mapping[str, str] | None = None,
    cwd: str | Path | None = None,
) -> Catalog | None:
    """The catalog :func:`find_catalog_path` names, loaded (once per file and version).

    Only a catalog the user named (``explicit``, ``$XTAPE_CATALOG``) is trusted to import
    its Python models; one found beside ``near`` or in ``cwd`` is not (see
    :func:`load_catalog`)."""
    path = find_catalog_path(explicit, near, enabled=enabled, environ=environ, cwd=cwd)
    if path is None:
        return None
    trusted = explicit is not None or path == Path((os.environ if environ is None else environ).get(CATALOG_ENV, ""))
    try:
        stat = path.stat()
        key = (str(path.resolve()), stat.st_mtime_ns, stat.st_size, trusted)
    except OSError:
        return load_catalog(path, trusted=trusted)  # raises: cannot read
    found = _LOADED.get(key)
    if found is None:
        found = _LOADED[key] = load_catalog(path, trusted=trusted)
    return found


__all__ = [
    "CATALOG_ENV",
    "CATALOG_NAME",
    "FIELD_TYPES",
    "Catalog",
    "find_catalog",
    "find_catalog_path",
    "load_catalog",
    "load_catalog_text",
]

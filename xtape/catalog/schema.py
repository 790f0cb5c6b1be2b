"""One stream's schema, compiled: field bytes decoded by declared type, then checked.

Field values are bytes on the wire. Each field's schema says how it is typed, and the
value is decoded with the rules the scenario encoding uses to write it
(:mod:`xtape.scenario.encoding`): integers, numbers, booleans and null as their JSON text
(``5``, ``5.5``, ``true``), objects and arrays as JSON text, strings as UTF-8 text,
binary (``contentEncoding: base64``, written ``binary`` in a catalog) as raw bytes, which
the check sees as their base64 text, as JSON Schema describes binary data. So a scenario
payload ``leverage: 5`` and ``leverage: "5"`` publish, and validate, the same bytes as
the recorded entry ``leverage=5``.

The decoded mapping is then checked by a well-kept library: a JSON Schema compiled once,
on first use, by ``fastjsonschema`` (drafts 4, 6 and 7; its regexes on RE2, see
:mod:`xtape.catalog.safe`), or a Pydantic model. A value that
does not decode to its declared type is passed on as text, so the library reports the
mismatch (``expected integer, got "x"``).
"""

from __future__ import annotations

import difflib
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any, TypeAlias

import fastjsonschema

from xtape.catalog.decoding import (
    DecodeProblem,
    Decoder,
    decode_loose,
    decode_text,
    decoder_for,
    resolve,
)
from xtape.catalog.safe import additional, check_schema, compiled, explainer_class, format_checker
from xtape.catalog.shown import shown as shown

if TYPE_CHECKING:
    import jsonschema
    from pydantic import BaseModel, ValidationError

#: Where a problem is inside a payload: the field name, then keys/indexes inside its JSON.
Path: TypeAlias = tuple[object, ...]
#: One problem of one payload: where, and what (``expected integer, got "x"``).
Problem: TypeAlias = tuple[Path, str]

NO_PROBLEMS: tuple[Problem, ...] = ()

# --------------------------------------------------------------------------- messages


def _suggest(name: str, known: Sequence[str]) -> str:
    close = difflib.get_close_matches(name, list(known), n=1)
    return f" (did you mean {close[0]!r}?)" if close else ""


def _json_problem(error: fastjsonschema.JsonSchemaValueException, known: Sequence[str]) -> list[Problem]:
    """A fastjsonschema error as problems: where in the payload, and what, in our words."""
    path: Path = tuple((error.path or ["data"])[1:])
    rule = error.rule
    value = error.value
    definition = error.rule_definition
    if rule == "type":
        kinds = definition if isinstance(definition, list) else [definition]
        return [(path, f"expected {' or '.join(str(k) for k in kinds)}, got {shown(value)}")]
    if rule == "required" and isinstance(value, Mapping) and isinstance(definition, list):
        missing = [name for name in definition if name not in value] or list(definition)
        what = "field" if not path else "key"
        return [(path, f"missing required {what} {name!r}") for name in missing]
    if rule == "additionalProperties" and isinstance(value, Mapping):
        spec = error.definition if isinstance(error.definition, Mapping) else {}
        props = spec.get("properties") or {}
        extras = [name for name in value if name not in props] or list(value)
        names = known if not path else list(props)
        what = "field" if not path else "key"
        return [
            ((*path, name), f"unknown {what} {name!r}{_suggest(str(name), names)} (not allowed by the catalog)")
            for name in extras[:5]
        ]
    if rule == "enum" and isinstance(definition, list):
        options = ", ".join(shown(o) for o in definition[:10]) + (", ..." if len(definition) > 10 else "")
        return [(path, f"expected one of {options}, got {shown(value)}")]
    if rule == "const":
        return [(path, f"expected {shown(definition)}, got {shown(value)}")]
    if rule == "pattern":
        return [(path, f"{shown(value)} does not match the pattern {definition!r}")]
    message = error.message
    name = error.name or "data"
    if message.startswith(name + " "):
        message = message[len(name) + 1 :]
    return [(path, f"{message}, got {shown(value)}")]


def _explained(error: jsonschema.ValidationError, known: Sequence[str]) -> list[Problem]:
    """A jsonschema error (one of all those of a payload) as problems, in our words."""
    path: Path = tuple(error.absolute_path)
    rule = error.validator
    value = error.instance
    definition = error.validator_value
    if rule == "type":
        kinds = definition if isinstance(definition, list) else [definition]
        return [(path, f"expected {' or '.join(str(k) for k in kinds)}, got {shown(value)}")]
    if rule == "required" and isinstance(value, Mapping) and isinstance(definition, list):
        what = "field" if not path else "key"
        return [(path, f"missing required {what} {name!r}") for name in definition if name not in value]
    if rule == "additionalProperties" and isinstance(value, Mapping):
        spec = error.schema if isinstance(error.schema, Mapping) else {}
        props = spec.get("properties") or {}
        extras = additional(value, spec)
        names = known if not path else list(props)
        what = "field" if not path else "key"
        return [
            ((*path, name), f"unknown {what} {name!r}{_suggest(str(name), names)} (not allowed by the catalog)")
            for name in extras
        ]
    if rule == "enum" and isinstance(definition, list):
        options = ", ".join(shown(o) for o in definition[:10]) + (", ..." if len(definition) > 10 else "")
        return [(path, f"expected one of {options}, got {shown(value)}")]
    if rule == "const":
        return [(path, f"expected {shown(definition)}, got {shown(value)}")]
    if rule == "pattern":
        return [(path, f"{shown(value)} does not match the pattern {definition!r}")]
    return [(path, " ".join(error.message.split()))]


_PYDANTIC_KINDS = {
    "int": "integer", "float": "number", "bool": "boolean", "string": "string", "str": "string",
    "dict": "object", "model": "object", "list": "array", "decimal": "number",
}  # fmt: skip


def _pydantic_problems(error: ValidationError, known: Sequence[str]) -> list[Problem]:
    out: list[Problem] = []
    for item in error.errors(include_url=False):
        loc = tuple(item.get("loc", ()))
        kind = str(item.get("type", ""))
        value = item.get("input")
        if kind == "missing" and loc:
            what = "field" if len(loc) == 1 else "key"
            out.append((loc[:-1], f"missing required {what} {loc[-1]!r}"))
            continue
        if kind == "extra_forbidden" and loc:
            out.append((loc, f"unknown field {loc[-1]!r}{_suggest(str(loc[-1]), known)} (not allowed by the model)"))
            continue
        head, _, tail = kind.partition("_")
        if tail in ("type", "parsing") and head in _PYDANTIC_KINDS:
            out.append((loc, f"expected {_PYDANTIC_KINDS[head]}, got {shown(value)}"))
            continue
        message = str(item.get("msg", kind))
        message = message[:1].lower() + message[1:]
        out.append((loc, f"{message}, got {shown(value)}"))
    return out


# --------------------------------------------------------------------------- compiled


class StreamSchema:
    """One catalog entry compiled: checks the fields of entries on the streams it covers.

    ``kind`` is ``"none"`` (the stream is known, its payloads unchecked), ``"json-schema"``
    or ``"model"``. :meth:`check` returns the problems of one entry (empty when valid).
    """

    def __init__(
        self,
        pattern: str,
        *,
        description: str = "",
        strict: bool = False,
        schema: Mapping[str, Any] | None = None,
        model: type[BaseModel] | None = None,
        model_ref: str = "",
        codec: str | None = None,
    ) -> None:
        self.pattern = pattern
        #: The catalog's ``codec:`` for these streams (the schema applies to the decoded body).
        self.codec = codec
        self.description = description
        self.strict = strict
        self.model = model
        self.model_ref = model_ref
        self._validate: Callable[[Any], Any] | None = None  # compiled on first use
        self._key = ""
        self._explainer: Any = None
        root: Mapping[str, Any] = {}
        if model is not None:
            self.kind = "model"
            root = model.model_json_schema(by_alias=True)
        elif schema is not None:
            self.kind = "json-schema"
            root = dict(schema)
            if strict and "additionalProperties" not in root and "patternProperties" not in root:
                root["additionalProperties"] = False
            self._key = check_schema(root)  # refused or invalid: raises, saying where
        else:
            self.kind = "none"
        #: The JSON Schema the payload is checked against (a model's, for a model).
        self.schema: Mapping[str, Any] = root
        properties = resolve(root, root).get("properties") if root else None
        props: Mapping[str, Any] = properties if isinstance(properties, Mapping) else {}
        #: The fields the schema names, in its order.
        self.fields: tuple[str, ...] = tuple(str(name) for name in props)
        #: raw field name -> (its text, whether it is plain text, its decoder)
        self._fields: dict[bytes, tuple[str, bool, Decoder]] = {}
        for name, spec in props.items():
            decoder = decoder_for(spec, root)
            self._fields[str(name).encode("utf-8")] = (str(name), decoder is decode_text, decoder)

    def _field(self, raw: bytes) -> tuple[str, bool, Decoder]:
        """A field the schema does not name (remembered, up to a point)."""
        found = (decode_loose(raw), False, decode_loose)
        if len(self._fields) < 10_000:
            self._fields[raw] = found
        return found

    def decode(self, flat: Sequence[bytes], problems: list[Problem]) -> dict[str, Any]:
        """The fields as a mapping of decoded values (a repeated name: its last value).

        The hot path of validating a recording: one lookup per field, text decoded inline.
        """
        obj: dict[str, Any] = {}
        fields = self._fields
        it = iter(flat)
        for raw, value in zip(it, it, strict=False):
            spec = fields.get(raw)
            if spec is None:
                spec = self._field(raw)
            name, text, decoder = spec
            if text:
                try:
                    obj[name] = value.decode("utf-8")
                    continue
                except UnicodeDecodeError:
                    pass
            try:
                obj[name] = decoder(value)
            except DecodeProblem as problem:
                problems.append(((name,), problem.message))
                obj[name] = problem.value
        if self.strict and len(obj) * 2 != len(flat):
            counts = Counter(decode_loose(raw) for raw in flat[::2])
            problems.extend(
                ((name,), f"field {name!r} appears {count} times") for name, count in counts.items() if count > 1
            )
        return obj

    def is_valid(self, flat: Sequence[bytes]) -> bool:
        """Whether one entry's flat fields are valid (the fast path: no explanation)."""
        if self.kind == "none":
            return True
        problems: list[Problem] = []
        obj = self.decode(flat, problems)
        if problems:
            return False
        validate = self._validator()
        if validate is not None:
            try:
                validate(obj)
            except fastjsonschema.JsonSchemaValueException:
                return False
            return True
        return not self._model_problems(obj)

    def check(self, flat: Sequence[bytes]) -> Sequence[Problem]:
        """The problems of one entry's flat fields ``(name, value, ...)``; empty if valid.

        Every problem is listed (not only the first): the compiled schema decides, and
        for an invalid entry ``jsonschema`` finds each thing wrong with it.
        """
        if self.kind == "none":
            return NO_PROBLEMS
        problems: list[Problem] = []
        obj = self.decode(flat, problems)
        problems.extend(self.check_value(obj))
        return problems or NO_PROBLEMS

    def check_value(self, obj: Any) -> Sequence[Problem]:
        """The problems of a decoded payload (fields decoded, or a codec's body)."""
        if self.kind == "none":
            return NO_PROBLEMS
        validate = self._validator()
        if validate is None:
            if not isinstance(obj, Mapping):
                return (((), f"expected an object, got {shown(obj)}"),)
            return self._model_problems(obj) or NO_PROBLEMS
        try:
            validate(obj)
        except fastjsonschema.JsonSchemaValueException as error:
            explained = self._explain(obj) if isinstance(obj, Mapping) else []
            return explained or _json_problem(error, self.fields)
        return NO_PROBLEMS

    def _validator(self) -> Callable[[Any], Any] | None:
        """The compiled check of a JSON Schema stream (compiled on first use: a catalog's
        streams that a recording or scenario does not use cost nothing)."""
        if self._validate is None and self.kind == "json-schema":
            self._validate = compiled(self.schema, self._key)
        return self._validate

    def _explain(self, obj: Mapping[str, Any]) -> list[Problem]:
        if self._explainer is None:
            cls = explainer_class(self.schema)
            self._explainer = cls(self.schema, format_checker=format_checker(cls))
        found: list[Problem] = []
        for error in self._explainer.iter_errors(obj):
            for problem in _explained(error, self.fields):
                if problem not in found:
                    found.append(problem)
        found.sort(key=lambda problem: [str(part) for part in problem[0]])  # stable: by place
        return found

    def _model_problems(self, obj: Mapping[str, Any]) -> list[Problem]:
        assert self.model is not None
        problems: list[Problem] = []
        if self.strict:
            known = set(self.fields)
            for name in obj:
                if name not in known:
                    problems.append(
                        ((name,), f"unknown field {name!r}{_suggest(name, self.fields)} (not allowed by the catalog)")
                    )
        from pydantic import ValidationError  # (only a model needs pydantic)

        try:
            self.model.model_validate(obj)
        except ValidationError as error:
            problems.extend(_pydantic_problems(error, self.fields))
        return problems


def format_problem(path: Path, message: str) -> str:
    """``leverage: expected integer, got "x"``; nested: ``meta.px``, ``legs[0]``."""
    from xtape.yamlfile.check import format_loc

    where = format_loc(path)
    return f"{where}: {message}" if where else message


__all__ = [
    "NO_PROBLEMS",
    "Problem",
    "StreamSchema",
    "format_problem",
    "shown",
]

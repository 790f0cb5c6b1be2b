"""A catalog's JSON Schemas made safe to run, whoever wrote them.

A schema is data from a file, yet the libraries that check payloads against it would
run its regular expressions with a backtracking engine, follow its ``$ref``s to any
address and compile it whatever its size. Here, before any library sees a schema:

* :func:`vet` walks it once and refuses, with the place in the schema: a ``$ref`` that
  leaves the schema (any scheme, or made absolute by an ``$id``: nothing is fetched), a
  ``pattern``/``patternProperties`` regex RE2 cannot run (backreferences, lookaround),
  and a schema of more than :data:`MAX_NODES` objects;
* every ``pattern`` and ``patternProperties`` regex runs on RE2 (``google-re2``), in
  time linear in the value: :func:`compiled` swaps them into the code ``fastjsonschema``
  generates, and :func:`explainer_class` into ``jsonschema``'s keywords; ``format:
  regex`` (of the schema's own patterns, and of payload values) means "RE2 compiles it";
* a schema is compiled once (the same schema under several streams shares it), on first
  use, by ``fastjsonschema`` up to :data:`CODEGEN_MAX_NODES` objects and interpreted by
  ``jsonschema`` beyond (generating and compiling Python for 20,000 properties takes
  seconds and gigabytes).
"""

from __future__ import annotations

import copy
import hashlib
import json
from collections.abc import Callable, Iterator, Mapping
from typing import TYPE_CHECKING, Any
from urllib.parse import urldefrag, urljoin, urlsplit

import fastjsonschema
import re2

if TYPE_CHECKING:
    import jsonschema
    from jsonschema.exceptions import ValidationError

#: The most objects (mappings) one stream's schema may hold.
MAX_NODES = 50_000
#: Up to this many objects a schema is compiled to Python (fast per entry); beyond,
#: interpreted by jsonschema (no compile cost, slower per entry).
CODEGEN_MAX_NODES = 2_000
#: Keys whose values are data, not schemas (a ``$ref`` or ``pattern`` in them means nothing).
_DATA_KEYS = frozenset({"enum", "const", "examples", "default"})

_OPTIONS = re2.Options()
_OPTIONS.log_errors = False  # RE2 would print its own line to stderr
_REGEXES: dict[str, Any] = {}

Loc = tuple[object, ...]


class SchemaRefused(Exception):
    """A schema that is not run: ``path`` is where in it, ``message`` what and why."""

    def __init__(self, path: Loc, message: str) -> None:
        super().__init__(message)
        self.path = path
        self.message = message


def linear(pattern: str) -> Any:
    """``pattern`` compiled by RE2 (cached); raises :class:`re2.error`."""
    found = _REGEXES.get(pattern)
    if found is None:
        found = re2.compile(pattern, _OPTIONS)
        if len(_REGEXES) < 10_000:
            _REGEXES[pattern] = found
    return found


def _regex_problem(pattern: str) -> str | None:
    try:
        linear(pattern)
    except re2.error as error:
        reason = error.args[0].decode("utf-8", "replace") if error.args and isinstance(error.args[0], bytes) else str(error)
        return (
            f"pattern '{pattern}' cannot be used: {reason} (patterns run on RE2, in linear time: "
            "no backreferences or lookaround)"
        )
    return None


def _walk(schema: Any) -> Iterator[tuple[Loc, Mapping[str, Any]]]:
    """Every mapping of a schema with its path (data keywords not entered)."""
    stack: list[tuple[Loc, Any]] = [((), schema)]
    while stack:
        path, node = stack.pop()
        if isinstance(node, Mapping):
            yield path, node
            for key, value in node.items():
                if key not in _DATA_KEYS and isinstance(value, (Mapping, list)):
                    stack.append(((*path, key), value))
        elif isinstance(node, list):
            for index, value in enumerate(node):
                if isinstance(value, (Mapping, list)):
                    stack.append(((*path, index), value))


def vet(schema: Mapping[str, Any], *, draft4: bool = False) -> int:
    """Refuse what must not run (see the module doc); the number of objects in ``schema``."""
    ids = {""}
    bases: dict[Loc, str] = {(): ""}
    refs: list[tuple[Loc, str, str]] = []
    nodes = 0
    for path, node in _walk(schema):
        nodes += 1
        if nodes > MAX_NODES:
            raise SchemaRefused((), f"the schema holds more than {MAX_NODES:,} objects: too big to check entries against")
        base = next(bases[path[:end]] for end in range(len(path), -1, -1) if path[:end] in bases)
        declared = node.get("$id", node.get("id") if draft4 else None)
        if isinstance(declared, str) and not declared.startswith("#"):
            base = urldefrag(urljoin(base, declared) if base else declared).url
            ids.add(base)
            bases[path] = base
        ref = node.get("$ref")
        if isinstance(ref, str):
            refs.append((path, ref, base))
        pattern = node.get("pattern")
        if isinstance(pattern, str):
            problem = _regex_problem(pattern)
            if problem:
                raise SchemaRefused((*path, "pattern"), problem)
        patterns = node.get("patternProperties")
        if isinstance(patterns, Mapping):
            for key in patterns:
                problem = _regex_problem(str(key))
                if problem:
                    raise SchemaRefused((*path, "patternProperties", key), problem)
    for path, ref, base in refs:
        target = urljoin(base, ref) if base else ref
        if urldefrag(target).url not in ids:
            shown = ref if target == ref else f"{ref} (that is {target})"
            raise SchemaRefused(
                path,
                f"$ref {shown!r} is not followed: only references inside the schema (#/...) "
                "are; put the schema it names in the catalog or a file beside it",
            )
    return nodes


# --------------------------------------------------------------------------- compiled


def _key(schema: Mapping[str, Any]) -> str:
    text = json.dumps(schema, sort_keys=True, separators=(",", ":"), default=repr)
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()


_CHECKED: set[str] = set()
_COMPILED: dict[str, Callable[[Any], Any]] = {}


def check_schema(schema: Mapping[str, Any]) -> str:
    """Vet ``schema`` and check it against its draft's meta-schema (once per distinct
    schema); raises :class:`SchemaRefused` or :class:`jsonschema.SchemaError`. Returns
    the key :func:`compiled` takes.

    A schema of draft 4, 6 or 7 (or naming none: draft 7) that its meta-schema accepts is
    checked without importing jsonschema (~0.05 s of a command's start); any other, or
    one refused, is checked by jsonschema, which says where it is wrong."""
    key = _key(schema)
    if key not in _CHECKED:
        draft = _draft_of(schema)
        light = None if draft is None else _light_meta_check(draft)
        if light is not None:
            vet(schema, draft4=draft == "draft4")
        if light is None or not _accepts(light, schema):
            _full_check(schema, refused=light is not None)
        if len(_CHECKED) < 10_000:
            _CHECKED.add(key)
    return key


#: The drafts whose meta-schema is read from ``jsonschema_specifications``' files (not
#: imported: its ``referencing`` is the heavy part), by the ``$schema`` naming them, as
#: jsonschema's ``validator_for`` reads it (an empty fragment dropped).
_DRAFTS = {
    "http://json-schema.org/draft-04/schema": "draft4",
    "http://json-schema.org/draft-06/schema": "draft6",
    "http://json-schema.org/draft-07/schema": "draft7",
}
#: The draft of a schema that names none (jsonschema's Draft7Validator here).
_DEFAULT_DRAFT = "draft7"


def _draft_of(schema: Mapping[str, Any]) -> str | None:
    """The draft of :data:`_DRAFTS` that ``schema`` is written in, or None (another)."""
    if "$schema" not in schema:
        return _DEFAULT_DRAFT
    named = schema["$schema"]
    if not isinstance(named, str):
        return None
    try:
        return _DRAFTS.get(urlsplit(named).geturl())
    except ValueError:
        return None


_LIGHT_META: dict[str, Callable[[Any], Any] | None] = {}


def _light_meta_check(draft: str) -> Callable[[Any], Any] | None:
    """The meta-schema of ``draft`` compiled by fastjsonschema, read from
    ``jsonschema_specifications``' own file (None if it cannot be)."""
    if draft not in _LIGHT_META:
        from importlib.util import find_spec
        from pathlib import Path

        try:
            spec = find_spec("jsonschema_specifications")
            folders = list(spec.submodule_search_locations or []) if spec is not None else []
            meta = json.loads((Path(folders[0]) / "schemas" / draft / "metaschema.json").read_text("utf-8"))
            _LIGHT_META[draft] = _compile_meta(meta)
        except Exception:
            _LIGHT_META[draft] = None
    return _LIGHT_META[draft]


def _accepts(meta_check: Callable[[Any], Any] | None, schema: Mapping[str, Any]) -> bool:
    """Whether a compiled meta-schema (None: none could be) accepts ``schema``."""
    if meta_check is None:
        return False
    try:
        meta_check(schema)  # the meta-schema compiled: 0.4 s instead of 3 s for 20,000 properties
    except fastjsonschema.JsonSchemaValueException:
        return False
    return True


def _full_check(schema: Mapping[str, Any], *, refused: bool = False) -> None:
    """:func:`check_schema` by jsonschema: raises where the schema is wrong.
    ``refused``: the schema is vetted and its draft's compiled meta-schema refused it
    (jsonschema only says where)."""
    import jsonschema

    cls = jsonschema.validators.validator_for(schema, default=jsonschema.Draft7Validator)
    if not refused:
        vet(schema, draft4=cls is jsonschema.Draft4Validator)
        if _accepts(_meta_check(cls), schema):
            return
    # jsonschema says where the schema is wrong (SchemaError.path)
    cls.check_schema(dict(schema), format_checker=format_checker(cls))  # type: ignore[call-arg]


def is_schema_error(error: BaseException) -> bool:
    """Whether ``error`` is jsonschema's ``SchemaError`` (without importing jsonschema:
    if it was never imported, nothing raised one)."""
    import sys

    module = sys.modules.get("jsonschema.exceptions")
    return module is not None and isinstance(error, module.SchemaError)


_META: dict[type[Any], Callable[[Any], Any] | None] = {}


def _meta_check(cls: type[Any]) -> Callable[[Any], Any] | None:
    """``cls``'s meta-schema compiled by fastjsonschema (None if it cannot be)."""
    if cls not in _META:
        try:
            _META[cls] = _compile_meta(cls.META_SCHEMA)
        except Exception:
            _META[cls] = None
    return _META[cls]


def _compile_meta(meta: Mapping[str, Any]) -> Callable[[Any], Any]:
    """A meta-schema compiled by fastjsonschema, to say only yes or no (jsonschema says
    what is wrong): without its detailed exceptions, whose code takes ~8x longer to
    compile (0.08 s instead of 0.01 s for draft 7's), where fastjsonschema offers that.
    A copy is compiled: fastjsonschema rewrites the ``$ref`` values in what it is given (here
    jsonschema's own ``META_SCHEMA``)."""
    from xtape.catalog.codecache import compile_cached  # (its code kept between runs)

    try:
        return compile_cached(
            copy.deepcopy(dict(meta)), handlers=_NO_REMOTE, formats={"regex": _is_regex}, detailed_exceptions=False
        )
    except TypeError:  # (a fastjsonschema before 2.21)
        return compile_cached(copy.deepcopy(dict(meta)), handlers=_NO_REMOTE, formats={"regex": _is_regex})


def compiled(schema: Mapping[str, Any], key: str) -> Callable[[Any], Any]:
    """The function that checks a payload against ``schema`` (checked by
    :func:`check_schema`, whose ``key`` this is): raises
    ``fastjsonschema.JsonSchemaValueException`` on the first problem."""
    found = _COMPILED.get(key)
    if found is not None:
        return found
    nodes = [node for _, node in _walk(schema)]
    found = None
    if len(nodes) <= CODEGEN_MAX_NODES and not any(_backtracks_when_compiled(n) for n in nodes):
        from xtape.catalog.codecache import compile_cached  # (its code kept between runs)

        try:
            found = compile_cached(dict(schema), handlers=_NO_REMOTE, formats={"regex": _is_regex}, use_formats=True)
        except Exception:  # what jsonschema accepts and fastjsonschema does not: interpreted
            found = None
        regexes = getattr(found, "__wrapped__", found).__globals__.get("REGEX_PATTERNS") if found else None
        if isinstance(regexes, dict):
            user = {p for node in nodes for p in _patterns(node)}
            for pattern in list(regexes):
                if pattern in user:
                    regexes[pattern] = linear(pattern)
    if found is None:
        found = _interpreted(schema)
    if len(_COMPILED) < 256:
        _COMPILED[key] = found
    return found


def _backtracks_when_compiled(node: Mapping[str, Any]) -> bool:
    """fastjsonschema matches ``required`` names against ``patternProperties`` with
    Python's ``re`` while it compiles an object with ``additionalProperties: false``:
    such a schema is interpreted instead (its regexes on RE2)."""
    return bool(node.get("patternProperties")) and bool(node.get("required")) and node.get("additionalProperties") is False


def _patterns(node: Mapping[str, Any]) -> Iterator[str]:
    if isinstance(node.get("pattern"), str):
        yield node["pattern"]
    if isinstance(node.get("patternProperties"), Mapping):
        yield from (str(k) for k in node["patternProperties"])


def _interpreted(schema: Mapping[str, Any]) -> Callable[[Any], Any]:
    """A big schema checked by jsonschema, failing as the compiled function does."""
    cls = explainer_class(schema)
    validator = cls(schema, format_checker=format_checker(cls))

    def validate(value: Any) -> Any:
        from jsonschema.exceptions import best_match

        error = best_match(validator.iter_errors(value))
        if error is not None:
            path = ["data", *error.absolute_path]
            raise fastjsonschema.JsonSchemaValueException(
                " ".join(error.message.split()), value=error.instance, name=".".join(map(str, path)),
                definition=error.schema, rule=str(error.validator),
            )  # fmt: skip
        return value

    return validate


def _no_remote(uri: str) -> Any:
    raise ValueError(f"remote $ref {uri!r} is not fetched; put the schema in the catalog or a file beside it")


#: fastjsonschema's fetchers, all refusing (a second guard: :func:`vet` refuses first).
_NO_REMOTE: dict[str, Callable[[str], Any]] = {
    scheme: _no_remote for scheme in ("http", "https", "file", "ftp", "ftps", "data", "urn", "")
}


# --------------------------------------------------------------------------- jsonschema


def _pattern(validator: Any, pattern: str, instance: Any, schema: Any) -> Iterator[ValidationError]:
    from jsonschema.exceptions import ValidationError

    if validator.is_type(instance, "string") and not linear(pattern).search(instance):
        yield ValidationError(f"{instance!r} does not match {pattern!r}")


def _pattern_properties(validator: Any, patterns: Mapping[str, Any], instance: Any, schema: Any) -> Iterator[ValidationError]:
    if not validator.is_type(instance, "object"):
        return
    for pattern, subschema in patterns.items():
        regex = linear(pattern)
        for key, value in instance.items():
            if regex.search(key):
                yield from validator.descend(value, subschema, path=key, schema_path=pattern)


def additional(instance: Mapping[str, Any], schema: Mapping[str, Any]) -> list[str]:
    """The keys of ``instance`` that neither ``properties`` nor ``patternProperties`` cover."""
    properties = schema.get("properties") or {}
    regexes = [linear(p) for p in schema.get("patternProperties") or {}]
    return [k for k in instance if k not in properties and not any(r.search(k) for r in regexes)]


def _additional_properties(validator: Any, allowed: Any, instance: Any, schema: Any) -> Iterator[ValidationError]:
    from jsonschema.exceptions import ValidationError

    if not validator.is_type(instance, "object"):
        return
    extras = additional(instance, schema)
    if validator.is_type(allowed, "object"):
        for extra in extras:
            yield from validator.descend(instance[extra], allowed, path=extra)
    elif not allowed and extras:
        listed = ", ".join(repr(e) for e in sorted(extras))
        yield ValidationError(f"Additional properties are not allowed ({listed} {'was' if len(extras) == 1 else 'were'} unexpected)")


_EXPLAINERS: dict[type[Any], type[Any]] = {}
_CHECKERS: dict[type[Any], jsonschema.FormatChecker] = {}


def _is_regex(value: Any) -> bool:
    """``format: regex``: a text RE2 compiles (it is what runs patterns here)."""
    if not isinstance(value, str):
        return True
    try:
        linear(value)
    except re2.error:
        return False
    return True


def format_checker(cls: type[Any]) -> jsonschema.FormatChecker:
    """``cls``'s format checker with ``regex`` checked by RE2 (not by compiling with
    Python's ``re``: slow for thousands of patterns, and not the engine that runs them)."""
    found = _CHECKERS.get(cls)
    if found is None:
        found = copy.copy(cls.FORMAT_CHECKER)
        found.checkers = {**found.checkers, "regex": (_is_regex, ())}
        _CHECKERS[cls] = found
    return found


def explainer_class(schema: Mapping[str, Any]) -> type[Any]:
    """The jsonschema validator class for ``schema``'s draft, its regexes on RE2."""
    import jsonschema

    cls = jsonschema.validators.validator_for(schema, default=jsonschema.Draft7Validator)
    found = _EXPLAINERS.get(cls)
    if found is None:
        found = _EXPLAINERS[cls] = jsonschema.validators.extend(  # type: ignore[no-untyped-call]
            cls,
            {
                "pattern": _pattern,
                "patternProperties": _pattern_properties,
                "additionalProperties": _additional_properties,
            },
        )
    return found


__all__ = [
    "CODEGEN_MAX_NODES",
    "MAX_NODES",
    "SchemaRefused",
    "additional",
    "check_schema",
    "compiled",
    "explainer_class",
    "is_schema_error",
    "linear",
    "vet",
]

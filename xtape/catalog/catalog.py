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
import os
from collections.abc import Mapping, Sequence
from pathlib import Path

from xtape.catalog.discover import CATALOG_ENV, CATALOG_NAME, find_catalog_path
from xtape.catalog.reader import FIELD_TYPES, CatalogReader
from xtape.catalog.schema import NO_PROBLEMS, Problem, StreamSchema
from xtape.errors import CatalogError, CatalogInvalid, InputError, YamlError
from xtape.scenario.plan import EventPlan, Plan
from xtape.yamlfile.check import Checker, MappedLines
from xtape.yamlfile.load import load_yaml

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
        raise CatalogError(shown, None, f"cannot read the catalog: {error.strerror or error}") from None
    except UnicodeDecodeError:
        raise CatalogError(shown, None, "not UTF-8 text") from None
    return load_catalog_text(text, shown, base=Path(path).parent, trusted=trusted)


def load_catalog_text(
    text: str, path: str = "<catalog>", *, base: Path | None = None, trusted: bool = True
) -> Catalog:
    """A catalog from YAML ``text``; ``base`` is where schema files and models are looked for."""
    try:
        data, lines = load_yaml(text, path)
    except YamlError as error:
        raise CatalogError(path, error.line, error.reason) from None
    reader = CatalogReader(Checker(path, MappedLines(lines, 1), CatalogError), base or Path("."), trusted=trusted)
    found = reader.catalog(data)
    errors = reader.check.errors()
    if errors:
        raise errors[0] if len(errors) == 1 else CatalogInvalid(errors)
    assert found is not None
    streams, strict = found
    return Catalog(streams, path=path, strict=strict, unchecked=reader.unchecked)


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

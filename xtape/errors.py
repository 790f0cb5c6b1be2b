"""Every error xtape raises on purpose.

    XtapeError                  base; ``exit_code`` tells the CLI how to exit
    ├── InputError              exit 2: the user's input is wrong
    │   ├── LocatedError        a file invalid at path:line (base of the Scenario, Catalog,
    │   │   │                   Case and DiffRules errors below)
    │   │   └── YamlError       a file that is not YAML xtape reads (path:line: invalid YAML: ...)
    │   ├── UsageError          a bad option value or combination
    │   │   ├── InvalidStreamId an entry id that is not ``ms-seq`` below 2^64
    │   │   ├── KeepIdsConflict ``--keep-ids`` into a stream whose ids are already higher
    │   │   ├── KeepIdsOrder    ``--keep-ids`` with ids that do not increase on a stream
    │   │   ├── UnknownVariable a --variable the scenario neither uses nor defines
    │   │   └── InvalidRedisUrl a Redis URL (or TLS option) that cannot be used as given
    │   ├── RedisRefused        Redis answered but will not serve the URL as given
    │   │   ├── RedisAuthFailed     wrong, missing or unexpected password
    │   │   ├── RedisNoDatabase     no such database number
    │   │   ├── RedisClusterNode    a database other than 0 on a cluster node
    │   │   └── RedisTlsFailed      TLS handshake failed (plain port, untrusted cert)
    │   ├── CaseError           a regression case file is invalid (path:line: what)
    │   ├── ConfigError         a command's config file (record --config) is invalid
    │   ├── ScenarioError       a scenario file is invalid (path:line: what)
    │   │   └── ScenarioInvalid several problems at once (``errors``: each of them)
    │   ├── RenderError         a scenario cannot be rendered (missing variable, generator)
    │   ├── DiffRulesError      diff rules (a rules file, a case's diff section) are invalid
    │   ├── MergeConflict       merge: the same stream with different entries in two files
    │   ├── RecordingError      a file is not a readable recording
    │   │   ├── DamagedRecording    a record of the wrong shape, at byte N
    │   │   └── NotOneRecording     a folder or glob of files that are not one recording
    │   │                           (defined in xtape.recording.series)
    │   ├── PlotUnavailable     ``xtape plot`` without its optional extra (matplotlib)
    │   ├── CodecUnavailable    a compression (lz4) whose optional extra is missing
    │   ├── ExtraUnavailable    export/import without its optional extra (pyarrow, mcap)
    │   ├── InvalidReport       a file given as a replay ``--json`` report that is not one
    │   ├── CatalogError        a stream catalog (streams.yaml) is invalid (path:line: what)
    │   │   └── CatalogInvalid  several problems at once (``errors``: each of them)
    │   └── CatalogMismatch     an event does not match the catalog (unknown stream, payload)
    └── RuntimeFailure          exit 1: the world failed us
        ├── RedisUnavailable    the server at a (redacted) URL cannot be reached
        ├── WriteFailed         a recording could not be written (a full disk)
        ├── CommandRefused      a server's error reply to one command (``code``: MOVED, NOPERM...)
        ├── ServiceFailed       the service under test did not start or become ready
        ├── PublishFailed       Redis refused so many entries in a row that going on is pointless
        └── ReplayAborted       a replay stopped by a failure, with the report of what was done

The CLI catches ``XtapeError`` once, prints ``str(error)`` on one line and exits with
``error.exit_code``. Messages are built in ``__init__`` so they read the same everywhere.
An error about a file takes its path first; every located one is built
``SomeError(path, line, message)``, the order its message reads.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from xtape.timeline import display_name

if TYPE_CHECKING:
    from xtape.replay.report import ReplayReport


class XtapeError(Exception):
    """Base of all errors xtape raises on purpose."""

    exit_code: int = 1


class InputError(XtapeError):
    """The user's input (a file, an option) is invalid: exit code 2."""

    exit_code = 2


class UsageError(InputError):
    """A bad option value or combination."""


class InvalidStreamId(UsageError):
    """Text that is not a stream entry id (``ms-seq``, each part below 2^64)."""

    def __init__(self, text: bytes | str, why: str = "") -> None:
        shown = text.decode("utf-8", "backslashreplace") if isinstance(text, bytes) else text
        self.text = shown
        detail = f": {why}" if why else ""
        super().__init__(
            f"invalid entry id {shown[:60]!r}{detail} (expected MS-SEQ, e.g. 1700000000000-0)"
        )


class InvalidRedisUrl(UsageError):
    """A Redis URL that cannot be used as given. ``url`` must already be redacted."""

    def __init__(self, url: str, why: str) -> None:
        self.url = url
        super().__init__(f"invalid Redis URL {url}: {why}")


class RedisRefused(InputError):
    """Redis answered, but will not serve the URL as given (exit 2: the URL must change).

    ``url`` is always the redacted URL.
    """

    def __init__(self, url: str, what: str) -> None:
        self.url = url
        super().__init__(f"Redis at {url} {what}")


class RedisAuthFailed(RedisRefused):
    """The server refused the credentials, wants a password, or has none to check.

    ``source`` names where the password came from (``the URL``, ``$REDISCLI_AUTH``...),
    None when none was given; ``user_only`` tells that the URL gave a user name alone.
    """

    def __init__(self, url: str, reason: str, source: str | None, user_only: bool = False) -> None:
        self.reason = reason
        where = "put it in $XTAPE_REDIS_PASSWORD (or $REDISCLI_AUTH) or in the URL"
        if "without any password configured" in reason:
            what = f"has no password set, but one was given ({source}): {reason}"
        elif source is None and user_only:
            what = (
                f"refused a user name given without a password ({reason}); if it is the "
                f"password, write redis://:PASSWORD@host or {where}"
            )
        elif source is None:
            what = f"needs a password ({reason}); {where}"
        else:
            what = f"refused the password from {source} ({reason})"
        super().__init__(url, what)


class RedisNoDatabase(RedisRefused):
    """The URL names a database number the server does not have."""

    def __init__(self, url: str, db: int, databases: int | None) -> None:
        self.db = db
        have = f" (databases 0-{databases - 1})" if databases else ""
        super().__init__(url, f"has no database {db}{have}")


class RedisClusterNode(RedisRefused):
    """The URL names a database other than 0 on a node of a Redis Cluster (a cluster has
    only database 0)."""

    def __init__(self, url: str) -> None:
        super().__init__(
            url,
            "is a node of a Redis Cluster, which has only database 0 (use .../0 or no database)",
        )


class RedisTlsFailed(RedisRefused):
    """The TLS handshake failed: a plain port, an untrusted certificate, a bad key."""

    def __init__(self, url: str, reason: str, hint: str = "") -> None:
        self.reason = reason
        super().__init__(url, f"did not complete a TLS handshake: {reason}{hint}")


class LocatedError(InputError):
    """An input file is invalid at a place: the message starts with ``path:line:``
    (or ``path:`` where no line is known); ``reason`` is the message without it.

    Every located error is built the same way, in the order it reads:
    ``SomeError(path, line, message)`` (``path``/``line`` None where unknown).
    """

    def __init__(self, path: str | None, line: int | None, message: str) -> None:
        self.path = path
        self.line = line
        self.reason = message
        where = ""
        if path is not None:
            where = f"{path}:{line}: " if line is not None else f"{path}: "
        super().__init__(f"{where}{message}")


class YamlError(LocatedError):
    """A file that is not YAML xtape reads (``path:line: invalid YAML: ...``, a duplicate
    key, an alias bomb); each reader turns it into its own error (ScenarioError...)."""


class ScenarioError(LocatedError):
    """A scenario file is invalid; the message starts with ``path:line:``."""


class ScenarioInvalid(ScenarioError):
    """A scenario with several problems: ``errors`` holds each (one line each, in file order).

    The message is the first one and how many more there are; ``xtape validate`` prints
    them all.
    """

    def __init__(self, errors: list[InputError]) -> None:
        self.errors = list(errors)
        first = self.errors[0]
        more = len(self.errors) - 1
        InputError.__init__(
            self,
            f"{first} (and {more} more error{'s' if more > 1 else ''}; xtape validate lists them all)",
        )
        self.path = getattr(first, "path", None)
        self.line = getattr(first, "line", None)
        self.reason = str(first)


class RenderError(InputError):
    """A valid scenario that cannot be rendered: an undefined variable, a missing generator."""


class UnknownVariable(UsageError):
    """A ``--variable NAME=...`` that the scenario neither uses nor defines (a typo?).

    ``scenario`` names the file; None when several files were checked together and none
    of them knows the name.
    """

    def __init__(self, name: str, scenario: str | None, known: list[str]) -> None:
        self.name = name
        import difflib  # (only to suggest a name: not at every start)

        close = difflib.get_close_matches(name, known, n=1)
        if close:
            hint = f"did you mean {close[0]!r}?"
        elif known:
            listed = f"{', '.join(known[:10])}{', ...' if len(known) > 10 else ''}"
            hint = f"{'its' if scenario is not None else 'their'} variables: {listed}"
        else:
            hint = "it has no variables" if scenario is not None else "they have no variables"
        if scenario is None:
            message = f"unknown --variable {name!r}: none of the scenarios uses or defines it ({hint})"
        else:
            message = f"{scenario}: unknown --variable {name!r}: the scenario neither uses nor defines it ({hint})"
        super().__init__(message)


class DiffRulesError(LocatedError):
    """Diff rules that cannot be used; the message starts with ``where:line:`` when known."""


class RecordingError(InputError):
    """A file that is not a recording xtape can read."""

    def __init__(self, path: str, message: str) -> None:
        self.path = path
        super().__init__(f"{path}: {message}")


class DamagedRecording(RecordingError):
    """A recording with a record that cannot be read or has the wrong shape."""

    def __init__(self, path: str, offset: int, reason: str) -> None:
        self.offset = offset
        self.reason = reason
        super().__init__(path, f"damaged at byte {offset}: {reason}")


class PlotUnavailable(InputError):
    """``xtape plot`` needs the optional ``plot`` extra (matplotlib), which is missing."""

    def __init__(self, missing: str) -> None:
        self.missing = missing
        super().__init__(
            f"xtape plot needs {missing}, which is not installed; install the plot extra: "
            "pip install 'xtape[plot]'"
        )


class CodecUnavailable(InputError):
    """A chunk compression whose package (an optional extra) is not installed."""

    def __init__(self, name: str, extra: str, *, writing: bool = False) -> None:
        self.name = name
        self.extra = extra
        need = f"--compression {name} needs the {extra} package:" if writing else f"this recording's chunks are {name}:"
        super().__init__(f"{need} pip install 'xtape[{extra}]'")


class ExtraUnavailable(InputError):
    """What a command needs is in an optional extra that is not installed."""

    def __init__(self, what: str, module: str, extra: str) -> None:
        self.module = module
        self.extra = extra
        super().__init__(f"{what} needs {module}, which is not installed: pip install 'xtape[{extra}]'")


class InvalidReport(InputError):
    """A file given as a replay report (``xtape replay --json`` output) that is not one."""

    def __init__(self, path: str, why: str) -> None:
        self.path = path
        super().__init__(f"{path}: not a replay --json report: {why}")


class CatalogError(LocatedError):
    """A stream catalog (``streams.yaml``) is invalid; the message starts with ``path:line:``."""


class CatalogInvalid(CatalogError):
    """A catalog with several problems: ``errors`` holds each (one line each, in file order)."""

    def __init__(self, errors: list[CatalogError]) -> None:
        self.errors = list(errors)
        first = self.errors[0]
        more = len(self.errors) - 1
        InputError.__init__(self, f"{first} (and {more} more error{'s' if more > 1 else ''})")
        self.path = first.path
        self.line = first.line
        self.reason = str(first)


class CatalogMismatch(InputError):
    """A scenario event that the stream catalog refuses: a stream it does not know, or a
    payload its schema does not allow (``path:line: events[3].payload.x: what``)."""


class RuntimeFailure(XtapeError):
    """Something outside the user's input failed: exit code 1."""

    exit_code = 1


class RedisUnavailable(RuntimeFailure):
    """The Redis server cannot be reached. ``url`` must already be redacted."""

    def __init__(self, url: str, reason: str) -> None:
        self.url = url
        super().__init__(f"cannot reach Redis at {url}: {reason}")


class WriteFailed(RuntimeFailure):
    """Writing a recording failed (a full disk, an I/O error): ``cannot write PATH: why``."""

    def __init__(self, name: str, why: str) -> None:
        super().__init__(f"cannot write {name}: {why}")


class CommandRefused(RuntimeFailure):
    """A server answered one command with an error (returned in place among pipelined
    replies, or raised). The text is the reply's without its error code (as redis-py
    words it); ``code`` keeps the code for the ones that steer (``MOVED``, ``ASK``...)."""

    def __init__(self, message: str, code: str = "") -> None:
        self.code = code
        super().__init__(message)


class PublishFailed(RuntimeFailure):
    """Redis refused ``refused`` entries in a row (``replay`` without ``--keep-going``)."""

    def __init__(self, refused: int, first_error: str) -> None:
        self.refused = refused
        self.first_error = first_error
        super().__init__(
            f"Redis refused {refused} entries in a row, the first with: {first_error}; "
            "stopping (pass --keep-going to go on regardless)"
        )


class ReplayAborted(RuntimeFailure):
    """A replay that a failure (``cause``) stopped early; ``report`` tells what was done
    (only entries Redis confirmed count as published)."""

    def __init__(self, cause: XtapeError, report: ReplayReport) -> None:
        self.cause = cause
        self.report = report
        self.exit_code = cause.exit_code
        super().__init__(str(cause))


def _id_text(entry_id: bytes) -> str:
    return entry_id.decode("utf-8", "backslashreplace")


class KeepIdsConflict(UsageError):
    """``--keep-ids`` would publish an id that the target stream cannot take."""

    def __init__(self, stream: bytes, first_id: bytes, top_id: bytes) -> None:
        self.stream = stream
        self.first_id = first_id
        self.top_id = top_id
        super().__init__(
            f"cannot keep ids: stream '{display_name(stream)}' already has ids up to "
            f"{_id_text(top_id)} and the first id to replay into it is {_id_text(first_id)}; "
            "replay into a fresh target (an empty database, or --prefix/--map), "
            "or drop --keep-ids"
        )


class KeepIdsOrder(UsageError):
    """``--keep-ids`` with a timeline whose ids on one stream cannot all be published
    in order (Redis takes only increasing ids)."""

    def __init__(self, stream: bytes, entry_id: bytes, previous: bytes | None) -> None:
        self.stream = stream
        self.entry_id = entry_id
        self.previous = previous
        after = (
            "an event without an id (which Redis gives the current time)"
            if previous is None
            else f"id {_id_text(previous)}"
        )
        super().__init__(
            f"cannot keep ids: on stream '{display_name(stream)}' id {_id_text(entry_id)} "
            f"comes after {after}, and Redis only takes increasing ids; give every event of "
            "the stream an increasing id (a scenario converted with --collapse-repeats has "
            "none for repeats: convert without it), or drop --keep-ids"
        )


class MergeConflict(InputError):
    """``merge``: two recordings hold the same stream with different entries."""

    def __init__(self, stream: bytes, first: str, second: str, why: str) -> None:
        self.stream = stream
        super().__init__(
            f"cannot merge {first} and {second}: both hold stream '{display_name(stream)}' "
            f"and {why} (only byte-identical duplicates of a stream can be merged)"
        )


class CaseError(LocatedError):
    """A regression case file (``xtape test``) is invalid; the message starts with
    ``path:line:`` (``path:`` when no line applies)."""


class ConfigError(LocatedError):
    """A config file (``xtape record --config``) is invalid: ``path:line: key: what``."""


class ServiceFailed(RuntimeFailure):
    """The service under test (``xtape test``) did not start, exited early or never
    became ready; ``output`` is the end of what it printed."""

    def __init__(self, what: str, output: str = "") -> None:
        self.what = what
        self.output = output
        super().__init__(f"the service {what}")

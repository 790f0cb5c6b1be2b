"""Every error xtape raises on purpose.

    XtapeError                  base; ``exit_code`` tells the CLI how to exit
    ├── InputError              exit 2: the user's input is wrong
    │   ├── UsageError          a bad option value or combination
    │   │   ├── InvalidStreamId an entry id that is not ``ms-seq`` below 2^64
    │   │   ├── KeepIdsConflict ``--keep-ids`` into a stream whose ids are already higher
    │   │   └── KeepIdsOrder    ``--keep-ids`` with ids that do not increase on a stream
    │   ├── ScenarioError       a scenario file is invalid (path:line: what)
    │   ├── RenderError         a scenario cannot be rendered (missing variable, generator)
    │   └── RecordingError      a file is not a readable recording
    └── RuntimeFailure          exit 1: the world failed us
        ├── RedisUnavailable    the server at a (redacted) URL cannot be reached
        ├── PublishFailed       Redis refused so many entries in a row that going on is pointless
        └── ReplayAborted       a replay stopped by a failure, with the report of what was done

The CLI catches ``XtapeError`` once, prints ``str(error)`` on one line and exits with
``error.exit_code``. Messages are built in ``__init__`` so they read the same everywhere.
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


class ScenarioError(InputError):
    """A scenario file is invalid; the message starts with ``path:line:``."""

    def __init__(self, message: str, path: str | None = None, line: int | None = None) -> None:
        self.path = path
        self.line = line
        self.reason = message
        where = ""
        if path is not None:
            where = f"{path}:{line}: " if line is not None else f"{path}: "
        super().__init__(f"{where}{message}")


class RenderError(InputError):
    """A valid scenario that cannot be rendered: an undefined variable, a missing generator."""


class RecordingError(InputError):
    """A file that is not a recording xtape can read."""

    def __init__(self, path: str, message: str) -> None:
        self.path = path
        super().__init__(f"{path}: {message}")


class RuntimeFailure(XtapeError):
    """Something outside the user's input failed: exit code 1."""

    exit_code = 1


class RedisUnavailable(RuntimeFailure):
    """The Redis server cannot be reached. ``url`` must already be redacted."""

    def __init__(self, url: str, reason: str) -> None:
        self.url = url
        super().__init__(f"cannot reach Redis at {url}: {reason}")


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

"""Every error xtape raises on purpose.

    XtapeError                  base; ``exit_code`` tells the CLI how to exit
    ├── InputError              exit 2: the user's input is wrong
    │   ├── UsageError          a bad option value or combination
    │   │   └── InvalidStreamId an entry id that is not ``ms-seq`` below 2^64
    │   ├── ScenarioError       a scenario file is invalid (path:line: what)
    │   ├── RenderError         a scenario cannot be rendered (missing variable, generator)
    │   └── RecordingError      a file is not a readable recording
    │       └── DamagedRecording    a record of the wrong shape, at byte N
    └── RuntimeFailure          exit 1: the world failed us
        ├── RedisUnavailable    the server at a (redacted) URL cannot be reached
        └── PublishFailed       Redis refused what we sent

The CLI catches ``XtapeError`` once, prints ``str(error)`` on one line and exits with
``error.exit_code``. Messages are built in ``__init__`` so they read the same everywhere.
"""

from __future__ import annotations


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


class DamagedRecording(RecordingError):
    """A recording with a record that cannot be read or has the wrong shape."""

    def __init__(self, path: str, offset: int, reason: str) -> None:
        self.offset = offset
        self.reason = reason
        super().__init__(path, f"damaged at byte {offset}: {reason}")


class RuntimeFailure(XtapeError):
    """Something outside the user's input failed: exit code 1."""

    exit_code = 1


class RedisUnavailable(RuntimeFailure):
    """The Redis server cannot be reached. ``url`` must already be redacted."""

    def __init__(self, url: str, reason: str) -> None:
        self.url = url
        super().__init__(f"cannot reach Redis at {url}: {reason}")


class PublishFailed(RuntimeFailure):
    """Redis refused an entry in a way that makes going on pointless."""

"""Where every message for the user goes: standard error, as text or as JSON lines.

The one place a message reaches stderr is :func:`emit`. With ``--log-format json`` (an
option of every command, or ``$XTAPE_LOG_FORMAT``) each message is one JSON object on
one line, for log shippers::

    {"ts": "2026-12-05T19:40:32.114Z", "level": "warning", "event": "reconnected",
     "message": "reconnected to redis://127.0.0.1:6379/0", "url": "...", "down_s": 1.2}

``ts`` (UTC, milliseconds), ``level`` (``debug``, ``info``, ``warning``, ``error``),
``event`` (what happened: ``gap``, ``reconnected``, ``progress``, ``recorded``, ...;
``warning``/``error``/``message`` for plain text) and ``message`` (the text line the
default format prints, without its ``xtape: warning:`` prefix) are always there; the
event's fields follow (docs/cli.md lists them). The default stays text, unchanged.
A live progress line is never drawn in JSON: a ``progress`` event is written every
``$XTAPE_LOG_PROGRESS_EVERY`` (a duration, default 1m) instead.

Nothing heavy is imported: every command imports this module.
"""

from __future__ import annotations

import logging
import os
import sys
from collections.abc import Mapping
from typing import Any

from xtape.notice import event_of

FORMATS = ("text", "json")
ENV = "XTAPE_LOG_FORMAT"
PROGRESS_ENV = "XTAPE_LOG_PROGRESS_EVERY"
OPTION = "--log-format"
HELP = (
    "How messages on standard error are written: text, or json (one JSON object per line "
    "with ts, level, event and fields, for log shippers; also $XTAPE_LOG_FORMAT)."
)

#: The prefixes of the text lines printed without an event of their own, and what they
#: are in JSON: level, event.
_PREFIXES = (
    ("xtape: error: ", "error", "error"),
    ("xtape: warning: ", "warning", "warning"),
    ("xtape: note: ", "info", "note"),
    ("xtape: interrupted", "warning", "interrupted"),
    ("xtape: ", "info", "message"),
)
_TEXT_PREFIX = {"error": "xtape: error: ", "warning": "xtape: warning: "}
#: Names every JSON line holds: an event's field of the same name is written ``field_``.
_RESERVED = frozenset(("ts", "level", "event", "message"))

_state = {"format": "text"}
#: Options whose value came from a config file -> ``path:line: key`` (see :func:`error`).
_places: dict[str, str] = {}


def chosen_format(args: list[str]) -> str:
    """The format ``args`` (a command's words) ask for, else ``$XTAPE_LOG_FORMAT``'s, else
    text (known before the words are parsed, so that a usage error is written in it too;
    a value that is no format is left to the option's own check)."""
    value = option_value(args, OPTION)
    if value in FORMATS:
        return value
    env = os.environ.get(ENV, "")
    return env if env in FORMATS else "text"


def option_value(args: list[str], option: str) -> str | None:
    """The value of the last ``option`` in ``args`` (``--opt V`` or ``--opt=V``, before
    ``--``), read before click parses them."""
    found = None
    for i, arg in enumerate(args):
        if arg == "--":
            break
        if arg == option and i + 1 < len(args):
            found = args[i + 1]
        elif arg.startswith(option + "="):
            found = arg.partition("=")[2]
    return found


def set_format(name: str) -> None:
    _state["format"] = name if name in FORMATS else "text"


def json_mode() -> bool:
    return _state["format"] == "json"


def emit(level: str, event: str, text: str, fields: Mapping[str, Any] | None = None) -> None:
    """Write one message on stderr: ``text`` (prefixed ``xtape: warning:`` or ``xtape:
    error:`` for those levels) in the text format, one JSON object in JSON."""
    if json_mode():
        line = json_line(level, event, text, fields or {})
    else:
        line = _TEXT_PREFIX.get(level, "") + text
    sys.stderr.write(line + "\n")
    sys.stderr.flush()


def json_line(level: str, event: str, text: str, fields: Mapping[str, Any]) -> str:
    import json
    from datetime import datetime, timezone

    ts = datetime.now(timezone.utc).isoformat(timespec="milliseconds").replace("+00:00", "Z")
    record: dict[str, Any] = {"ts": ts, "level": level, "event": event, "message": str(text)}
    for key, value in fields.items():
        record[f"{key}_" if key in _RESERVED else key] = _plain(value)
    return json.dumps(record, ensure_ascii=False, default=str)


def _plain(value: Any) -> Any:
    """A field's value as JSON can hold it (bytes as text, escaped where not UTF-8)."""
    if isinstance(value, bytes):
        return value.decode("utf-8", "backslashreplace")
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if isinstance(value, Mapping):
        return {k if isinstance(k, str) else str(_plain(k)): _plain(v) for k, v in value.items()}
    return value


def emit_line(text: str) -> None:
    """A line the text format prints as it is (``xtape: warning: ...``, a summary): in
    JSON, its level and event are read from its prefix."""
    if not json_mode():
        emit("info", "message", text)
        return
    event, fields = event_of(text, "message")
    for prefix, level, named in _PREFIXES:
        if text.startswith(prefix):
            rest = text[len(prefix) :] if prefix.endswith(": ") else text.removeprefix("xtape: ")
            emit(level, named if event == "message" else event, rest, fields)
            return
    emit("info", event, text, fields)


def warn(message: str) -> None:
    """A warning (a :class:`~xtape.notice.Notice` keeps its event and fields)."""
    event, fields = event_of(message, "warning")
    emit("warning", event, message, fields)


def say(message: str, level: str = "info") -> None:
    """A line such as a final summary, printed as it is (a Notice: with its event)."""
    event, fields = event_of(message, "message")
    emit(level, event, message, fields)


def error(message: str, exit_code: int) -> None:
    """An error; one about an option whose value came from a config file starts with
    where that value is (``record.yaml:4: duration: invalid --duration ...``)."""
    emit("error", "error", placed(message), {"exit_code": exit_code})


def set_places(places: dict[str, str]) -> None:
    """``{"--duration": "record.yaml:4: duration"}``: the options a config file gave."""
    _places.clear()
    _places.update(places)


def placed(message: str) -> str:
    import re

    for option, place in _places.items():
        if re.search(rf"(?<![\w-]){re.escape(option)}(?![\w-])", message):
            return f"{place}: {message}"
    return message


class _Lines:
    """A text stream whose lines are written as ``event`` messages (:func:`stderr_lines`)."""

    def __init__(self, event: str) -> None:
        self.event = event
        self._rest = ""

    def write(self, text: str) -> int:
        *lines, self._rest = (self._rest + text).split("\n")
        for line in lines:
            emit("info", self.event, line)
        return len(text)

    def flush(self) -> None:
        sys.stderr.flush()


def stderr_lines(event: str) -> Any:
    """Standard error as a text stream for lines a command prints there itself (a
    replay's ``-v`` events beside ``--json``): in JSON, each line is an ``event`` message."""
    return _Lines(event) if json_mode() else sys.stderr


def progress_every_s() -> float:
    """How often a ``progress`` event is written in JSON (``$XTAPE_LOG_PROGRESS_EVERY``)."""
    text = os.environ.get(PROGRESS_ENV)
    if not text:
        return 60.0
    from xtape.units import parse_seconds

    return parse_seconds(text, option=f"${PROGRESS_ENV}", positive=True)


class Handler(logging.Handler):
    """The library's log records (``-v``, a named logger's warnings) through :func:`emit`:
    ``xtape: WARNING: ...`` in text as before, a ``log`` event in JSON."""

    def emit(self, record: logging.LogRecord) -> None:
        try:
            text = record.getMessage()
            if json_mode():
                event, fields = event_of(record.msg if isinstance(record.msg, str) and not record.args else text, "log")
                emit(record.levelname.lower(), event, text, {"logger": record.name, **fields})
            else:
                emit("info", "log", f"xtape: {record.levelname}: {text}")
        except Exception:  # (logging's own rule: a handler never raises)
            self.handleError(record)

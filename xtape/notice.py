"""A message for the user that also says, for a structured log, what happened.

The library hands its one-line messages to a ``warn`` callback as text. Where a message
reports an event worth a name (a gap, a reconnect, a server restart), it is a
:class:`Notice`: still a ``str`` (a callback that prints it prints the text, nothing
changes for it), with an ``event`` name and ``fields`` that ``--log-format json``
writes beside the text (docs/cli.md, "Structured logs").
"""

from __future__ import annotations

from typing import Any


class Notice(str):
    """``Notice("reconnected", "reconnected to redis://...", url=..., down_s=1.2)``:
    the text, an event name and its fields (JSON values: text, numbers, booleans)."""

    event: str
    fields: dict[str, Any]

    def __new__(cls, event: str, text: str, **fields: Any) -> Notice:
        notice = super().__new__(cls, text)
        notice.event = event
        notice.fields = fields
        return notice


def event_of(message: str, default: str) -> tuple[str, dict[str, Any]]:
    """The event name and fields of ``message`` (``default`` and none for plain text)."""
    if isinstance(message, Notice):
        return message.event, message.fields
    return default, {}

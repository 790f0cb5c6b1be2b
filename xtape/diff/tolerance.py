"""How far apart two numbers may be and still count as equal: :class:`Tolerance`, and
field values read as exact decimal numbers (:func:`parse_number`)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

from xtape.errors import UsageError

_NUMBER = re.compile(r"^[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?$")


@dataclass(frozen=True, slots=True)
class Tolerance:
    """How far apart two numbers may be and still count as equal: ``amount`` absolute,
    or, if ``relative``, a fraction of the expected value (``1%`` is ``0.01``)."""

    amount: Decimal
    relative: bool = False

    @classmethod
    def parse(cls, value: object, *, what: str = "tolerance") -> Tolerance:
        """``0.01``, ``"0.01"``, ``"1%"``, ``"1e-3"`` -> a tolerance; a negative or
        non-numeric value is refused with a :class:`UsageError`."""
        if isinstance(value, Tolerance):
            return value
        if isinstance(value, bool) or not isinstance(value, (int, float, str, Decimal)):
            raise UsageError(f"invalid {what} {value!r}: use a number (0.01) or a percentage (1%)")
        text = str(value).strip()
        relative = text.endswith("%")
        number = text[:-1].strip() if relative else text
        if not _NUMBER.match(number):
            raise UsageError(f"invalid {what} {value!r}: use a number (0.01) or a percentage (1%)")
        amount = Decimal(number)
        if amount < 0:
            raise UsageError(f"invalid {what} {value!r}: a tolerance cannot be negative")
        if relative:
            amount = amount / 100
        return cls(amount, relative)

    def allows(self, expected: Decimal, actual: Decimal) -> bool:
        """Whether ``actual`` is within this tolerance of ``expected`` (boundary included)."""
        limit = self.amount * abs(expected) if self.relative else self.amount
        return abs(expected - actual) <= limit

    def __str__(self) -> str:
        if self.relative:
            return f"{(self.amount * 100).normalize():f}%"
        return f"{self.amount.normalize():f}"


def parse_number(value: bytes) -> Decimal | None:
    """A field value as a decimal number, or None if it is not one (exactly, no floats)."""
    if len(value) > 100:
        return None
    try:
        text = value.decode("ascii").strip()
    except UnicodeDecodeError:
        return None
    if not _NUMBER.match(text):
        return None
    try:
        return Decimal(text)
    except InvalidOperation:  # pragma: no cover - the pattern admits only numbers
        return None


__all__ = ["Tolerance", "parse_number"]

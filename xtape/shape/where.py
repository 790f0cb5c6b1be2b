"""``--where EXPR``: keep the entries a JMESPath expression holds true for.

The expression (JMESPath, the AWS CLI's query language: https://jmespath.org) is
evaluated on each entry's document (:mod:`.document`), e.g.
``payload.status == 'rejected'`` or ``to_number(fields.amount) > `100```. An entry is
kept when the result is *true* in JMESPath's sense: anything but ``false``, ``null``,
an empty string, array or object. A field's value is text (``'12.50'``): compare
numbers through ``to_number(...)``.

An expression that does not parse, or calls a function JMESPath does not have, is one
usage error naming the column (exit 2) before anything is read. On an entry where it
fails (``length()`` of a field the entry does not have: JMESPath's type errors), it is
false: entries of other shapes are left out, as where a field is missing.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from typing import Any

from xtape.errors import UsageError
from xtape.shape.document import KEYS, Documents

#: ``(stream, entry id or None, flat fields) -> keep?``: what every selection asks.
EntryTest = Callable[[bytes, "bytes | None", Sequence[bytes]], bool]

#: AST node types that may look at the whole document (then every part is built).
_WHOLE = frozenset({"current", "identity", "value_projection", "object_projection"})


def _nodes(node: dict[str, Any]) -> Iterator[dict[str, Any]]:
    yield node
    for child in node.get("children", ()):
        if isinstance(child, dict):
            yield from _nodes(child)


def compile_expression(text: str, option: str) -> Any:
    """``text`` compiled by jmespath (imported here, only when an option uses it); a
    :class:`UsageError` naming the column where it does not parse."""
    import jmespath
    from jmespath import exceptions
    from jmespath.functions import Functions

    try:
        compiled = jmespath.compile(text)
    except exceptions.EmptyExpressionError:
        raise UsageError(f"{option}: give an expression (e.g. \"payload.status == 'rejected'\")") from None
    except exceptions.LexerError as error:
        raise UsageError(_located(option, text, error.lexer_position, error.message.lower())) from None
    except exceptions.IncompleteExpressionError as error:
        raise UsageError(_located(option, text, error.lex_position, "the expression ends too early")) from None
    except exceptions.ParseError as error:
        token = error.token_value
        what = f"unexpected {token!r}" if token not in (None, "") else "unexpected end"
        raise UsageError(_located(option, text, error.lex_position, what)) from None
    known = Functions.FUNCTION_TABLE
    for node in _nodes(compiled.parsed):
        if node.get("type") == "function_expression" and node.get("value") not in known:
            raise UsageError(
                f"{option} {text!r}: no function {node.get('value')}() in JMESPath "
                f"(known: {', '.join(sorted(known))})"
            )
    return compiled


def _located(option: str, text: str, position: int, what: str) -> str:
    return f"{option} {text!r}: invalid JMESPath at column {position + 1}: {what}"


def parts_named(compiled: Any) -> frozenset[str]:
    """Which keys of the document an expression looks at (all, when it may look at the
    whole of it: ``@``, ``*``)."""
    nodes = list(_nodes(compiled.parsed))
    if any(node.get("type") in _WHOLE for node in nodes):
        return frozenset(KEYS)
    names = {node.get("value") for node in nodes if node.get("type") == "field"}
    return frozenset(k for k in KEYS if k in names)


def truthy(value: Any) -> bool:
    """JMESPath's truth: ``false``, ``null``, ``""``, ``[]`` and ``{}`` are false."""
    if value is None or value is False:
        return False
    if isinstance(value, (str, bytes, list, dict)):
        return len(value) > 0
    return True


class Where:
    """``--where EXPR`` compiled; calling it on an entry says whether to keep it."""

    def __init__(
        self,
        text: str,
        codecs: Sequence[tuple[str, str]] = (),
        *,
        option: str = "--where",
        docs: Documents | None = None,
    ) -> None:
        self.text = text
        self.option = option
        self._compiled = compile_expression(text, option)
        from jmespath.exceptions import JMESPathError

        self._failed = JMESPathError
        self._needs = parts_named(self._compiled)
        self._docs = Documents(codecs) if docs is None else docs

    def __repr__(self) -> str:
        return f"Where({self.text!r})"

    def value(self, stream: bytes, entry_id: bytes | None, flat: Sequence[bytes]) -> Any:
        """The expression's value on one entry (None where it fails on it: a function
        given a value of the wrong type, such as ``length()`` of a missing field)."""
        try:
            return self._compiled.search(self._docs.build(stream, entry_id, flat, self._needs))
        except self._failed:
            return None

    def __call__(self, stream: bytes, entry_id: bytes | None, flat: Sequence[bytes]) -> bool:
        return truthy(self.value(stream, entry_id, flat))


def entry_filter(*tests: EntryTest | None) -> EntryTest | None:
    """The tests given (None: left out) as one, all of which must hold; None if none."""
    given = [t for t in tests if t is not None]
    if not given:
        return None
    if len(given) == 1:
        return given[0]
    return AllOf(given)


class AllOf:
    """Several entry tests as one (``--where`` and ``--sample``: both must hold)."""

    def __init__(self, tests: list[EntryTest]) -> None:
        self.tests = tests

    def __call__(self, stream: bytes, entry_id: bytes | None, flat: Sequence[bytes]) -> bool:
        return all(test(stream, entry_id, flat) for test in self.tests)

    def new_pass(self) -> None:
        for test in self.tests:
            new_pass(test)


def new_pass(test: EntryTest | None) -> None:
    """Tell ``test`` a new pass of a timeline starts (a sample of a scenario's events,
    which have no ids, counts their places from there again)."""
    start = getattr(test, "new_pass", None)
    if start is not None:
        start()

"""The converter's event-by-event YAML writer gives the very text the whole-document
dump (``dump_scenario_yaml`` of what ``event_from_fields`` builds) gives, so a streamed
scenario reads back to the same fields, byte for byte."""

from __future__ import annotations

from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st
from support.e2e import AWKWARD, TRICKY_TEXT

from xtape.convert_yaml import EventWriter, header_text, scalar
from xtape.scenario import dump_scenario_yaml, event_from_fields, load_scenario_text
from xtape.scenario.encoding import payload_to_fields
from xtape.timeline import pair_fields

#: Beyond TRICKY_TEXT: what the fast path decides on (indicators, spaces, numbers).
MORE_TEXT = [
    "plain", "orders:eu", "a:b", "a :b", "a:", ":a", "?a", "? a", "-a", "-", "--", "---x",
    "...x", "a#b", "a #b", "x,y", "[x]", "{x}", "a{b", "a}b", "a'b", "a''b", "'",
    "1.5", "-1.5", "1_000", "1.", ".5", "+.5", "1e-3", "1E+3", "0b1", "0o8", "0x", "0xG",
    "false", "FALSE", "fAlse", "Null", "nULL", "~x", "<<<", "<", "=", ".", ".nan", ".NaN",
    "-.inf", "+.Inf", "x" * 99, "y" * 130, "ström 😀", "\u00a0nbsp", "priv\ue000", "end:",
    "a  b", "{{x}}", "a{{b", "1700000000000-0", '{"px":1.5,"qty":2}', "40000.12 x 1.5",
]  # fmt: skip

TEXTS = TRICKY_TEXT + MORE_TEXT


def reference_item(stream: str, flat: list[bytes], **kw: Any) -> str:
    """One ``events:`` item as the whole-document dump writes it."""
    repeat, interval = kw.pop("repeat", 1), kw.pop("interval", 0)
    event = event_from_fields(stream, pair_fields(flat), **kw)
    if repeat > 1:
        event["repeat"] = repeat
        if interval:
            event["interval"] = interval
    text = dump_scenario_yaml({"events": [event]})
    assert text.startswith("events:\n")
    return text[len("events:\n") :]


def test_every_tricky_text_as_key_and_value_is_written_as_pyyaml_writes_it() -> None:
    writer = EventWriter()
    for text in TEXTS:
        raw = text.encode()
        for flat in ([b"v", raw], [raw, b"v"], [raw, raw], [b"a", raw, b"b", b"2"]):
            for kw in ({}, {"delay": 5, "id": b"1-0"}, {"delay": 0.25}):
                got = writer.text("s", flat, **kw)
                assert got == reference_item("s", flat, **kw), (text, flat, kw)
        assert writer.text(text or "x", [b"k", b"v"]) == reference_item(text or "x", [b"k", b"v"])


def test_the_fast_path_takes_the_common_shapes() -> None:
    """Plain, quoted and numeric-looking values do not need PyYAML (that is the speed)."""
    assert scalar("orders:eu") == "orders:eu"
    assert scalar("5.0") == "'5.0'"
    assert scalar("a: b") == "'a: b'"
    assert scalar("it's") == "it's"
    assert scalar("'q'") == "'''q'''"
    assert scalar("") == "''"
    assert scalar("multi\nline") is None  # left to PyYAML


def test_awkward_fields_and_runs_match_the_whole_document_dump() -> None:
    writer = EventWriter()
    cases: list[tuple[list[bytes], dict[str, Any]]] = [(flat, {}) for flat in AWKWARD]
    cases += [
        ([b"beat", b"1"], {"delay": 10, "repeat": 5, "interval": 10}),
        ([b"beat", b"1"], {"repeat": 3}),
        ([b"beat", b"1"], {"delay": 1.5, "repeat": 2, "interval": 99.125}),
        ([b"t", b"{{x}}"], {"id": b"5-1"}),
        ([], {}),
    ]
    for flat, kw in cases:
        assert writer.text("s", flat, **kw) == reference_item("s", flat, **kw), (flat, kw)


def test_header_matches_the_whole_document_dump() -> None:
    for name, description in [("n", "Converted: 5 entries."), ("5", "a: b"), ("x", "two\nlines")]:
        reference = dump_scenario_yaml({"name": name, "description": description, "events": []})
        assert header_text(name, description) == reference.replace("events: []\n", "events:\n")


texts = st.text(st.characters(codec="utf-8"), max_size=12) | st.sampled_from(TEXTS)
raw = texts.map(str.encode) | st.binary(max_size=6)


@settings(max_examples=300, deadline=None)
@given(
    pairs=st.lists(st.tuples(raw, raw), min_size=1, max_size=4),
    delay=st.sampled_from([0, 1, 250, 0.5, 12.125]),
)
def test_any_fields_are_written_as_the_whole_document_dump_and_read_back(
    pairs: list[tuple[bytes, bytes]], delay: float
) -> None:
    flat = [part for pair in pairs for part in pair]
    text = EventWriter().text("s", flat, delay=delay, id=b"1-1")
    assert text == reference_item("s", flat, delay=delay, id=b"1-1")
    scenario = load_scenario_text(header_text("t", "d") + text, "t.yaml")
    (event,) = scenario.events
    assert payload_to_fields(event.payload) == tuple(pairs)

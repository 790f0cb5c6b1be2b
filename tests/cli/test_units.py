"""One duration parser for every option (nanoseconds, a unit required), and one name
for one meaning (issue #6, items 10 and 18)."""

from __future__ import annotations

import importlib

import pytest

from xtape.errors import UsageError
from xtape.timeline import NS_PER_MS, NS_PER_S
from xtape.units import parse_duration


@pytest.mark.parametrize(
    ("text", "ns"),
    [
        ("250ms", 250 * NS_PER_MS),
        ("0.29s", 290 * NS_PER_MS),  # exact: no float rounding to 289999999
        ("1.5m", 90 * NS_PER_S),
        ("2h", 7200 * NS_PER_S),
        ("1d", 86400 * NS_PER_S),
        (" 0s ", 0),
        (".5s", NS_PER_S // 2),
    ],
)
def test_durations_are_exact_nanoseconds(text: str, ns: int) -> None:
    assert parse_duration(text, option="--since") == ns


@pytest.mark.parametrize("bad", ["1500", "2", "1.5", "", "s", "-1s", "1y", "5 minutes"])
def test_a_duration_needs_a_number_and_a_unit(bad: str) -> None:
    with pytest.raises(UsageError, match=r"invalid --since .*: use a number with a unit"):
        parse_duration(bad, option="--since")


def test_a_bare_number_gets_both_readings_as_examples() -> None:
    with pytest.raises(UsageError, match=r"e\.g\. 1500ms or 1500s"):
        parse_duration("1500", option="--since")


def test_positive_refuses_zero() -> None:
    assert parse_duration("0s", option="--since") == 0
    with pytest.raises(UsageError, match="more than zero"):
        parse_duration("0ms", option="--duration", positive=True)


def test_one_name_one_meaning() -> None:
    import xtape
    import xtape.capture
    import xtape.recording
    from xtape.convert import ConvertOptions

    # the recording's clock literal is not the replay's Clock protocol
    assert hasattr(xtape.recording, "TimeBase")
    assert not hasattr(xtape.recording, "Clock")
    replay_module = importlib.import_module("xtape.replay")  # xtape.replay is the function
    assert hasattr(replay_module, "Clock")
    # Transform comes from where it lives
    assert not hasattr(replay_module, "Transform")
    assert "Transform" not in dir(xtape)  # (it lives in xtape.transform alone)
    # one parse_duration
    assert not hasattr(xtape.capture, "parse_duration")
    # one unit for the window: seconds, as every option (tests/architecture/test_api_units.py)
    fields = ConvertOptions.__dataclass_fields__
    assert {"since", "until"} <= set(fields)
    assert not {"since_ns", "until_ns", "since_s", "until_s"} & set(fields)


def test_a_bare_number_is_read_in_the_unit_an_option_always_had() -> None:
    assert parse_duration("1500", option="--loop-interval", bare="ms") == 1500 * NS_PER_MS
    assert parse_duration("2s", option="--loop-interval", bare="ms") == 2 * NS_PER_S
    with pytest.raises(UsageError, match="use a number with a unit"):
        parse_duration("soon", option="--loop-interval", bare="ms")


@pytest.mark.parametrize(
    ("text", "size"),
    [("256MiB", 256 << 20), ("1GiB", 1 << 30), ("1.5KiB", 1536), ("500kB", 500_000),
     ("2GB", 2 * 10**9), ("4096B", 4096), ("20mib", 20 << 20)],
)  # fmt: skip
def test_sizes_take_binary_and_decimal_units(text: str, size: int) -> None:
    from xtape.units import parse_size

    assert parse_size(text, option="--split-size") == size


@pytest.mark.parametrize("bad", ["20", "1.5", "", "MiB", "0MiB", "5 potatoes", "-1MiB"])
def test_a_size_needs_a_number_and_a_unit(bad: str) -> None:
    from xtape.units import parse_size

    with pytest.raises(UsageError, match=r"invalid --split-size .*(unit|more than zero)"):
        parse_size(bad, option="--split-size")

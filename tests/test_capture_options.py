"""Parsing of the recorder's options: ``--from``, ``--duration``, ``--count``."""

from __future__ import annotations

import time

import pytest

from xtape.capture import RecordOptions, parse_count, parse_start
from xtape.capture.options import time_cursor
from xtape.errors import UsageError
from xtape.ids import MAX_PART as MAX_SEQ
from xtape.timeline import NS_PER_S
from xtape.units import parse_duration


def test_from_keywords_and_ids() -> None:
    assert parse_start("now").kind == "now"
    assert parse_start("now").cursor(123) is None
    assert parse_start("start").cursor(123) == b"0-0"
    spec = parse_start("1700000000000-5")
    assert (spec.kind, spec.cursor(0)) == ("id", b"1700000000000-5")


def test_from_time_includes_millisecond_zero() -> None:
    spec = parse_start("2026-11-25T10:00:00Z")
    ms = 1795600800000
    assert spec.ms == ms
    assert spec.cursor(0) == f"{ms - 1}-{MAX_SEQ}".encode()
    # A bare number is a millisecond time, not an exclusive id.
    assert parse_start("1000").cursor(0) == b"999-18446744073709551615"
    assert time_cursor(0) == b"0-0"
    # No zone means UTC; an offset is honoured.
    assert parse_start("2026-11-25T10:00:00").ms == ms
    assert parse_start("2026-11-25T11:00:00+01:00").ms == ms


def test_from_negative_duration_is_relative_to_the_start() -> None:
    now_ms = int(time.time() * 1000)
    assert parse_start("-5m").cursor(now_ms) == time_cursor(now_ms - 300_000)
    assert parse_start("-250ms").cursor(now_ms) == time_cursor(now_ms - 250)
    assert parse_start("-1h").ago_s == 3600


@pytest.mark.parametrize("bad", ["", "yesterday", "-5x", "12-ab", "2026-13-45T00:00:00Z", "1-2-3"])
def test_bad_from_values_are_usage_errors(bad: str) -> None:
    with pytest.raises(UsageError, match=r"invalid --from .*use now, start"):
        parse_start(bad)


def test_durations() -> None:
    assert parse_duration("30s", option="--duration") == 30 * NS_PER_S
    assert parse_duration("5m", option="--duration") == 300 * NS_PER_S
    assert parse_duration("1h", option="--duration") == 3600 * NS_PER_S
    assert parse_duration("250ms", option="--duration") == NS_PER_S // 4


@pytest.mark.parametrize("bad", ["", "abc", "5 minutes", "-1s", "0s", "1y", "2"])
def test_bad_durations_are_usage_errors(bad: str) -> None:
    with pytest.raises(UsageError) as info:
        parse_duration(bad, option="--duration", positive=True)
    assert "--duration" in str(info.value)
    assert "\n" not in str(info.value)


def test_counts() -> None:
    assert parse_count("1_000") == 1000
    for bad in ("0", "-3", "many", "1.5"):
        with pytest.raises(UsageError, match="--count"):
            parse_count(bad)


def test_options_need_a_stream_and_sane_values() -> None:
    with pytest.raises(UsageError, match="at least one stream"):
        RecordOptions(patterns=[])
    with pytest.raises(UsageError):
        RecordOptions(patterns=["s"], count=0)
    options = RecordOptions(patterns=["s"], redact=["pass*"], redact_key=b"s3cr3t-key")
    header = options.header()
    assert header["redact"] == ["pass*"]
    assert "s3cr3t" not in repr(header)
    assert "s3cr3t" not in repr(options)

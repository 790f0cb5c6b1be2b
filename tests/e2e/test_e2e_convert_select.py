"""``xtape convert --stream/--since/--until/--limit`` take exactly the entries asked for,
on a recording with a known time layout (written with chosen ids)."""

from __future__ import annotations

from pathlib import Path

import pytest
from support.e2e import error_line, invoke, ok, write_recording

from xtape.scenario import load_scenario

T0 = 1_700_000_000_000

#: Stream a every 100 ms from 0, stream b every 100 ms from 50: 20 entries over 950 ms.
LAYOUT = sorted(
    [(b"a", ms) for ms in range(0, 1000, 100)] + [(b"b", ms) for ms in range(50, 1000, 100)],
    key=lambda e: e[1],
)


@pytest.fixture()
def recording(tmp_path: Path) -> Path:
    return write_recording(
        tmp_path / "layout.xtape",
        [(stream, T0 + ms, 0, [b"at", f"{stream.decode()}{ms}".encode()]) for stream, ms in LAYOUT],
    )


def selected(recording: Path, *options: str) -> list[str]:
    """Convert with ``options``; the selected entries as ``stream+ms`` (checked against
    the ``id`` the converter kept)."""
    out = recording.with_name("out.yaml")
    result = ok(invoke("convert", recording, "-o", out, "--force", *options))
    scenario = load_scenario(out)
    names = []
    for event in scenario.events:
        ms = int(str(event.id).split("-")[0]) - T0
        assert event.payload == {"at": f"{event.stream}{ms}"}
        names.append(f"{event.stream}{ms}")
    assert result.stderr.startswith(f"wrote {out}: {len(names)} events from {len(names)} entries")
    return names


def expect(
    streams: str = "ab", since: int = 0, until: int = 10_000, limit: int | None = None
) -> list[str]:
    out = [f"{s.decode()}{ms}" for s, ms in LAYOUT if s.decode() in streams and since <= ms < until]
    return out[:limit]


CASES: list[tuple[list[str], list[str]]] = [
    ([], expect()),
    (["--stream", "a"], expect("a")),
    (["--stream", "[b]"], expect("b")),
    (["--stream", "a", "--stream", "b"], expect()),
    (["--since", "300ms"], expect(since=300)),
    (["--since", "0.3s"], expect(since=300)),
    (["--until", "250ms"], expect(until=250)),
    (["--since", "300ms", "--until", "600ms"], expect(since=300, until=600)),
    (["--limit", "3"], expect(limit=3)),
    (["--stream", "b", "--since", "200ms", "--limit", "2"], expect("b", since=200, limit=2)),
    (["--stream", "a", "--until", "1s", "--limit", "100"], expect("a")),
]


@pytest.mark.parametrize(
    ("options", "expected"), CASES, ids=[" ".join(options) or "all" for options, _ in CASES]
)
def test_selection_options_take_exactly_the_matching_entries(
    recording: Path, options: list[str], expected: list[str]
) -> None:
    assert selected(recording, *options) == expected


def test_selected_window_keeps_the_spacing_between_its_entries(recording: Path) -> None:
    out = recording.with_name("w.yaml")
    ok(invoke("convert", recording, "-o", out, "--since", "300ms", "--until", "600ms"))

    delays = [event.delay for event in load_scenario(out).events]

    assert delays == [0, 50, 50, 50, 50, 50]


def test_a_selection_that_matches_nothing_is_refused_and_writes_no_file(recording: Path) -> None:
    out = recording.with_name("none.yaml")

    result = invoke("convert", recording, "-o", out, "--since", "2s")

    line = error_line(result, 2)
    assert "no entries match the selection" in line
    assert not out.exists()


def test_name_and_description_options_land_in_the_scenario(recording: Path) -> None:
    out = recording.with_name("named.yaml")

    ok(
        invoke(
            "convert",
            recording,
            "-o",
            out,
            "--name",
            "Checkout bug",
            "--description",
            "Two streams",
        )
    )

    scenario = load_scenario(out)
    assert scenario.name == "Checkout bug"
    assert scenario.description == "Two streams"


def test_until_keeps_a_late_found_streams_earlier_entries_like_replay_does(tmp_path: Path) -> None:
    from xtape.recording import RecordingWriter

    path = tmp_path / "late.xtape"
    with RecordingWriter(path) as writer:
        # stream a read first, up to 900 ms; stream b found by a later scan, backfilled
        writer.write_entries(b"a", [[f"{T0 + ms}-0".encode(), [b"at", b"a%d" % ms]] for ms in (0, 500, 900)], 1)
        writer.write_entries(b"b", [[f"{T0 + ms}-0".encode(), [b"at", b"b%d" % ms]] for ms in (100, 600)], 2)

    assert selected(path, "--until", "700ms") == ["a0", "a500", "b100", "b600"]

"""``xtape info`` and ``xtape cat`` on a recording made by ``xtape record`` from a real
server: what is in it, over what time, and every byte of it as JSON lines."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import redis
from support.e2e import fields_of, invoke, ok, xadd

from xtape.errors import RuntimeFailure
from xtape.recording import Recording, RecordingWriter
from xtape.timeline import bytes_from_json

T0 = 1_700_000_000_000
UNICODE = "ev:ümlaut😀".encode()

#: (stream, ms after T0, fields): two streams interleaved over exactly one second.
TRAFFIC: list[tuple[bytes, int, list[bytes]]] = [
    (b"ev:a", 0, [b"n", b"0", b"n", b"dup", b"empty", b""]),
    (UNICODE, 250, [b"bin\xff", b"\x00\x80\xfe"]),
    (b"ev:a", 500, [b"n", b"1"]),
    (UNICODE, 750, ["ключ".encode(), "значение".encode()]),
    (b"ev:a", 1000, [b"n", b"2"]),
]


@pytest.fixture()
def recording(tmp_path: Path, redis_url: str, r: redis.Redis) -> Path:
    """A recording of TRAFFIC, made by ``xtape record`` against the fixture server."""
    for stream, ms, flat in TRAFFIC:
        xadd(r, stream, flat, f"{T0 + ms}-0")
    xadd(r, b"other", [b"not", b"recorded"])
    path = tmp_path / "ev.xtape"
    result = ok(
        invoke(
            "record",
            "ev:*",
            "--from",
            "start",
            "--count",
            len(TRAFFIC),
            "-o",
            path,
            "--url",
            redis_url,
        )
    )
    assert result.stdout == ""
    assert result.stderr.startswith(f"recorded 5 entries from 2 streams into {path} ")
    assert "stopped: count" in result.stderr
    return path


def test_info_json_gives_span_counts_per_stream_and_completeness(
    recording: Path, redis_url: str
) -> None:
    result = ok(invoke("info", recording, "--json"))

    assert result.stderr == ""
    info = json.loads(result.stdout)
    assert info["path"] == str(recording)
    assert info["file_size"] == recording.stat().st_size
    assert info["version"] == 2
    assert info["summary"] == "stored"
    assert info["source"]["url"] == redis_url
    assert info["entries"] == 5
    assert info["duration_s"] == 1.0
    assert info["start"] == "2023-11-14T22:13:20.000Z"
    assert info["end"] == "2023-11-14T22:13:21.000Z"
    assert info["rate"] == 5.0
    by_name = {s["name"]: s for s in info["streams"]}
    assert by_name["ev:a"]["entries"] == 3
    assert by_name["ev:a"]["first_id"] == f"{T0}-0"
    assert by_name["ev:a"]["last_id"] == f"{T0 + 1000}-0"
    assert by_name[UNICODE.decode()]["entries"] == 2
    assert set(by_name) == {"ev:a", UNICODE.decode()}
    assert info["gaps"] == []
    assert info["complete"] is True
    assert info["truncated_bytes"] == 0


def test_info_text_answers_the_first_questions(recording: Path, redis_url: str) -> None:
    result = ok(invoke("info", recording))

    assert result.stderr == ""
    text = result.stdout
    assert f"source:    {redis_url} (redis " in text
    assert "span:      2023-11-14T22:13:20.000Z .. 2023-11-14T22:13:21.000Z (1.000 s)" in text
    assert "entries:   5 (5.0/s)" in text
    assert "streams:   2" in text
    lines = text.splitlines()
    a_line = next(line for line in lines if line.lstrip().startswith("ev:a "))
    assert a_line.split()[1:3] == ["3", "entries"]
    assert f"{T0}-0 .. {T0 + 1000}-0" in a_line
    assert any(line.lstrip().startswith(UNICODE.decode()) for line in lines)
    assert lines[-1] == "complete:  yes"


def test_info_reports_a_truncated_tail_and_an_incomplete_recording(
    recording: Path, tmp_path: Path
) -> None:
    cut = tmp_path / "cut.xtape"
    cut.write_bytes(recording.read_bytes()[:-3])

    info = json.loads(ok(invoke("info", cut, "--json")).stdout)
    text = ok(invoke("info", cut)).stdout

    assert info["complete"] is False
    assert info["truncated_bytes"] > 0
    assert f"truncated: the last {info['truncated_bytes']} bytes are an incomplete record" in text
    assert "complete:  no" in text


def _cat(*args: object) -> list[dict[str, object]]:
    result = ok(invoke("cat", *args))
    assert result.stderr == ""
    assert result.stdout.endswith("\n")
    return [json.loads(line) for line in result.stdout.splitlines()]


def test_cat_prints_one_json_object_per_entry_that_rebuilds_the_source_bytes(
    recording: Path, r: redis.Redis
) -> None:
    objects = _cat(recording)

    assert [set(o) for o in objects] == [{"stream", "id", "fields", "time"}] * 5
    assert [(o["stream"], o["id"]) for o in objects] == [
        (s.decode(), f"{T0 + ms}-0") for s, ms, _ in TRAFFIC
    ]
    assert objects[0]["time"] == "2023-11-14T22:13:20.000Z"
    assert objects[1]["fields"] == [[{"base64": "Ymlu/w=="}, {"base64": "AID+"}]]
    for stream in (b"ev:a", UNICODE):
        rebuilt = [
            [bytes_from_json(part) for pair in o["fields"] for part in pair]
            for o in objects
            if o["stream"] == stream.decode()
        ]
        assert rebuilt == fields_of(r, stream)


def test_cat_text_fields_stay_text_and_duplicates_stay_pairs(recording: Path) -> None:
    first = _cat(recording)[0]

    assert first["fields"] == [["n", "0"], ["n", "dup"], ["empty", ""]]


def test_cat_stream_glob_and_limit_select_entries(recording: Path) -> None:
    only_a = _cat(recording, "--stream", "ev:a")
    unicode_glob = _cat(recording, "--stream", "*ü*")
    limited = _cat(recording, "--limit", "2")
    both = _cat(recording, "-s", "ev:a", "-n", "2")

    assert [o["id"] for o in only_a] == [f"{T0}-0", f"{T0 + 500}-0", f"{T0 + 1000}-0"]
    assert [o["stream"] for o in unicode_glob] == [UNICODE.decode()] * 2
    assert [o["id"] for o in limited] == [f"{T0}-0", f"{T0 + 250}-0"]
    assert [o["id"] for o in both] == [f"{T0}-0", f"{T0 + 500}-0"]
    assert ok(invoke("cat", recording, "--limit", "0")).stdout == ""
    assert ok(invoke("cat", recording, "--stream", "nomatch*")).stdout == ""


def test_cat_of_a_truncated_recording_prints_what_is_whole_and_warns(
    recording: Path, tmp_path: Path
) -> None:
    cut = tmp_path / "cut.xtape"
    data = recording.read_bytes()
    cut.write_bytes(data[:-3])

    result = ok(invoke("cat", cut))

    assert len(result.stdout.splitlines()) == 5  # the END record is what was cut
    assert result.stderr.startswith(f"xtape: warning: {cut}: the last ")
    assert "incomplete record (skipped)" in result.stderr


def test_info_of_a_recording_without_entries_says_so(tmp_path: Path, redis_url: str) -> None:
    path = tmp_path / "empty.xtape"
    ok(invoke("record", "nothing:*", "--duration", "0.1s", "-o", path, "--url", redis_url))

    info = json.loads(ok(invoke("info", path, "--json")).stdout)

    assert info["entries"] == 0
    assert info["streams"] == []
    assert info["complete"] is True
    assert ok(invoke("cat", path)).stdout == ""


def test_info_text_of_a_recording_without_entries_shows_no_python_none(
    tmp_path: Path, redis_url: str
) -> None:
    path = tmp_path / "empty.xtape"
    ok(invoke("record", "nothing:*", "--duration", "0.1s", "-o", path, "--url", redis_url))

    text = ok(invoke("info", path)).stdout

    assert "entries:   0" in text
    assert "None" not in text


@pytest.mark.parametrize("command", ["info", "cat", "replay", "convert"])
def test_a_damaged_entry_is_one_line_exit_2_for_every_command(tmp_path: Path, command: str) -> None:
    path = tmp_path / "damaged.xtape"
    with RecordingWriter(path) as writer:
        writer.write_entries(b"s", [[b"1-0", [b"k", b"v"]], [b"not-an-id", [b"k", b"w"]]], 1)
    args = {"replay": ["--dry-run"], "convert": ["-o", str(tmp_path / "x.yaml")]}.get(command, [])

    result = invoke(command, path, *args)

    # cat and a dry run stream: what came before the damage is printed, then one line
    assert result.exit_code == 2 and "Traceback" not in result.output
    lines = result.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith("xtape: error: ")
    assert "damaged.xtape: damaged at byte " in lines[0] and "not-an-id" in lines[0]


def test_info_says_a_recording_still_being_written_is_not_finished(tmp_path: Path) -> None:
    path = tmp_path / "live.xtape"
    writer = RecordingWriter(path, flush_interval=0.0)
    try:
        writer.write_entries(b"s", [[b"1-0", [b"k", b"v"]]], 1)
        live = ok(invoke("info", path)).stdout
        as_json = json.loads(ok(invoke("info", path, "--json")).stdout)
    finally:
        writer.close()
    assert "complete:  no (still being written: a recorder holds the file)" in live
    assert as_json["writing"] is True and as_json["complete"] is False
    after = ok(invoke("info", path)).stdout
    assert after.splitlines()[-1] == "complete:  yes"


def test_info_of_a_recorder_that_died_says_it_did_not_stop_cleanly(tmp_path: Path) -> None:
    path = tmp_path / "dead.xtape"
    with RecordingWriter(path) as writer:
        writer.write_entries(b"s", [[b"1-0", [b"k", b"v"]]], 1)
    path.write_bytes(path.read_bytes()[:-4])  # the END record cut off: no clean stop
    text = ok(invoke("info", path)).stdout
    assert "complete:  no (the recorder did not stop cleanly)" in text
    assert json.loads(ok(invoke("info", path, "--json")).stdout)["writing"] is False


def test_a_second_writer_cannot_clobber_a_recording_being_written(tmp_path: Path) -> None:
    path = tmp_path / "busy.xtape"
    with RecordingWriter(path) as writer:
        writer.write_entries(b"s", [[b"1-0", [b"k", b"v"]]], 1)
        writer.flush()
        with pytest.raises(RuntimeFailure, match="another recorder is writing it"):
            RecordingWriter(path)
    assert [e.id for e in Recording(path).entries()] == [b"1-0"]


HOSTILE = b"\x1b[31mred\x1b[0m\r\nx"


def test_info_escapes_control_bytes_in_names_and_markers(tmp_path: Path) -> None:
    path = tmp_path / "hostile.xtape"
    with RecordingWriter(path, source={"url": "redis://h/0\x1b]0;title\x07"}) as writer:
        writer.write_entries(HOSTILE, [[b"1-0", [b"k", b"v"]]], 1)
        writer.write_gap(HOSTILE, b"0-0", b"1-0", 2, 1)
        writer.write_marker("note\x1b[2J", "text\r\nfake: line\x1b[0m", 2)

    text = ok(invoke("info", path)).stdout

    assert "\x1b" not in text and "\r" not in text and "\x07" not in text
    assert "\\x1b[31mred\\x1b[0m\\r\\nx" in text
    assert "note\\x1b[2J: text\\r\\nfake: line\\x1b[0m" in text
    assert not any(line.startswith("fake") for line in text.splitlines())
    # JSON keeps the exact text (escaped by JSON itself)
    data = json.loads(ok(invoke("info", path, "--json")).stdout)
    assert data["streams"][0]["name"] == HOSTILE.decode()
    assert data["markers"][0]["text"] == "text\r\nfake: line\x1b[0m"


def test_cat_object_form_maps_names_to_values_for_jq(recording: Path) -> None:
    objects = _cat(recording, "--object")
    assert objects[0]["fields"] == {"n": ["0", "dup"], "empty": ""}
    assert objects[1]["fields"] == {"bin\\xff": {"base64": "AID+"}}
    assert objects[3]["fields"] == {"ключ": "значение"}
    # the default stays the lossless pair list
    assert _cat(recording)[0]["fields"] == [["n", "0"], ["n", "dup"], ["empty", ""]]

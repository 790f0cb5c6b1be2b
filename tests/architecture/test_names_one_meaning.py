"""Each name means one thing across the package (docs/architecture.md, "Names"):
``Source`` is what a replay plays, the recorder reads through *readers*, ``Clock`` is the
one clock (in ns) and a recording's ``time_base`` is not a clock, one replay a user calls
and one loop below it, no ``seek`` that moves nothing, no two ``is_recording``."""

from __future__ import annotations

import importlib
import inspect
import pkgutil
import types
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

import xtape
from xtape.recording import Recording, RecordingWriter


def modules() -> Iterator[types.ModuleType]:
    for info in pkgutil.walk_packages(xtape.__path__, "xtape."):
        yield importlib.import_module(info.name)


def defined(kind: type) -> Iterator[tuple[str, Any]]:
    """``(module, object)`` for each object of ``kind`` defined in an xtape module."""
    for module in modules():
        for value in vars(module).values():
            if isinstance(value, kind) and getattr(value, "__module__", None) == module.__name__:
                yield module.__name__, value


def functions_and_methods() -> Iterator[tuple[str, Any]]:
    for where, value in defined(types.FunctionType):
        yield f"{where}.{value.__name__}", value
    for where, cls in defined(type):
        for name, member in vars(cls).items():
            if isinstance(member, (types.FunctionType, classmethod, staticmethod)):
                function = member.__func__ if isinstance(member, (classmethod, staticmethod)) else member
                yield f"{where}.{cls.__name__}.{name}", function


def test_source_is_only_the_timeline_protocol_and_what_a_replay_plays() -> None:
    sources = {f"{where}.{cls.__name__}" for where, cls in defined(type) if cls.__name__.endswith("Source")}
    assert sources == {
        "xtape.timeline.Source",
        "xtape.scenario.render.ScenarioSource",
        "xtape.replay.source.OpenedSource",
        "xtape.replay.source.RecordingSource",
    }
    from xtape.timeline import Source

    wanted = [m for m in vars(Source) if not m.startswith("_")]
    for where, cls in defined(type):
        if f"{where}.{cls.__name__}" in sources - {"xtape.timeline.Source"}:
            assert all(hasattr(cls, m) or m == "name" for m in wanted), cls


def test_the_recorder_reads_through_readers() -> None:
    from xtape.capture.cluster_reader import ClusterReader
    from xtape.capture.readers import open_reader
    from xtape.capture.server_reader import ServerReader, StreamReader

    assert "reader" in inspect.signature(open_reader).return_annotation.lower()
    for cls in (ServerReader, ClusterReader):
        assert all(hasattr(cls, m) for m in vars(StreamReader) if not m.startswith("_"))
    for gone in ("xtape.capture.source", "xtape.capture.cluster_source", "xtape.capture.clock"):
        with pytest.raises(ModuleNotFoundError):
            importlib.import_module(gone)


def test_one_clock_in_nanoseconds_and_a_time_base_is_never_called_clock() -> None:
    clocks = {f"{where}.{cls.__name__}" for where, cls in defined(type) if cls.__name__.endswith("Clock")}
    assert clocks == {"xtape.clock.Clock", "xtape.clock.MonotonicClock", "xtape.clock.FakeClock"}
    for where, function in functions_and_methods():
        for name, parameter in inspect.signature(function).parameters.items():
            annotation = str(parameter.annotation)
            if name == "clock":
                assert "Clock" in annotation, (where, annotation)
            if "TimeBase" in annotation:
                assert name == "time_base", (where, name)


def test_replay_is_the_easy_function_and_replay_through_the_loop() -> None:
    from xtape.replay import replay, replay_through

    assert xtape.replay is replay
    assert list(inspect.signature(replay).parameters)[:3] == ["source", "url", "options"]
    assert list(inspect.signature(replay_through).parameters)[:3] == ["source", "publisher", "options"]


def test_no_two_is_recording_and_no_seek_that_moves_nothing(tmp_path: Path) -> None:
    named = {
        where for where, function in functions_and_methods() if where.rsplit(".", 1)[1] == "is_recording"
    }
    assert named == set()
    assert not hasattr(Recording, "seek")

    from xtape.recording import has_recording_header
    from xtape.replay import source_kind

    path = tmp_path / "r.xtape"
    with RecordingWriter(path) as writer:
        writer.write_entries(b"s", [[b"%d-0" % i, [b"i", b"%d" % i]] for i in range(1, 6)], 1)
    scenario = tmp_path / "s.yaml"
    scenario.write_text("events: [{stream: s, payload: {a: 1}}]\n")
    assert has_recording_header(path) and not has_recording_header(scenario)
    assert (source_kind(path), source_kind(scenario)) == ("recording", "scenario")

    recording = Recording(path)
    assert recording.window(2_000_000, None) is recording  # it says which chunks to read
    assert [e.id for e in recording.events()][-1] == b"5-0"

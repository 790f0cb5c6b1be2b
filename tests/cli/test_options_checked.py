"""Options check themselves when built, from Python as from the CLI, and only real
damage is called damage (issue 16 item 19)."""

from __future__ import annotations

from pathlib import Path

import pytest

from xtape import DiffRules, RecordOptions, diff_recordings
from xtape.diff.compare import Comparer
from xtape.errors import RecordingError, UsageError
from xtape.recording import RecordingWriter


def test_an_unknown_compression_is_refused_when_the_options_are_built() -> None:
    with pytest.raises(UsageError, match=r"^--compression must be zstd, lz4 or none, not 'brotli'$"):
        RecordOptions(["orders"], compression="brotli")


def test_the_writer_refuses_an_unknown_compression_before_creating_the_file(tmp_path: Path) -> None:
    path = tmp_path / "r.xtape"
    with pytest.raises(UsageError, match="must be zstd, lz4 or none"):
        RecordingWriter(path, compression="brotli")
    assert not path.exists()


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"duration": 0.0}, "duration must be more than zero"),
        ({"block": 0.0}, "block must be from 0.001 to 3600 seconds"),
        ({"until_idle": -1.0}, "until_idle must be more than zero"),
        ({"split_size": 0}, "split_size must be more than zero"),
        ({"split_duration": float("nan")}, "split_duration must be more than zero"),
        ({"keep_last": 5.0}, "keep_last .* needs split_size or split_duration"),
    ],
)
def test_record_options_refuse_values_that_cannot_work(changes: dict[str, float], message: str) -> None:
    with pytest.raises(UsageError, match=message):
        RecordOptions(["orders"], **changes)  # type: ignore[arg-type]


def test_dropping_match_by_goes_back_to_strict_order() -> None:
    keyed = DiffRules(match_by="id")
    assert keyed.order == "key"
    plain = keyed.replace(match_by=None)
    assert (plain.match_by, plain.order) == (None, "strict")
    assert keyed.replace(match_by=None, order="multiset").order == "multiset"
    assert DiffRules().replace(match_by="orderId").order == "key"
    with pytest.raises(UsageError, match="order key needs match_by"):
        DiffRules(order="key")


def two_recordings(tmp_path: Path) -> tuple[Path, Path]:
    paths = (tmp_path / "expected.xtape", tmp_path / "actual.xtape")
    for value, path in zip((b"1", b"2"), paths, strict=True):
        with RecordingWriter(path) as writer:
            writer.write_entries(b"s", [[b"1-1", [b"qty", value]]], 1)
    return paths


def test_a_failing_comparison_is_not_called_damage(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    expected, actual = two_recordings(tmp_path)

    def broken(self: Comparer, e: object, a: object) -> list[object]:
        raise ValueError("a bug in a comparer")

    monkeypatch.setattr(Comparer, "diff", broken)
    with pytest.raises(ValueError, match="a bug in a comparer"):
        diff_recordings(expected, actual)


def test_a_damaged_file_is_still_called_damaged(tmp_path: Path) -> None:
    expected, actual = two_recordings(tmp_path)
    data = bytearray(actual.read_bytes())
    data[len(data) // 2] ^= 0xFF
    actual.write_bytes(bytes(data))
    with pytest.raises(RecordingError, match="damaged"):
        diff_recordings(expected, actual)

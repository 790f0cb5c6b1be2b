"""Two commands writing one new output at once: exactly one succeeds, and the other
never replaces the file the first wrote (docs/cli.md, ``xtape.outputs``).

``check_output`` finds the output free before any work; the finished file is then
renamed onto it only if it is still free (without ``--force``). The race is made
certain here by creating the output (another process's file) just before the
command's own file is made or committed; and two real ``xtape cut`` processes are run
at once against one output.
"""

from __future__ import annotations

import os
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from support.e2e import XTAPE, error_line, invoke, ok
from support.paths import SAMPLE

from xtape import outputs
from xtape.errors import UsageError

THEIRS = b"another process's file\n"


def _taken_meanwhile(monkeypatch: pytest.MonkeyPatch, target: Path) -> None:
    """Make ``target`` appear (as another process's) at the moment this command renames
    its finished file onto it (``commit``'s hard link), or creates it directly."""
    link, create_new = os.link, outputs.create_new

    def appear() -> None:
        if not target.exists():
            target.write_bytes(THEIRS)

    def linking(src: Any, dst: Any, **kwargs: Any) -> None:
        if Path(dst) == target:
            appear()
        link(src, dst, **kwargs)

    def new(path: str | Path) -> int:
        if Path(path) == target:
            appear()
        return create_new(path)

    monkeypatch.setattr(os, "link", linking)
    monkeypatch.setattr(outputs, "create_new", new)


def _jsonl(tmp: Path) -> Path:
    lines = ok(invoke("cat", SAMPLE, "-n", "20")).stdout
    path = tmp / "in.jsonl"
    path.write_text(lines)
    return path


#: A command writing one output file: (its arguments, given the output and a folder).
WRITERS: dict[str, Callable[[Path, Path], list[object]]] = {
    "cut": lambda out, tmp: ["cut", SAMPLE, "-o", out, "--sample", "50%", "-q"],
    "merge": lambda out, tmp: ["merge", SAMPLE, "-o", out, "-q"],
    "convert": lambda out, tmp: ["convert", SAMPLE, "-o", out, "-q"],
    "infer": lambda out, tmp: ["infer", SAMPLE, "-o", out, "-q"],
    "import": lambda out, tmp: ["import", _jsonl(tmp), "-o", out, "-q"],
    "diff --html": lambda out, tmp: ["diff", SAMPLE, SAMPLE, "--html", out, "-q"],
}


@pytest.mark.parametrize("command", list(WRITERS))
def test_an_output_made_meanwhile_by_another_process_is_not_replaced(
    command: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    out = tmp_path / "out.file"
    args = WRITERS[command](out, tmp_path)
    _taken_meanwhile(monkeypatch, out)
    line = error_line(invoke(*args), 2)
    assert line == f"xtape: error: {out} was created meanwhile by another process; not replaced (pass --force to overwrite it)"
    assert out.read_bytes() == THEIRS
    assert [p.name for p in tmp_path.iterdir() if p.name.endswith(".part")] == []


@pytest.mark.parametrize("command", ["cut", "merge", "convert"])
def test_with_force_the_output_is_replaced_all_the_same(
    command: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    out = tmp_path / "out.file"
    _taken_meanwhile(monkeypatch, out)
    ok(invoke(*WRITERS[command](out, tmp_path), "--force"))
    assert out.read_bytes() != THEIRS


def test_the_library_writes_where_it_is_told(tmp_path: Path) -> None:
    # Only the command line's check makes an output "new only": a program's writer
    # replaces a file as open(path, "w") would.
    out = tmp_path / "x.txt"
    out.write_bytes(THEIRS)
    outputs.write_text(out, "mine")
    assert out.read_text() == "mine"
    fresh = tmp_path / "y.txt"
    outputs.check_output(fresh, force=False)
    fresh.write_bytes(THEIRS)
    with pytest.raises(UsageError, match="created meanwhile"):
        outputs.write_text(fresh, "mine")
    with pytest.raises(UsageError, match="created meanwhile"):
        outputs.create(fresh)
    assert fresh.read_bytes() == THEIRS
    outputs.forget_checked()
    outputs.write_text(fresh, "mine")
    assert fresh.read_text() == "mine"


def test_two_cuts_to_one_new_output_at_once_one_succeeds(tmp_path: Path) -> None:
    out = tmp_path / "both.xtape"
    command = [XTAPE, "cut", str(SAMPLE), "-o", str(out), "-q"]
    for _ in range(5):  # (whichever interleaving each round takes, one wins)
        out.unlink(missing_ok=True)
        procs = [
            subprocess.Popen([*command, "--stream", stream], stderr=subprocess.PIPE, text=True)
            for stream in ("prod:price.update", "prod:order.request")
        ]
        done = [(p.returncode, err) for p in procs for _, err in [p.communicate(timeout=60)]]
        codes = sorted(code for code, _ in done)
        assert codes == [0, 2], done
        loser = next(err for code, err in done if code == 2)
        assert loser.startswith(f"xtape: error: {out}"), loser
        assert ("exists; pass --force" in loser) or ("created meanwhile" in loser), loser
        winner = procs[[code for code, _ in done].index(0)]
        shown = subprocess.run(
            [XTAPE, "info", str(out), "--json"], capture_output=True, text=True, check=True
        ).stdout
        wanted = "prod:price.update" if winner is procs[0] else "prod:order.request"
        assert wanted in shown

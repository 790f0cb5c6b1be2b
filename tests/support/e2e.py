"""Support for the CLI and end-to-end tests (no tests here): run the CLI in-process or as
a process, write recordings with a chosen time layout, read streams back as raw bytes."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import sysconfig
import tempfile
import time
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path

import pytest
import redis
from typer.testing import CliRunner, Result

from support.paths import ROOT
from support.streams import xrange_raw
from xtape.cli import app
from xtape.recording import RecordingWriter

#: The ``xtape`` console script of the interpreter running the tests (for subprocesses).
XTAPE = str(Path(sys.executable).with_name("xtape"))

#: A URL nothing listens on, with a password that must never be printed.
UNREACHABLE_URL = "redis://:secret@127.0.0.1:1/0"

#: Field lists a careless implementation would mangle: duplicate names, empty names and
#: values, bytes that are not UTF-8, non-Latin text.
AWKWARD: list[list[bytes]] = [
    [b"a", b"1", b"a", b"2", b"b", b""],
    [b"", b"empty name"],
    [b"bin\xff\x00", b"\x80\x81\xfe not utf-8"],
    ["ключ".encode(), "значение 😀".encode()],
]

# fmt: off
#: Values that YAML (or a templating step) would retype or rewrite if left unquoted.
TRICKY_TEXT: list[str] = [
    "5.0", "1e3", "007", "true", "null", "~", "yes", "no", "off", "True", "NULL",
    "0x1F", "0o17", ".inf", "NaN", "-0", "+1", "12:30", "2024-01-01", "<<",
    "{{notavar}}", "{{ index }}", "{{timestamp}}", "{{",
    " lead", "trail ", "  ", "", "multi\nline", "trailing\n", "crlf\r\nx", "tab\there",
    "a: b", "- x", "#c", "'q'", '"dq"', "&anchor", "*alias", "!tag", "%dir", "@at",
    "| block", "> fold", "[", "{", "\\", "\x00nul", "nel\x85x", "ls\u2028x", "\ufeffbom",
]
# fmt: on

#: A value of exactly 1 MiB covering every byte value.
MIB_VALUE = bytes(range(256)) * 4096


def invoke(*args: object, env: dict[str, str | None] | None = None, input: bytes | None = None) -> Result:
    """Run ``xtape ARGS`` in-process (``input`` on its standard input); stdout and stderr
    come back separately.

    An exception that escaped the CLI would be a traceback in front of a user, so it
    fails the test here instead of hiding in ``result.exception``.
    """
    result = CliRunner().invoke(app, [str(a) for a in args], input=input, env=env)
    exc = result.exception
    if exc is not None and not isinstance(exc, SystemExit):
        raise AssertionError(f"xtape {' '.join(map(str, args))} raised {exc!r}") from exc
    return result


def error_line(result: Result, exit_code: int) -> str:
    """Check ``result`` failed with ``exit_code`` and exactly one error line on stderr
    (nothing on stdout, no traceback); return that line."""
    assert result.exit_code == exit_code, (result.exit_code, result.stdout, result.stderr)
    assert "Traceback" not in result.output
    assert result.stdout == ""
    lines = result.stderr.splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("xtape: error: "), lines[0]
    return lines[0]


def ok(result: Result) -> Result:
    """Check ``result`` succeeded; return it."""
    assert result.exit_code == 0, (result.exit_code, result.stdout, result.stderr)
    return result


def xadd(
    client: redis.Redis, stream: bytes | str, flat: Sequence[bytes], entry_id: str = "*"
) -> bytes:
    reply: bytes = client.execute_command("XADD", stream, entry_id, *flat)
    return reply


def streams(client: redis.Redis, match: bytes | str = b"*") -> list[bytes]:
    """The names of the stream keys matching ``match``, sorted."""
    return sorted(client.scan_iter(match=match, _type="stream"))


def fields_of(client: redis.Redis, stream: bytes) -> list[list[bytes]]:
    """The flat field lists of ``stream`` in order (ids left out)."""
    return [flat for _, flat in xrange_raw(client, stream)]


def all_entries(client: redis.Redis) -> dict[bytes, list[tuple[bytes, list[bytes]]]]:
    """Every stream of the database with its entries (ids included)."""
    return {name: xrange_raw(client, name) for name in streams(client)}


def write_recording(path: Path, entries: Iterable[tuple[bytes, int, int, Sequence[bytes]]]) -> Path:
    """Write a recording of ``(stream, ms, seq, flat_fields)`` entries.

    The entries are written as one XREAD round (one batch per stream, same capture
    time), so the reader merges them into id order as it does for live recordings.
    """
    per_stream: dict[bytes, list[list[object]]] = {}
    for stream, ms, seq, flat in entries:
        per_stream.setdefault(stream, []).append([f"{ms}-{seq}".encode(), list(flat)])
    capture_ns = time.time_ns()
    with RecordingWriter(path, source={"url": "redis://test/0"}) as writer:
        for stream, raw in per_stream.items():
            writer.write_entries(stream, raw, capture_ns)
    return path


def wait_for(condition: Callable[[], bool], timeout: float = 15.0, what: str = "condition") -> None:
    """Poll ``condition`` until it holds; fail the test after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.01)


def chromium(*args: str, timeout: float = 90) -> subprocess.CompletedProcess[str]:
    """Run Debian's headless Chromium with no network (every name lookup fails, so a page
    that needed the network shows it) and a throwaway profile.

    Skips the test where Chromium is not installed, except in CI (``$CI`` set), where
    ``scripts/test.sh`` installs it and its absence is a failure.
    """
    exe = shutil.which("chromium") or shutil.which("chromium-browser")
    if exe is None:
        if os.environ.get("CI"):
            pytest.fail("chromium is missing in CI (scripts/setup.sh --test installs it)")
        pytest.skip("chromium is not installed (apt-get install -y chromium)")
    with tempfile.TemporaryDirectory(prefix="xtape-chromium-") as profile:
        return subprocess.run(
            [
                exe, "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                "--disable-component-update", "--disable-sync", "--no-first-run", f"--user-data-dir={profile}",
                "--host-resolver-rules=MAP * ~NOTFOUND", "--proxy-server=127.0.0.1:9",
                *args,
            ],
            capture_output=True, text=True, timeout=timeout, check=False,
        )  # fmt: skip


def run_ok(*args: object, cwd: Path | None = None, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    """Run a command to its end; fail the test (with its output) unless it exits 0."""
    done = subprocess.run(
        [str(a) for a in args], cwd=cwd, capture_output=True, text=True, timeout=timeout, check=False
    )
    assert done.returncode == 0, (args, done.stdout[-2000:], done.stderr[-2000:])
    return done


def wheel_in_fresh_venv(tmp_path: Path, *, timeout: float = 120) -> tuple[Path, Path]:
    """``(python, site-packages)`` of a new virtualenv in ``tmp_path`` holding xtape as
    a normal install: its wheel built offline from a copy of the sources (so nothing,
    build/ or *.egg-info, lands in the working tree; setup.py compiles the XADD packer
    anew), installed without dependencies. Those come from this test run's environment,
    after the venv's own site-packages (a path line in a .pth file: that directory's
    own .pth files, such as an editable install of xtape, are not run)."""
    src = tmp_path / "src"
    src.mkdir()
    for name in ("pyproject.toml", "setup.py", "README.md"):
        shutil.copy(ROOT / name, src / name)
    ignore = shutil.ignore_patterns("__pycache__", "*.so", "*.actual.xtape")
    shutil.copytree(ROOT / "xtape", src / "xtape", ignore=ignore)
    dist = tmp_path / "dist"
    run_ok(sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "--no-index",
           "--disable-pip-version-check", "-q", "-w", dist, src, timeout=timeout)  # fmt: skip
    [wheel] = dist.glob("xtape-*.whl")
    venv = tmp_path / "venv"
    run_ok(sys.executable, "-m", "venv", "--without-pip", venv, timeout=timeout)
    python = venv / "bin" / "python"
    run_ok(sys.executable, "-m", "pip", "--python", python, "install", "--no-index", "--no-deps",
           "--disable-pip-version-check", "-q", wheel, timeout=timeout)  # fmt: skip
    code = "import sysconfig; print(sysconfig.get_paths()['purelib'])"
    purelib = Path(run_ok(python, "-c", code, timeout=timeout).stdout.strip())
    (purelib / "zz_xtape_test_deps.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    return python, purelib

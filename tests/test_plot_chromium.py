"""The HTML of ``xtape plot`` in a real headless browser (Debian's ``chromium``, which
``scripts/setup.sh`` installs): it renders, its DOM names every stream and marker, and
its screenshot is a drawn picture, with no network needed."""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import subprocess
from pathlib import Path

import pytest
from e2e_support import invoke, ok
from PIL import Image
from test_plot import MARKERS, SAMPLE, SAMPLE_STREAMS, no_outside_references, write_eventful

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")

pytestmark = pytest.mark.skipif(
    CHROMIUM is None,
    reason="no chromium on PATH (scripts/setup.sh installs Debian's chromium: apt-get install chromium)",
)


def chromium(tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """Run headless Chromium with a throwaway profile and nothing that goes online;
    kill its whole process group on the way out."""
    assert CHROMIUM is not None
    profile = tmp_path / "profile"
    cmd = [
        CHROMIUM,
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--no-first-run",
        f"--user-data-dir={profile}",
        *args,
    ]
    proc = subprocess.Popen(
        cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True
    )
    try:
        out, err = proc.communicate(timeout=90)
    finally:
        with contextlib.suppress(ProcessLookupError):  # its helpers too, if any are left
            os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
    assert proc.returncode == 0, err[-2000:]
    return subprocess.CompletedProcess(cmd, proc.returncode, out, err)


def test_the_page_opens_in_chromium_and_shows_streams_and_markers(tmp_path: Path) -> None:
    recording = write_eventful(tmp_path / "eventful.xtape")
    page = tmp_path / "eventful.html"
    ok(invoke("plot", recording, "-o", page))
    no_outside_references(page.read_text())
    dom = chromium(tmp_path, "--dump-dom", page.as_uri()).stdout
    assert "<svg" in dom
    for stream in ("orders:eu", "orders:us", "prices.$btc", "audit"):
        assert stream in dom
    for kind, _ in MARKERS.values():
        assert f'<td class="kind">{kind}</td>' in dom  # the table
        assert f"marker: {kind}" in dom  # the picture's legend, as SVG text
    assert "gap: 240 lost" in dom

    shot = tmp_path / "shot.png"
    chromium(tmp_path, f"--screenshot={shot}", "--window-size=1200,800", page.as_uri())
    with Image.open(shot) as image:
        assert image.size == (1200, 800)
        rgb = image.convert("RGB")
        colors = rgb.getcolors(maxcolors=1_000_000) or []
    assert len(colors) > 100  # text, lines, fills: a drawn picture, not a blank page
    # The restart marker's red and the first stream's blue are on screen.
    present = {c for _, c in colors}
    assert any(
        abs(r - 0xC0) < 12 and abs(g - 0x39) < 12 and abs(b - 0x2B) < 12 for r, g, b in present
    )
    assert any(
        abs(r - 0x1F) < 12 and abs(g - 0x77) < 12 and abs(b - 0xB4) < 12 for r, g, b in present
    )


def test_the_sample_page_opens_in_chromium(tmp_path: Path) -> None:
    page = tmp_path / "sample.html"
    ok(invoke("plot", SAMPLE, "-o", page))
    dom = chromium(tmp_path, "--dump-dom", page.as_uri()).stdout
    for stream in SAMPLE_STREAMS:
        assert stream in dom
    assert "155 entries in 10 streams" in dom

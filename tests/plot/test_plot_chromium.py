"""The HTML of ``xtape plot`` in a real headless browser (Debian's ``chromium``, which
``scripts/setup.sh --test`` installs; run by ``support.e2e.chromium`` with every name
lookup failing and a dead proxy, so the page must need no network): it renders, its DOM
names every stream and marker, and its screenshot is a drawn picture."""

from __future__ import annotations

from pathlib import Path

from PIL import Image
from support.e2e import chromium, invoke, ok
from support.paths import SAMPLE
from support.plot import MARKERS, SAMPLE_STREAMS, no_outside_references, write_eventful


def browse(*args: str) -> str:
    result = chromium(*args)
    assert result.returncode == 0, result.stderr[-2000:]
    return result.stdout


def test_the_page_opens_in_chromium_and_shows_streams_and_markers(tmp_path: Path) -> None:
    recording = write_eventful(tmp_path / "eventful.xtape")
    page = tmp_path / "eventful.html"
    ok(invoke("plot", recording, "-o", page))
    no_outside_references(page.read_text())
    dom = browse("--dump-dom", page.as_uri())
    assert "<svg" in dom
    for stream in ("orders:eu", "orders:us", "prices.$btc", "audit"):
        assert stream in dom
    for kind, _ in MARKERS.values():
        assert f'<td class="kind">{kind}</td>' in dom  # the table
        assert f"marker: {kind}" in dom  # the picture's legend, as SVG text
    assert "gap: 240 lost" in dom

    shot = tmp_path / "shot.png"
    browse(f"--screenshot={shot}", "--window-size=1200,800", page.as_uri())
    with Image.open(shot) as image:
        assert image.size == (1200, 800)
        colors = image.convert("RGB").getcolors(maxcolors=1_000_000) or []
    assert len(colors) > 100  # text, lines, fills: a drawn picture, not a blank page
    present = {c for _, c in colors}

    def shown(hex_color: str) -> bool:
        want = bytes.fromhex(hex_color)
        return any(all(abs(a - b) < 12 for a, b in zip(c, want, strict=True)) for c in present)

    assert shown("c0392b")  # the restart marker's red
    assert shown("1f77b4")  # the first stream's blue


def test_the_sample_page_opens_in_chromium(tmp_path: Path) -> None:
    page = tmp_path / "sample.html"
    ok(invoke("plot", SAMPLE, "-o", page))
    dom = browse("--dump-dom", page.as_uri())
    for stream in SAMPLE_STREAMS:
        assert stream in dom
    assert "155 entries in 10 streams" in dom

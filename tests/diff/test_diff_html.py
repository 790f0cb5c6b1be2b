"""The ``--html`` report, opened in a real headless Chromium (Debian's ``chromium``):
it renders, shows the differences, and fetches nothing (no network needed).

Skipped, with the reason, when ``chromium`` is not installed (``apt-get install -y
chromium``); ``scripts/check_html_report.sh`` runs the same check by hand and keeps
the screenshot.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from support.diff import write
from support.e2e import chromium, invoke


@pytest.fixture()
def report(tmp_path: Path) -> Path:
    """``xtape diff --html`` of two recordings with a changed, a JSON, a missing and an
    extra entry, and non-UTF-8 bytes."""
    exp = [
        [b"orderId", b"o%d" % i, b"fillPrice", b"100.00", b"payload", b'{"qty": 1, "meta": {"ts": %d}}' % i, b"bin", b"\xff\x00"]
        for i in range(5)
    ]
    act = [list(f) for f in exp]
    act[1][3] = b"100.50"
    act[1] += [b"note", b"<b>x</b>"]
    act[2][5] = b'{"qty": 2, "meta": {"ts": 99}}'
    del act[3]
    act.append([b"orderId", b"o9", b"fillPrice", b"1", b"payload", b"{}", b"bin", b"<\xfe>"])
    out = tmp_path / "report.html"
    result = invoke(
        "diff", write(tmp_path / "e.xtape", {b"order.accepted": exp}),
        write(tmp_path / "a.xtape", {b"order.accepted": act}),
        "--tolerance", "fillPrice=0.01", "--json-field", "payload", "--ignore-path", "payload.meta.ts",
        "--html", out,
    )  # fmt: skip
    assert result.exit_code == 1, result.stderr
    return out


def test_html_report_is_self_contained(report: Path) -> None:
    html = report.read_text(encoding="utf-8")
    assert html.startswith("<!DOCTYPE html>")
    for outside in ("http://", "https://", "<script", "src=", "@import", "url(", "<link"):
        assert outside not in html, outside
    assert "default-src 'none'" in html  # the page may not fetch anything, by its own policy
    assert "<b>x</b>" not in html and "&lt;b&gt;x&lt;/b&gt;" in html  # values escaped, never markup


def test_html_report_renders_in_headlesschromium(report: Path, tmp_path: Path) -> None:
    dom = chromium("--dump-dom", report.as_uri())
    assert dom.returncode == 0, dom.stderr[-2000:]
    text = re.sub(r"<[^>]+>", " ", dom.stdout)
    text = re.sub(r"\s+", " ", text)
    assert "differs: 1 of 1 stream (2 changed, 1 missing, 1 extra; 2 same)" in text
    assert "fillPrice" in text and "100.50" in text and "beyond the tolerance 0.01" in text
    assert "payload.qty" in text
    assert '"&lt;b&gt;x&lt;/b&gt;"' in dom.stdout and "extra field" in text
    assert "expected #3" in text and "actual #4" in text
    assert "base64:PP4+" in text  # b"<\xfe>" as base64, not as markup
    shot = tmp_path / "report.png"
    run = chromium("--window-size=1280,1000", f"--screenshot={shot}", report.as_uri())
    assert run.returncode == 0, run.stderr[-2000:]
    data = shot.read_bytes()
    assert data.startswith(b"\x89PNG") and len(data) > 10_000

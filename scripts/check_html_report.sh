#!/usr/bin/env bash
# Open an `xtape diff --html` report in headless Chromium (Debian's `chromium`) and check
# that it renders, shows the differences and needs no network; keep a screenshot.
#
#   bash scripts/check_html_report.sh [REPORT.html] [SCREENSHOT.png]
#
# Without REPORT, a sample report is made from two small recordings. Needs `chromium`
# (apt-get install -y chromium). The pytest version is tests/diff/test_diff_html.py.
set -euo pipefail
cd "$(dirname "$0")/.."
CHROMIUM=$(command -v chromium || command -v chromium-browser || true)
if [ -z "$CHROMIUM" ]; then
    echo "check_html_report: chromium is not installed (apt-get install -y chromium)" >&2
    exit 2
fi
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
report=${1:-}
shot=${2:-$PWD/diff-report.png}
if [ -z "$report" ]; then
    report=$work/report.html
    .venv/bin/python - "$work" <<'PY'
import sys
from pathlib import Path
from xtape.diff import DiffRules, diff_recordings
from xtape.recording import RecordingWriter

work = Path(sys.argv[1])
exp = [[b"orderId", b"o%d" % i, b"fillPrice", b"100.00", b"payload", b'{"qty": 1, "meta": {"ts": %d}}' % i]
       for i in range(5)]
act = [list(f) for f in exp]
act[1][3] = b"100.50"
act[2][5] = b'{"qty": 2, "meta": {"ts": 99}}'
del act[3]
act.append([b"orderId", b"o9", b"fillPrice", b"1", b"payload", b"{}", b"bin", b"\xfe"])
for name, entries in (("e", exp), ("a", act)):
    with RecordingWriter(work / f"{name}.xtape") as w:
        w.write_entries(b"order.accepted", [[b"1-%d" % i, f] for i, f in enumerate(entries)], 1)
rules = DiffRules(tolerances={"fillPrice": "0.01"}, json_fields=("payload",), ignore_paths=["payload.meta.ts"])
diff_recordings(work / "e.xtape", work / "a.xtape", rules).write_html(work / "report.html")
PY
fi
if grep -Eq 'https?://|<script|src=|@import|url\(|<link' "$report"; then
    echo "check_html_report: $report refers to something outside itself" >&2
    exit 1
fi
chrome() {
    "$CHROMIUM" --headless --no-sandbox --disable-gpu --disable-background-networking \
        --disable-component-update --disable-sync --no-first-run --user-data-dir="$(mktemp -d -p "$work")" \
        --host-resolver-rules="MAP * ~NOTFOUND" --proxy-server=127.0.0.1:9 "$@" 2>"$work/chromium.log"
}
chrome --dump-dom "file://$(realpath "$report")" >"$work/dom.html"
for want in 'class="verdict' 'order.accepted' 'fillPrice'; do
    if ! grep -q "$want" "$work/dom.html"; then
        echo "check_html_report: the rendered page lacks $want" >&2
        exit 1
    fi
done
chrome --window-size=1280,1000 --screenshot="$shot" "file://$(realpath "$report")" >/dev/null
echo "check_html_report: $report renders offline with its differences; screenshot: $shot"

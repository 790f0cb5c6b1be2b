"""The deployment that can be copied: deploy/xtape-record.service passes ``systemd-analyze
verify`` (and its hardening scores well), runs the recorder from deploy/record.yaml, which
is a valid config; deploy/alerts.yml passes ``promtool check rules`` and its unit tests."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest
from support.e2e import XTAPE
from support.paths import ROOT

DEPLOY = ROOT / "deploy"
UNIT = DEPLOY / "xtape-record.service"
#: The metric names the alerts and docs/operate.md use (docs/metrics.md defines them).
METRICS = (
    "xtape_record_entries_total", "xtape_record_lag_entries", "xtape_record_lag_seconds",
    "xtape_record_gaps_total", "xtape_record_connected",
    "xtape_record_last_entry_timestamp_seconds", "xtape_record_write_errors_total",
)  # fmt: skip
SYSTEMD_ANALYZE = shutil.which("systemd-analyze")
PROMTOOL = shutil.which("promtool")


def unit_here(tmp_path: Path) -> Path:
    """A copy of the unit whose ExecStart runs this environment's xtape (verify checks
    that the binary exists)."""
    text = UNIT.read_text(encoding="utf-8")
    assert "ExecStart=/usr/local/bin/xtape " in text
    copy = tmp_path / UNIT.name
    copy.write_text(text.replace("ExecStart=/usr/local/bin/xtape ", f"ExecStart={XTAPE} "), encoding="utf-8")
    return copy


def settings(text: str) -> dict[str, list[str]]:
    found: dict[str, list[str]] = {}
    for line in text.splitlines():
        if "=" in line and not line.startswith(("#", "[")):
            key, _, value = line.partition("=")
            found.setdefault(key.strip(), []).append(value.strip())
    return found


@pytest.mark.skipif(SYSTEMD_ANALYZE is None, reason="systemd-analyze is not installed")
def test_the_unit_passes_systemd_analyze_verify_without_a_warning(tmp_path: Path) -> None:
    done = subprocess.run([SYSTEMD_ANALYZE, "verify", unit_here(tmp_path)], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert done.stderr.strip() == "", done.stderr  # (verify says "ignoring" and exits 0 on a bad line)


@pytest.mark.skipif(SYSTEMD_ANALYZE is None, reason="systemd-analyze is not installed")
def test_the_unit_is_hardened(tmp_path: Path) -> None:
    done = subprocess.run(
        [SYSTEMD_ANALYZE, "security", "--offline=true", unit_here(tmp_path)], capture_output=True, text=True
    )
    found = re.search(r"Overall exposure level for \S+: ([\d.]+)", done.stdout + done.stderr)
    if found is None:
        pytest.skip(f"this systemd-analyze cannot rate a unit file offline: {done.stderr.strip()}")
    assert float(found.group(1)) <= 2.0, done.stdout  # systemd's "OK" band


def test_the_unit_runs_the_recorder_from_its_config_and_restarts_on_failure() -> None:
    unit = settings(UNIT.read_text(encoding="utf-8"))
    command = unit["ExecStart"][0].split()
    assert command[1:] == ["record", "--config", "/etc/xtape/record.yaml", "--log-format", "json"]
    assert unit["Restart"] == ["on-failure"]
    assert unit["StateDirectory"] == ["xtape"] and unit["ProtectSystem"] == ["strict"]
    assert unit["NoNewPrivileges"] == ["yes"] and unit["CapabilityBoundingSet"] == [""]


def test_the_shipped_config_is_valid_and_writes_where_the_unit_lets_it(tmp_path: Path) -> None:
    done = subprocess.run(
        [XTAPE, "record", "--config", DEPLOY / "record.yaml", "--print-config"], capture_output=True, text=True
    )
    assert done.returncode == 0, done.stderr
    rows = dict(line.split("  # ")[0].rstrip().split(": ", 1) for line in done.stdout.splitlines()[1:])
    assert rows["output"].startswith("/var/lib/xtape/")  # the unit's StateDirectory
    assert rows["keep-last"] == "24h" and rows["split-duration"] == "1h"


@pytest.mark.skipif(PROMTOOL is None, reason="promtool is not installed (Debian: prometheus)")
def test_the_alert_rules_pass_promtool_check_and_their_unit_tests() -> None:
    check = subprocess.run([PROMTOOL, "check", "rules", DEPLOY / "alerts.yml"], capture_output=True, text=True)
    assert check.returncode == 0, check.stdout + check.stderr
    assert "SUCCESS: 7 rules found" in check.stdout
    tested = subprocess.run(
        [PROMTOOL, "test", "rules", "alerts_test.yml"], capture_output=True, text=True, cwd=DEPLOY
    )
    assert tested.returncode == 0, tested.stdout + tested.stderr


def test_the_alerts_and_the_operators_guide_use_the_metric_names() -> None:
    alerts = (DEPLOY / "alerts.yml").read_text(encoding="utf-8")
    guide = (DEPLOY.parent / "docs" / "operate.md").read_text(encoding="utf-8")
    for name in METRICS:
        assert name in guide, name
        assert name in alerts or name == "xtape_record_entries_total", name  # (a rate, not an alert)
    assert "(metrics.md)" in guide
    assert set(re.findall(r"xtape_record_\w+", alerts)) <= set(METRICS)

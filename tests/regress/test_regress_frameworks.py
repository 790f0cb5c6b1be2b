"""Real frameworks under `xtape test` and the pytest plugin (issue 17 item 7): the
FastStream pricer of examples/pricer and a taskiq worker (taskiq-redis's stream broker),
both with their defaults (consumer groups created at $), both run as processes.

Their payloads (FastStream's binary envelope) are decoded by the codec detected for the
stream, so a difference names the body's field (``total``)."""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

import pytest
from support.paths import FRAMEWORKS, ROOT

from xtape.pytest_plugin import XtapeFixture
from xtape.regress import load_case, run_case

pytestmark = pytest.mark.slow
pytest.importorskip("faststream.redis")
pytest.importorskip("taskiq_redis")

PRICER = ROOT / "examples" / "pricer"


def _copy(folder: Path, tmp_path: Path, edits: dict[str, tuple[str, str]] | None = None) -> Path:
    out = tmp_path / folder.name
    shutil.copytree(folder, out, ignore=shutil.ignore_patterns("*.actual.xtape", "*.service.log", "__pycache__"))
    for name, (old, new) in (edits or {}).items():
        path = out / name
        text = path.read_text(encoding="utf-8")
        assert old in text, (name, old)
        path.write_text(text.replace(old, new), encoding="utf-8")
    return out


def _pricer_with(tmp_path: Path, setting: str, case_timeout: str) -> Path:
    """The pricer with one of its SKU sets given (``SLOW_SKUS = ...``) and the case's
    ``timeout:`` line replaced."""
    name = setting.split(" = ")[0]
    return _copy(
        PRICER, tmp_path,
        {"service.py": (f"{name}: frozenset[str] = frozenset()", setting), "case.yaml": ("timeout: 20s", case_timeout)},
    )  # fmt: skip


def test_the_faststream_pricer_passes_its_case_with_no_hand_written_rule(tmp_path: Path) -> None:
    folder = _copy(PRICER, tmp_path)
    case = load_case(folder / "case.yaml")
    assert not (case.rules.ignore_fields or case.rules.paths or case.rules.tolerances)

    result = run_case(case)

    assert result.status == "same", result.summary() + "\n" + result.details()
    assert result.noise == ["headers.correlation_id"]
    assert result.latency[b"price.quote"].count == 12


def test_the_pricer_fails_naming_the_value_when_its_rounding_changes(tmp_path: Path) -> None:
    folder = _copy(PRICER, tmp_path, {"service.py": ("DECIMALS = 2", "DECIMALS = 1")})

    result = run_case(load_case(folder / "case.yaml"))

    assert result.status == "differs"
    assert "price.quote: 12 changed" in result.summary()
    details = result.details()
    assert "  total: changed in 12 of 12 entries (the first 3 shown)" in details
    assert '~ changed  #0 id ' in details and '(orderId "o-1")' in details  # its correlate_by key
    assert 'total: "14.94" -> "14.9"' in details
    assert "headers.correlation_id:" not in details  # noise: in the rules line only


def test_the_pricer_fails_naming_the_inputs_its_handler_raised_on(tmp_path: Path) -> None:
    folder = _pricer_with(tmp_path, 'FAILING_SKUS = frozenset({"B-2"})', "timeout: 4s")

    result = run_case(load_case(folder / "case.yaml"))

    assert result.status == "differs"
    assert "price.request (group pricer): the service did not acknowledge 3 of 12 inputs" in result.summary()
    pending = result.details().split("pending (delivered, never acknowledged):")[1]
    for order in ("o-2", "o-6", "o-10"):
        assert f'orderId="{order}" sku="B-2"' in pending
    assert "ValueError: no price list for B-2" in (folder / "golden.service.log").read_text(encoding="utf-8")


def test_the_pricer_fails_its_latency_guard_when_slowed_while_the_values_match(tmp_path: Path) -> None:
    folder = _pricer_with(tmp_path, 'SLOW_SKUS = frozenset({"B-2"})', "timeout: 20s\nlatency: {p99: 150ms}")

    result = run_case(load_case(folder / "case.yaml"))

    assert result.diff is not None and result.diff.same
    assert result.status == "differs"
    assert "latency of price.quote: p99 " in result.summary() and "above the limit of 150 ms" in result.summary()


def test_a_taskiq_worker_passes_its_case_and_fails_on_a_changed_total(tmp_path: Path) -> None:
    folder = _copy(FRAMEWORKS, tmp_path)
    assert run_case(load_case(folder / "taskiq_case.yaml")).status == "same"
    (folder / "taskiq_pricer.py").write_text(
        (folder / "taskiq_pricer.py").read_text(encoding="utf-8").replace("DECIMALS = 2", "DECIMALS = 1"), encoding="utf-8"
    )

    result = run_case(load_case(folder / "taskiq_case.yaml"))

    assert result.status == "differs"
    assert '~ changed  #0 id ' in result.details() and '(orderId "o-1")' in result.details()
    assert 'total: "14.94" -> "14.9"' in result.details()


def test_the_pytest_plugin_runs_the_pricer_case_and_fails_on_pending_inputs(xtape: XtapeFixture, tmp_path: Path) -> None:
    xtape.run_case(PRICER / "case.yaml")  # passes: returns
    folder = _copy(
        PRICER, tmp_path,
        {"service.py": ("FAILING_SKUS: frozenset[str] = frozenset()", 'FAILING_SKUS = frozenset({"A-1"})')},
    )
    with xtape.service([sys.executable, str(folder / "service.py")], inputs=["price.request"]):
        actual = xtape.capture(folder / "orders.yaml", "price.quote", max_speed=True, settle=0.3, timeout=4)
    assert actual.entries == 9 and len(actual.leftovers) == 1

    with pytest.raises(pytest.fail.Exception) as failed:
        xtape.assert_matches(folder / "golden.xtape", actual)

    assert "price.request (group pricer): the service did not acknowledge 3 of 12 inputs" in str(failed.value)
    assert 'orderId="o-1" sku="A-1"' in str(failed.value)


def test_the_pytest_plugin_runs_the_taskiq_case(xtape: XtapeFixture, tmp_path: Path) -> None:
    folder = _copy(FRAMEWORKS, tmp_path)

    result = xtape.run_case(folder / "taskiq_case.yaml")

    assert result.status == "same" and result.latency[b"quotes"].count == 6

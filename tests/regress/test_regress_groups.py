"""Consumer groups in regression runs (issue 17 items 2 and 3): readiness waits for the
service's group, the capture waits for the group to finish, inputs left pending or
unread fail the case, a persistent server's stale group cannot fool a run, and an empty
or service-less case cannot pass."""

from __future__ import annotations

from pathlib import Path

import pytest
import redis
from support.regress import write_case

from xtape.regress import load_case, run_case

pytestmark = pytest.mark.slow


def test_without_ready_the_run_waits_for_the_group_the_service_creates_at_dollar(tmp_path: Path) -> None:
    # The service takes a second to create its group at $: inputs published before are lost.
    case = load_case(write_case(tmp_path, count=20, env={"START_DELAY": "1.0"}))

    updated = run_case(case, update=True, runs=1)

    assert updated.status == "updated", updated.summary()
    assert updated.capture is not None and updated.capture.entries == 20
    assert run_case(case).status == "same"


def test_the_capture_waits_until_the_group_read_and_acknowledged_everything(tmp_path: Path) -> None:
    # One input takes 1.2 s, longer than the outputs' settle time of 300 ms.
    ready = {"group": {"stream": "in", "name": "svc"}}
    case = load_case(write_case(tmp_path, count=6, env={"SLOW": "2"}, ready=ready))

    updated = run_case(case, update=True, runs=1)

    assert updated.capture is not None and updated.capture.entries == 6, updated.summary()
    assert updated.capture.stop_reason == "settled"


def test_unacknowledged_inputs_fail_the_case_even_when_the_outputs_match(tmp_path: Path) -> None:
    write_case(tmp_path, count=5, timeout="3s")
    assert run_case(load_case(tmp_path / "case.yaml"), update=True, runs=1).status == "updated"
    # Now the service answers every input but never acknowledges two of them.
    case = load_case(write_case(tmp_path, count=5, timeout="3s", env={"NO_ACK": "1,3"}))

    result = run_case(case)

    assert result.status == "differs" and result.exit_code == 1
    assert result.diff is not None and result.diff.same  # the outputs are all there
    assert "in (group svc): the service did not acknowledge 2 of 5 inputs" in result.summary()
    details = result.details()
    assert "pending (delivered, never acknowledged):" in details
    assert 'n="1"' in details and 'n="3"' in details and 'n="2"' not in details


def test_inputs_never_read_are_named(tmp_path: Path) -> None:
    write_case(tmp_path, count=5, timeout="3s")
    run_case(load_case(tmp_path / "case.yaml"), update=True, runs=1)
    case = load_case(write_case(tmp_path, count=5, timeout="3s", env={"READ_ONLY": "3"}))

    result = run_case(case)

    assert result.status == "differs"
    assert "the service never read 2 of 5 inputs" in result.summary()
    assert "never delivered:" in result.details() and 'n="4"' in result.details()


def test_a_stale_group_on_a_persistent_server_does_not_pass_for_ready(tmp_path: Path, redis_url: str) -> None:
    # A service that moves its group to $ when the group already exists ("start from now").
    env = {"START_DELAY": "0.5", "ON_BUSY": "setid"}
    case = load_case(write_case(tmp_path, count=10, env=env, ready={"group": {"stream": "in", "name": "svc"}}))
    assert run_case(case, url=redis_url, update=True, runs=1).status == "updated"

    second = run_case(case, url=redis_url)

    assert second.status == "same", second.summary() + second.details()


def test_ready_group_takes_a_list_and_log_waits_for_a_line(tmp_path: Path) -> None:
    case = load_case(write_case(tmp_path, ready={"group": [{"stream": "in"}, {"stream": "in", "name": "svc"}]}))
    assert case.ready is not None and case.ready.groups == (("in", None), ("in", "svc"))
    # A service reading with XREAD from $ (no group): ready once it says "listening".
    case = load_case(write_case(tmp_path, count=10, env={"MODE": "xread"}, ready={"log": "listening on"}))

    updated = run_case(case, update=True, runs=1)

    assert updated.capture is not None and updated.capture.entries == 10, updated.summary()


def test_a_service_without_a_group_and_no_ready_is_an_error_naming_the_way_out(tmp_path: Path) -> None:
    case = load_case(write_case(tmp_path, env={"MODE": "xread"}, ready={"timeout": "1s"}))

    result = run_case(case, update=True, runs=1)

    assert result.status == "error"
    assert "no consumer group on the input stream 'in'" in result.message
    assert "ready: key: or ready: log:" in result.message


def test_update_refuses_an_empty_golden_naming_the_outputs(tmp_path: Path) -> None:
    case = load_case(write_case(tmp_path, service=False, outputs=["out", "other"]))

    result = run_case(case, update=True)

    assert result.status == "error" and result.exit_code == 1
    assert "refusing to write a golden with no entries: the outputs out, other never appeared" in result.message
    assert not (tmp_path / "golden.xtape").exists()


def test_allow_empty_writes_it_and_a_run_says_which_outputs_never_appeared(tmp_path: Path) -> None:
    case = load_case(write_case(tmp_path, service=False, allow_empty=True))
    assert run_case(case, update=True).status == "updated"

    result = run_case(case)

    assert result.status == "same"
    assert "never appeared: out" in result.summary()


def test_ready_with_nothing_to_wait_for_is_an_invalid_case(tmp_path: Path) -> None:
    case = load_case(write_case(tmp_path, service=False, ready={"delay": "100ms"}))

    result = run_case(case, update=True)

    assert result.status == "invalid" and result.exit_code == 2
    assert "ready: has nothing to wait for" in result.message


def test_with_url_the_cases_streams_are_deleted_before_the_service_starts(tmp_path: Path, redis_url: str) -> None:
    client = redis.Redis.from_url(redis_url)
    client.xadd("out", {"n": "old"})
    client.xadd("in", {"n": "99"})
    client.xgroup_create("in", "leftover", id="0")
    case = load_case(write_case(tmp_path, count=3))

    result = run_case(case, url=redis_url, update=True, runs=1)

    assert result.status == "updated" and result.capture is not None and result.capture.entries == 3
    groups = [g["name"] for g in client.xinfo_groups("in")]
    assert groups == [b"svc"] and client.xlen("in") == 3
    client.close()


@pytest.mark.parametrize("timeout", ["3s", None])
def test_replay_capture_reports_inputs_the_group_left_and_exits_1(
    tmp_path: Path, redis_url: str, timeout: str | None, monkeypatch: pytest.MonkeyPatch
) -> None:
    from typer.testing import CliRunner

    from xtape.cli import app
    from xtape.regress import Readiness, Service

    write_case(tmp_path, count=4)
    with Service(["{python}", "svc.py"], redis_url, cwd=tmp_path, env={"NO_ACK": "2"}) as service:
        service.wait_ready(Readiness(groups=(("in", "svc"),)))
        # without a timeout, groups that stopped moving end the capture (shortened here)
        monkeypatch.setattr("xtape.regress.capture._STALL_S", 1.5)
        done = CliRunner().invoke(app, [
            "replay", str(tmp_path / "inputs.yaml"), "--max-speed", "--url", redis_url, "--capture", "out",
            "-o", str(tmp_path / "actual.xtape"), "--settle", "300ms", *(["--timeout", timeout] if timeout else []),
        ])  # fmt: skip

    assert done.exit_code == 1, done.output
    assert "in (group svc): the service did not acknowledge 1 of 4 inputs" in done.stderr
    assert 'n="2"' in done.stderr
    assert f"(stopped: {'timeout' if timeout else 'stalled'}" in done.stderr


def test_update_does_not_write_a_golden_from_a_run_that_left_inputs_pending(tmp_path: Path) -> None:
    case = load_case(write_case(tmp_path, count=4, timeout="3s", env={"NO_ACK": "0"}))

    result = run_case(case, update=True, runs=1)

    assert result.status == "error"
    assert result.message.startswith("the golden was not rewritten: in (group svc): the service did not acknowledge 1 of 4")
    assert not (tmp_path / "golden.xtape").exists()

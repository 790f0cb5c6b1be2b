"""Regression case files: checked as a whole, every error one line with file:line."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from xtape.cli import app
from xtape.errors import CaseError
from xtape.regress import load_case, run_case

runner = CliRunner()

SCENARIO = """\
name: in
events:
  - stream: order.request
    payload: {orderId: o-1}
"""

GOOD = """\
name: demo-case
input:
  scenario: in.yaml
  speed: 4
  streams: [order.*]
  map: {order.request: orders.in}
  variables: {region: eu, limit: 5}
  seed: 3
outputs: [order.accepted, order.rejected]
golden: golden.xtape
settle: 250ms
timeout: 10s
ready:
  group: {stream: order.request, name: matcher}
  delay: 100ms
service:
  command: "{python} service.py --flag 'two words'"
  env: {LOG_LEVEL: debug, WORKERS: 2}
  grace: 2s
diff:
  ignore_fields: [ts, "*Id"]
  tolerance: {price: "0.01"}
"""


@pytest.fixture()
def folder(tmp_path: Path) -> Path:
    (tmp_path / "in.yaml").write_text(SCENARIO, encoding="utf-8")
    return tmp_path


def _case(folder: Path, text: str) -> Path:
    path = folder / "case.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def test_a_full_case_loads_with_paths_relative_to_its_file(folder: Path) -> None:
    case = load_case(_case(folder, GOOD))

    assert case.name == "demo-case"
    assert case.source == folder / "in.yaml"
    assert case.golden == folder / "golden.xtape"
    assert case.outputs == ("order.accepted", "order.rejected")
    assert case.options.pacing.value == 4
    assert case.options.transform.maps == (("order.request", "orders.in"),)
    assert case.variables == {"region": "eu", "limit": "5"}
    assert case.seed == 3
    assert case.settle == 0.25 and case.timeout == 10.0
    assert case.ready is not None and case.ready.groups == (("order.request", "matcher"),)
    assert case.ready.delay == pytest.approx(0.1)
    assert case.service is not None
    assert case.service.command == ("{python}", "service.py", "--flag", "two words")
    assert case.service.env == {"LOG_LEVEL": "debug", "WORKERS": "2"}
    assert case.service.grace == 2.0 and case.service.cwd == folder
    # Diff streams default to the outputs; the rules are the diff package's own.
    assert case.rules.streams == case.outputs
    assert case.rules.ignore_fields == ("ts", "*Id")


def test_the_timing_of_a_case_is_any_timing_mode_by_its_keyword(folder: Path) -> None:
    ramp = load_case(_case(folder, GOOD.replace("  speed: 4", "  rate_ramp: 100:1000:1s")))
    assert ramp.options.pacing.describe() == "ramp 100/s to 1000/s over 1 s"
    rate = load_case(_case(folder, GOOD.replace("  speed: 4", "  rate: 50\n  max_speed: false")))
    assert rate.options.pacing.describe() == "50/s"


@pytest.mark.parametrize(
    ("old", "new", "line", "needle"),
    [
        ("settle: 250ms", "setle: 250ms", 11, "setle: unknown key (known: name, description, input"),
        ("  seed: 3", "  sed: 3", 8, "input.sed: unknown key"),
        ("  delay: 100ms", "  dealy: 100ms", 15, "ready.dealy: unknown key"),
        ("  grace: 2s", "  grace: soon", 19, "service.grace: invalid grace 'soon'"),
        ("settle: 250ms", "settle: 250", 11, "settle: invalid settle '250': use a number with a unit"),
        ("  speed: 4", "  speed: 4\n  rate: 10", 2, "choose one of --speed, --max-speed, --rate and --rate-ramp"),
        ("  ignore_fields: [ts, \"*Id\"]", "  ignore_feilds: [ts]", 21, "diff.ignore_feilds: unknown key"),
        ("  tolerance: {price: \"0.01\"}", "  tolerance: {price: lots}", 22, "diff.tolerance.price"),
        ("  scenario: in.yaml", "  scenario: nowhere.yaml", 3, "input.scenario: no such file"),
        ("  scenario: in.yaml", "  scenario: in.yaml\n  recording: in.yaml", 2, "exactly one of scenario"),
        ("outputs: [order.accepted, order.rejected]", "outputs: 5", 9, "outputs: expected a name or a list"),
        ("  group: {stream: order.request, name: matcher}", "  group: {name: matcher}", 14, "give stream:"),
        ("  seed: 3", "  seed: three", 8, "input.seed: expected a whole number"),
        ("  speed: 4", "  rate_ramp: 100", 4, "input.rate_ramp: expected text"),
        ("  speed: 4", "  rate_ramp: 100:1000", 2, "input: invalid --rate-ramp '100:1000': use START:END:DURATION"),
        ("  speed: 4", "  max_speed: yes please", 4, "input.max_speed: expected true or false"),
    ],
)
def test_mistakes_name_the_file_the_line_and_the_key(
    folder: Path, old: str, new: str, line: int, needle: str
) -> None:
    assert old in GOOD
    path = _case(folder, GOOD.replace(old, new, 1))
    with pytest.raises(CaseError) as caught:
        load_case(path)
    message = str(caught.value)
    assert message.startswith(f"{path}:{line}: "), message
    assert needle in message


def test_missing_required_keys_are_named(folder: Path) -> None:
    path = _case(folder, "input: {scenario: in.yaml}\noutputs: [x]\n")
    with pytest.raises(CaseError, match="missing key 'golden'"):
        load_case(path)


def test_invalid_yaml_and_unsafe_tags_are_case_errors_with_a_line(folder: Path) -> None:
    with pytest.raises(CaseError, match=r"case.yaml:2: invalid YAML"):
        load_case(_case(folder, "name: x\ninput: [\n"))
    with pytest.raises(CaseError, match=r"unsupported tag '!!python/object"):
        load_case(_case(folder, "name: !!python/object:os.system x\n"))


def test_a_missing_golden_is_invalid_input_unless_updating(folder: Path) -> None:
    case = load_case(_case(folder, "input: {scenario: in.yaml}\noutputs: [x]\ngolden: g.xtape\n"))
    result = run_case(case, url="redis://127.0.0.1:1/0")
    assert result.status == "invalid" and result.exit_code == 2
    assert "does not exist yet: run xtape test --update" in result.message


def test_update_refuses_a_golden_that_is_also_the_input(folder: Path, tmp_path: Path) -> None:
    (folder / "g.xtape").write_bytes(b"")
    case = load_case(_case(folder, "input: {recording: g.xtape}\noutputs: [x]\ngolden: g.xtape\n"))
    result = run_case(case, url="redis://127.0.0.1:1/0", update=True)
    assert result.status == "invalid"
    assert "is also the input" in result.message


def test_cli_an_invalid_case_is_reported_in_one_line_and_exits_2(folder: Path) -> None:
    path = _case(folder, GOOD.replace("settle: 250ms", "setle: 250ms"))
    junit = folder / "report.xml"
    done = runner.invoke(app, ["test", str(path), "--junit", str(junit)])
    assert done.exit_code == 2
    assert done.stdout.startswith(f"INVALID  case ({path}): ")
    assert f"{path}:11: setle: unknown key" in done.stdout
    assert 'errors="1"' in junit.read_text(encoding="utf-8")


def test_cli_nothing_after_dashdash_is_refused(folder: Path) -> None:
    path = _case(folder, GOOD)
    done = runner.invoke(app, ["test", str(path), "--"])
    assert done.exit_code == 2
    assert "nothing after --" in done.stderr


ESCAPE_CASE = """\
input: {scenario: in.yaml, max_speed: true}
outputs: [order.request]
expect: 1
timeout: 20s
golden: ../../escape/victim.conf
"""


def _escape_tree(tmp_path: Path) -> tuple[Path, Path]:
    cases = tmp_path / "repo" / "cases"
    cases.mkdir(parents=True)
    (cases / "in.yaml").write_text(SCENARIO, encoding="utf-8")
    victim = tmp_path / "escape" / "victim.conf"
    victim.parent.mkdir()
    victim.write_text("precious\n", encoding="utf-8")
    return cases, victim


@pytest.mark.parametrize("update", [True, False])
def test_cli_a_golden_outside_the_case_folder_is_refused_before_anything_runs(
    tmp_path: Path, redis_url: str, update: bool
) -> None:
    cases, victim = _escape_tree(tmp_path)
    path = _case(cases, ESCAPE_CASE)
    done = runner.invoke(app, ["test", str(path), "--url", redis_url, *(["--update"] if update else [])])
    assert done.exit_code == 2, done.output
    [line] = done.stdout.splitlines()
    assert line.startswith(f"INVALID  case ({path}): {path}:5: golden: ")
    assert f"(that is {victim}) is outside the case file's folder {cases.resolve()}" in line
    assert "--allow-outside" in line
    assert victim.read_text(encoding="utf-8") == "precious\n"
    assert not victim.with_name("victim.actual.conf").exists()
    import redis

    assert redis.Redis.from_url(redis_url).exists("order.request") == 0  # nothing was replayed


def test_cli_allow_outside_lets_a_case_write_its_golden_elsewhere(tmp_path: Path, redis_url: str) -> None:
    cases, victim = _escape_tree(tmp_path)
    path = _case(cases, ESCAPE_CASE)
    done = runner.invoke(app, ["test", str(path), "--url", redis_url, "--update", "--allow-outside"])
    assert done.exit_code == 0, done.output
    assert victim.read_bytes()[:1] != b"p"  # now a recording


def test_a_golden_reached_through_a_symlink_is_outside(tmp_path: Path) -> None:
    cases, victim = _escape_tree(tmp_path)
    (cases / "out").symlink_to(victim.parent, target_is_directory=True)
    with pytest.raises(CaseError, match=r"golden: .*out/victim.conf \(that is .*escape/victim.conf\) is outside"):
        load_case(_case(cases, ESCAPE_CASE.replace("../../escape/victim.conf", "out/victim.conf")))
    # the .actual file kept beside a golden that differs: a symlink out is refused too
    (cases / "g.actual.xtape").symlink_to(victim)
    with pytest.raises(CaseError, match=r"golden: .*g.actual.xtape \(that is .*escape/victim.conf\) is outside"):
        load_case(_case(cases, ESCAPE_CASE.replace("../../escape/victim.conf", "g.xtape")))
    case = load_case(_case(cases, ESCAPE_CASE.replace("../../escape/victim.conf", "g.xtape")), allow_outside=True)
    assert case.golden == cases / "g.xtape"
    assert load_case(_case(cases, ESCAPE_CASE.replace("../../escape/victim.conf", "sub/g.xtape"))).golden == cases / "sub" / "g.xtape"

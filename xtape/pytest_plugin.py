"""The xtape pytest plugin (registered through the ``pytest11`` entry point, so installing
xtape is enough). See ``docs/regression.md`` for a complete example.

Fixtures:

* ``xtape_redis_server`` (session): a throwaway ``redis-server`` on a free loopback port
  (:class:`xtape.server.RedisServer`; ``.url`` is its URL). ``redis_server`` is the same
  server under the name the issue gave it; a project's own ``redis_server`` fixture
  (in its conftest.py) takes precedence, as pytest always lets it.
* ``xtape``: an :class:`XtapeFixture` on that server, flushed before the test:
  ``service(...)``, ``replay(...)``, ``capture(...)``, ``assert_matches(golden, actual, rules)``.

Option ``--xtape-update``: ``assert_matches`` writes the actual recording as the golden
(creating a golden that does not exist yet) instead of comparing.

Nothing of xtape beyond this module is imported until a fixture is used.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:
    from xtape.diff import DiffResult, DiffRules
    from xtape.regress import CaptureResult, CaseResult, Service
    from xtape.replay import ReplayReport
    from xtape.server import RedisServer


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("xtape")
    group.addoption(
        "--xtape-update",
        action="store_true",
        default=False,
        help="xtape: write actual recordings as the golden files (creating missing ones) "
        "instead of comparing them.",
    )


class XtapeFixture:
    """Replays, captures and golden comparisons against one Redis server."""

    def __init__(self, url: str, tmp_path: Path, update: bool) -> None:
        self.url = url
        self.tmp_path = tmp_path
        self.update = update
        self._captures = 0

    @contextmanager
    def service(
        self,
        command: Sequence[str],
        *,
        group: tuple[str, str | None] | Sequence[tuple[str, str | None]] | None = None,
        inputs: Sequence[str] | str = (),
        key: str | None = None,
        log: str | None = None,
        delay: float = 0.0,
        ready_timeout: float = 30.0,
        cwd: str | Path | None = None,
        env: Mapping[str, str] | None = None,
        grace: float = 5.0,
        url_env: str | None = None,
    ) -> Iterator[Service]:
        """Run the service under test with ``REDIS_URL`` set for the block, ready when the
        consumer ``group`` (stream, name; or a list of them) exists / every stream of
        ``inputs`` has a consumer group / the ``key`` exists / a line of its output
        matches ``log`` / after ``delay`` seconds; stopped with every process of its group
        (SIGTERM, SIGKILL after ``grace``) on the way out. Its output is added to the
        test's report when the test fails, with a note when it had to be killed
        (``running.killed``)."""
        from xtape.regress import Readiness, Service

        ready = None
        groups: tuple[tuple[str, str | None], ...] = ()
        if group is not None:
            groups = (group,) if isinstance(group[0], str) else tuple(group)  # type: ignore[assignment,arg-type]
        streams = (inputs,) if isinstance(inputs, str) else tuple(inputs)
        if groups or streams or key is not None or log is not None or delay:
            ready = Readiness(
                groups=groups, key=key, log=log, delay=delay, timeout=ready_timeout, inputs=streams
            )
        with Service(command, self.url, cwd=cwd, env=env, grace=grace, url_env=url_env) as running:
            try:
                running.wait_ready(ready)
                yield running
            finally:
                running.stop()
                print(f"--- service output ({' '.join(running.argv)}) ---\n{running.tail()}")
                if running.stop_note:
                    print(f"xtape: {running.stop_note}")

    def replay(
        self,
        source: str | Path,
        *,
        speed: float | None = None,
        max_speed: bool = False,
        rate: float | None = None,
        streams: Sequence[str] = (),
        map: Mapping[str, str] | None = None,
        prefix: str = "",
        variables: Mapping[str, str] | None = None,
        seed: int | None = None,
    ) -> ReplayReport:
        """Replay a scenario or a recording into the server (as ``xtape replay``)."""
        from xtape.replay import open_source, replay

        options = _options(speed, max_speed, rate, streams, map, prefix)
        src = open_source(source, options, variables=dict(variables or {}) or None, seed=seed)
        return replay(src, self.url, options)

    def capture(
        self,
        source: str | Path,
        outputs: Sequence[str] | str,
        *,
        output: str | Path | None = None,
        settle: float | None = None,
        expect: int | None = None,
        timeout: float | None = 60.0,
        speed: float | None = None,
        max_speed: bool = False,
        rate: float | None = None,
        streams: Sequence[str] = (),
        map: Mapping[str, str] | None = None,
        prefix: str = "",
        variables: Mapping[str, str] | None = None,
        seed: int | None = None,
        groups: bool = True,
    ) -> CaptureResult:
        """Replay ``source`` while recording ``outputs`` (as ``xtape replay --capture``);
        the recording is ``result.path`` (in the test's tmp_path unless ``output``).
        ``settle``/``timeout`` are in seconds. With ``groups`` (the default) the capture
        also waits until the consumer groups on the inputs read and acknowledged every
        input; what they left is ``result.leftovers`` (and fails ``assert_matches``)."""
        from xtape.regress import replay_and_capture

        if output is None:
            self._captures += 1
            output = self.tmp_path / f"xtape-capture-{self._captures}.xtape"
        return replay_and_capture(
            source,
            [outputs] if isinstance(outputs, str) else list(outputs),
            output,
            url=self.url,
            options=_options(speed, max_speed, rate, streams, map, prefix),
            variables=dict(variables or {}) or None,
            seed=seed,
            settle=settle,
            expect=expect,
            timeout=timeout,
            groups=groups,
        )

    def run_case(
        self, case: str | Path, command: Sequence[str] | None = None, *, runs: int = 2
    ) -> CaseResult:
        """Run a case file as ``xtape test --url`` does against this server, and fail the
        test with what ``xtape test`` prints unless the case passes (with
        ``--xtape-update`` its golden is rewritten, after ``runs`` runs for noise)."""
        from xtape.regress import load_case, run_case

        result = run_case(
            load_case(case), command=command, url=self.url, update=self.update, runs=runs
        )
        if not result.passed:
            pytest.fail(f"{result.summary()}\n{result.details(color=False)}", pytrace=False)
        return result

    def diff(
        self,
        golden: str | Path,
        actual: str | Path | CaptureResult,
        rules: DiffRules | Mapping[str, Any] | str | Path | None = None,
    ) -> DiffResult:
        """Compare two recordings (``rules``: DiffRules, a mapping as in a case's
        ``diff:`` section, or a rules file)."""
        from xtape.diff import diff_recordings

        return diff_recordings(golden, _path(actual), _rules(rules))

    def assert_matches(
        self,
        golden: str | Path,
        actual: str | Path | CaptureResult,
        rules: DiffRules | Mapping[str, Any] | str | Path | None = None,
    ) -> None:
        """Fail the test with the readable diff unless ``actual`` matches ``golden``.

        With ``--xtape-update`` the actual recording becomes the golden instead (the
        first run of a new test writes its golden this way). A missing golden without
        it fails with a hint to run with ``--xtape-update``.
        """
        golden = Path(golden)
        actual_path = _path(actual)
        leftovers = getattr(actual, "leftovers", None)
        if leftovers:
            from xtape.regress.findings import leftover_lines

            published = sum(actual.inputs.values()) or None  # type: ignore[union-attr]
            lines = [line for left in leftovers for line in leftover_lines(left, published)]
            pytest.fail("\n".join(lines), pytrace=False)
        if self.update:
            golden.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(actual_path, golden)
            return
        if not golden.is_file():
            pytest.fail(
                f"golden recording {golden} does not exist yet: run pytest --xtape-update to "
                "write it from this run",
                pytrace=False,
            )
        result = self.diff(golden, actual_path, rules)
        if not result.same:
            from xtape.report.diff_text import render_text

            pytest.fail(render_text(result, color=False), pytrace=False)


def _path(actual: str | Path | CaptureResult) -> Path:
    return Path(actual) if isinstance(actual, (str, os.PathLike)) else actual.path


def _rules(rules: DiffRules | Mapping[str, Any] | str | Path | None) -> DiffRules:
    from xtape.diff import DiffRules

    if rules is None:
        return DiffRules()
    if isinstance(rules, DiffRules):
        return rules
    if isinstance(rules, (str, os.PathLike)):
        return DiffRules.load(rules)
    return DiffRules.from_mapping(rules, where="assert_matches(rules=...)")


def _options(
    speed: float | None,
    max_speed: bool,
    rate: float | None,
    streams: Sequence[str],
    maps: Mapping[str, str] | None,
    prefix: str,
) -> Any:
    from xtape.replay import Pacing, ReplayOptions
    from xtape.transform import Transform

    return ReplayOptions(
        pacing=Pacing.choose(speed=speed, max_speed=max_speed, rate=rate),
        transform=Transform.parse(
            streams=[streams] if isinstance(streams, str) else list(streams),
            maps=[f"{k}={v}" for k, v in (maps or {}).items()],
            prefix=prefix,
        ),
    )


@pytest.fixture(scope="session")
def xtape_redis_server() -> Iterator[RedisServer]:
    """A throwaway redis-server for the session (``.url``); gone afterwards."""
    from xtape.server import RedisServer

    with RedisServer() as server:
        yield server


@pytest.fixture(scope="session")
def redis_server(xtape_redis_server: RedisServer) -> RedisServer:
    """The xtape throwaway server (``.url``) under a common name; a project's own
    ``redis_server`` fixture replaces it."""
    return xtape_redis_server


@pytest.fixture()
def xtape(
    xtape_redis_server: RedisServer, tmp_path: Path, request: pytest.FixtureRequest
) -> XtapeFixture:
    """Replay, capture and compare against the throwaway server, flushed for this test."""
    from xtape.connection import command, connect

    client = connect(xtape_redis_server.url)
    try:
        command(client, "FLUSHALL")
    finally:
        client.close()
    return XtapeFixture(
        xtape_redis_server.url, tmp_path, bool(request.config.getoption("--xtape-update"))
    )

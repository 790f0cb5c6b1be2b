"""Regression case files: what ``xtape test`` runs (format in ``docs/regression.md``).

    case = load_case("tests/regression/matcher.yaml")   # CaseError "file:line: key: what"

Paths in a case (input, golden, the service's working directory) are relative to the
case file. Unknown keys are refused, with the keys that are known. What a case writes
(its golden with ``--update``, the ``.actual`` recording beside it) stays inside the case
file's folder tree, symlinks resolved, unless ``allow_outside`` (``--allow-outside``): a
case file from elsewhere cannot overwrite ``../../etc/anything``.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from functools import partial
from pathlib import Path
from typing import Any

from xtape.diff import DiffRules
from xtape.diff.rules import codec_pairs
from xtape.errors import CaseError, DiffRulesError, UsageError
from xtape.recording import TimeBase
from xtape.replay import ReplayOptions
from xtape.replay.pacing import MODES, choose
from xtape.transform import Transform
from xtape.units import parse_duration
from xtape.yamlfile.check import Checker, Loc, MappedLines, dotted
from xtape.yamlfile.check import kind as _kind

#: A capture without an expected count ends after this long at the latest.
DEFAULT_TIMEOUT_S = 60.0
#: How long the service may take to become ready.
DEFAULT_READY_TIMEOUT_S = 30.0
#: Between SIGTERM and SIGKILL when the service is stopped.
DEFAULT_GRACE_S = 5.0

_TOP = ("name", "description", "input", "outputs", "golden", "diff", "settle", "expect",
        "timeout", "ready", "service", "codecs", "allow_empty", "correlate_by", "latency")  # fmt: skip
_INPUT = ("scenario", "recording", *MODES, "streams", "map", "prefix",
          "since", "until", "variables", "seed", "clock")  # fmt: skip
_READY = ("group", "key", "log", "delay", "timeout")
_GROUP = ("stream", "name")
_SERVICE = ("command", "cwd", "env", "grace", "url_env")
_LATENCY = ("p50", "p99", "max")


@dataclass(frozen=True)
class Readiness:
    """When the service is ready for input: consumer groups exist on streams (a name of
    None: any group), a key exists, a line of its output matches ``log`` (a regex),
    and/or a delay passed (all that are given, in that order).

    ``inputs`` is the default (no ``ready:``, or one without ``group:``/``key:``/``log:``):
    every one of these streams has a consumer group created by this run (the runner
    deletes the case's streams first, so any group there is new)."""

    groups: tuple[tuple[str, str | None], ...] = ()
    key: str | None = None
    log: str | None = None
    delay: float = 0.0
    timeout: float = DEFAULT_READY_TIMEOUT_S
    inputs: tuple[str, ...] = ()

    @property
    def explicit(self) -> bool:
        """Whether it names what to wait for (else the default applies)."""
        return bool(self.groups or self.key or self.log)

    def with_inputs(self, streams: tuple[str, ...]) -> Readiness:
        """The default added: wait for a group on each of ``streams`` unless told otherwise."""
        if self.explicit:
            return self
        return replace(self, inputs=streams)


@dataclass(frozen=True)
class ServiceSpec:
    """The service under test: started with ``REDIS_URL`` set, stopped after the capture."""

    command: tuple[str, ...]
    cwd: Path
    env: Mapping[str, str] = field(default_factory=dict)
    grace: float = DEFAULT_GRACE_S
    #: Another variable the URL is exported in, besides ``REDIS_URL``.
    url_env: str | None = None


@dataclass(frozen=True)
class RegressionCase:
    """One regression case: replay ``source``, capture ``outputs``, diff against ``golden``."""

    path: Path
    name: str
    source: Path
    outputs: tuple[str, ...]
    golden: Path
    rules: DiffRules
    options: ReplayOptions = field(default_factory=ReplayOptions)
    variables: Mapping[str, str] = field(default_factory=dict)
    seed: int | None = None
    time_base: TimeBase | None = None
    settle: float | None = None
    expect: int | None = None
    timeout: float = DEFAULT_TIMEOUT_S
    ready: Readiness | None = None
    service: ServiceSpec | None = None
    description: str = ""
    #: ``--update`` may write a golden with no entries.
    allow_empty: bool = False
    #: Pairs each output with its input for latency (a field or JSONFIELD.path).
    correlate_by: str | None = None
    #: Latency guards: ``{"p99": LatencyLimit}``.
    latency: Mapping[str, LatencyLimit] = field(default_factory=dict)


@dataclass(frozen=True)
class LatencyLimit:
    """A latency guard: at most ``latency`` seconds, or ``factor`` times the golden's."""

    latency: float | None = None
    factor: float | None = None

    def limit_ms(self, golden_ms: float | None) -> float | None:
        """The limit in ms, the unit of the latency figures (None: relative to a golden
        figure that is not known)."""
        if self.latency is not None:
            return self.latency * 1000
        if golden_ms is None or self.factor is None:
            return None
        return golden_ms * self.factor

    def __str__(self) -> str:
        return f"{self.latency * 1000:g} ms" if self.latency is not None else f"{self.factor:g}x the golden's"


def load_case(path: str | Path, *, allow_outside: bool = False) -> RegressionCase:
    """Read and check a case file; raises :class:`~xtape.errors.CaseError` (exit 2)
    naming the file and line of the first problem (a golden outside the case file's
    folder tree is one, unless ``allow_outside``)."""
    from xtape.yamlfile.load import load_yaml_file

    data, lines = load_yaml_file(path, "case file", CaseError)
    return _Reader(Path(path), lines, allow_outside=allow_outside).case(data)


def actual_path(golden: Path) -> Path:
    """Where a differing capture is kept: ``golden.xtape`` -> ``golden.actual.xtape``."""
    return golden.with_name(f"{golden.stem}.actual{golden.suffix or '.xtape'}")


class _Reader:
    def __init__(self, path: Path, lines: Mapping[Loc, int], *, allow_outside: bool = False) -> None:
        self.path = path
        self.base = path.parent
        self.lines = lines
        self.allow_outside = allow_outside
        self.check = Checker(str(path), MappedLines(lines), CaseError, name=dotted)

    def fail(self, loc: Loc, message: str) -> CaseError:
        return self.check.problem(loc, message)

    def mapping(self, value: Any, loc: Loc, known: tuple[str, ...]) -> dict[str, Any]:
        if not isinstance(value, dict):
            raise self.fail(loc, f"expected a mapping, got {_kind(value)}")
        for key in value:
            if key not in known:
                raise self.fail((*loc, key), f"unknown key (known: {', '.join(known)})")
        return value

    def text(self, value: Any, loc: Loc) -> str:
        if not isinstance(value, str) or not value.strip():
            raise self.fail(loc, f"expected text, got {_kind(value)}")
        return value

    def texts(self, value: Any, loc: Loc) -> tuple[str, ...]:
        if isinstance(value, str) and value.strip():
            return (value,)
        if isinstance(value, list) and value and all(isinstance(v, str) and v for v in value):
            return tuple(value)
        raise self.fail(loc, f"expected a name or a list of names, got {_kind(value)}")

    def file(self, value: Any, loc: Loc, *, must_exist: bool = True) -> Path:
        path = self.base / os.path.expanduser(self.text(value, loc))
        if must_exist and not path.is_file():
            raise self.fail(loc, f"no such file: {path}")
        return path

    def inside(self, golden: Path, loc: Loc) -> None:
        """Refuse a golden (or its ``.actual`` file) whose real place, symlinks followed,
        is outside the case file's folder tree."""
        if self.allow_outside:
            return
        home = self.base.resolve()
        for written in (golden, actual_path(golden)):
            real = written.resolve()
            if real != home and home not in real.parents:
                shown = str(written) if written.absolute() == real else f"{written} (that is {real})"
                raise self.fail(
                    loc,
                    f"{shown} is outside the case file's folder {home}: a case writes only inside its "
                    "folder tree (pass --allow-outside to allow it)",
                )

    def duration(self, value: Any, loc: Loc) -> float:
        """A duration with its unit (``500ms``, ``2s``), as on the command line: a bare
        number is refused (milliseconds or seconds?)."""
        if isinstance(value, bool) or not isinstance(value, (int, float, str)):
            raise self.fail(loc, f"expected a duration (e.g. 500ms, 2s), got {_kind(value)}")
        text = str(value)
        ns: int = self.guard(loc, lambda: parse_duration(text, option=str(loc[-1]), positive=True))
        return ns / 1e9

    def number(self, value: Any, loc: Loc) -> float:
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise self.fail(loc, f"expected a number, got {_kind(value)}")
        return float(value)

    def typed(self, value: Any, loc: Loc, takes: type) -> Any:
        """A value of the type ``takes`` (float, bool or str): a timing mode's."""
        if takes is float:
            return self.number(value, loc)
        if takes is bool:
            if not isinstance(value, bool):
                raise self.fail(loc, f"expected true or false, got {_kind(value)}")
            return value
        return self.text(value, loc)

    def whole(self, value: Any, loc: Loc) -> int:
        if isinstance(value, bool) or not isinstance(value, int):
            raise self.fail(loc, f"expected a whole number, got {_kind(value)}")
        return value

    def guard(self, loc: Loc, make: Callable[[], Any]) -> Any:
        try:
            return make()
        except UsageError as exc:
            raise self.fail(loc, str(exc)) from None

    # -- the sections ------------------------------------------------------------------

    def case(self, data: Any) -> RegressionCase:
        top = self.mapping(data, (), _TOP)
        for key in ("input", "outputs", "golden"):
            if key not in top:
                raise self.fail((), f"missing key {key!r} (a case needs input, outputs and golden)")
        source, options, variables, seed, time_base = self.input(top["input"])
        outputs = self.texts(top["outputs"], ("outputs",))
        golden = self.file(top["golden"], ("golden",), must_exist=False)
        self.inside(golden, ("golden",))
        rules = self.rules(top.get("diff"), outputs)
        if "codecs" in top:
            rules = rules.replace(codecs=(*rules.codecs, *self.codecs(top["codecs"])))
        expect = self.whole(top["expect"], ("expect",)) if "expect" in top else None
        if expect is not None and expect < 1:
            raise self.fail(("expect",), "expected a whole number above zero")
        return RegressionCase(
            path=self.path,
            name=self.text(top["name"], ("name",)) if "name" in top else self.path.stem,
            description=str(top.get("description") or ""),
            source=source,
            outputs=outputs,
            golden=golden,
            rules=rules,
            options=options,
            variables=variables,
            seed=seed,
            time_base=time_base,
            settle=self.duration(top["settle"], ("settle",)) if "settle" in top else None,
            expect=expect,
            timeout=self.duration(top["timeout"], ("timeout",)) if "timeout" in top else DEFAULT_TIMEOUT_S,
            ready=self.ready(top["ready"]) if "ready" in top else None,
            service=self.service(top["service"]) if "service" in top else None,
            allow_empty=self.flag(top, "allow_empty"),
            correlate_by=self.text(top["correlate_by"], ("correlate_by",)) if "correlate_by" in top else None,
            latency=self.latency(top["latency"]) if "latency" in top else {},
        )

    def flag(self, spec: Mapping[str, Any], key: str) -> bool:
        value = spec.get(key, False)
        if not isinstance(value, bool):
            raise self.fail((key,), f"expected true or false, got {_kind(value)}")
        return value

    def latency(self, value: Any) -> dict[str, LatencyLimit]:
        loc: Loc = ("latency",)
        spec = self.mapping(value, loc, _LATENCY)
        out: dict[str, LatencyLimit] = {}
        for key, raw in spec.items():
            text = str(raw).strip()
            if text.endswith("x") and not isinstance(raw, bool):
                try:
                    factor = float(text[:-1])
                except ValueError:
                    factor = -1.0
                if not factor > 0:
                    raise self.fail((*loc, key), f"expected a factor above 0 (2x) or a duration (150ms), got {raw!r}")
                out[key] = LatencyLimit(factor=factor)
            else:
                out[key] = LatencyLimit(latency=self.duration(raw, (*loc, key)))
        return out

    def input(
        self, value: Any
    ) -> tuple[Path, ReplayOptions, dict[str, str], int | None, TimeBase | None]:
        loc: Loc = ("input",)
        spec = self.mapping(value, loc, _INPUT)
        kinds = [k for k in ("scenario", "recording") if k in spec]
        if len(kinds) != 1:
            raise self.fail(loc, "give exactly one of scenario: FILE or recording: FILE")
        kind = kinds[0]
        source = self.file(spec[kind], (*loc, kind))
        given = {
            key: self.typed(spec[key], (*loc, key), mode.takes)
            for key, mode in MODES.items()
            if key in spec
        }
        pacing = self.guard(loc, lambda: choose(**given))
        maps = spec.get("map", {})
        if isinstance(maps, dict):
            pairs = [f"{k}={self.text(v, (*loc, 'map', k))}" for k, v in maps.items()]
        else:
            pairs = [f"{k}" for k in self.texts(maps, (*loc, "map"))]
        transform = self.guard(
            loc,
            lambda: Transform.parse(
                streams=self.texts(spec["streams"], (*loc, "streams")) if "streams" in spec else (),
                maps=pairs,
                prefix=str(spec.get("prefix") or ""),
                since=str(spec["since"]) if "since" in spec else None,
                until=str(spec["until"]) if "until" in spec else None,
            ),
        )
        options = self.guard(loc, lambda: ReplayOptions(pacing=pacing, transform=transform))
        variables: dict[str, str] = {}
        if "variables" in spec:
            raw = spec["variables"]
            if not isinstance(raw, dict):
                raise self.fail((*loc, "variables"), f"expected a mapping, got {_kind(raw)}")
            variables = {str(k): v if isinstance(v, str) else _plain(v) for k, v in raw.items()}
        seed = self.whole(spec["seed"], (*loc, "seed")) if "seed" in spec else None
        time_base: TimeBase | None = None
        if "clock" in spec:
            if spec["clock"] not in ("id", "capture"):
                raise self.fail((*loc, "clock"), "expected id or capture")
            time_base = "id" if spec["clock"] == "id" else "capture"
        if kind == "recording" and (variables or seed is not None):
            raise self.fail(loc, "variables and seed apply to scenarios, not to recordings")
        if kind == "scenario" and time_base == "capture":
            raise self.fail((*loc, "clock"), "clock applies to recordings")
        return source, options, variables, seed, time_base

    def rules(self, value: Any, outputs: tuple[str, ...]) -> DiffRules:
        data = {} if value is None else value
        if not isinstance(data, dict):
            raise self.fail(("diff",), f"expected a mapping of diff rules, got {_kind(data)}")
        try:
            rules = DiffRules.from_mapping(data, where=str(self.path), lines=self.lines, base=("diff",))
        except DiffRulesError as exc:
            raise CaseError(str(self.path), exc.line, exc.reason) from None
        if not rules.streams:
            rules = rules.replace(streams=outputs)
        return rules

    def codecs(self, value: Any) -> list[tuple[str, str]]:
        """``codecs: {STREAM_GLOB: CODEC}``: how the outputs' payloads are decoded."""
        if not isinstance(value, dict):
            raise self.fail(("codecs",), f"expected a mapping STREAM_GLOB: CODEC, got {_kind(value)}")
        pairs: list[tuple[str, str]] = []
        for glob, name in value.items():
            pairs += self.guard(("codecs", glob), partial(codec_pairs, [(str(glob), str(name))]))
        return pairs

    def ready(self, value: Any) -> Readiness:
        loc: Loc = ("ready",)
        spec = self.mapping(value, loc, _READY)
        groups: list[tuple[str, str | None]] = []
        if "group" in spec:
            raw = spec["group"]
            items = raw if isinstance(raw, list) else [raw]
            if not items:
                raise self.fail((*loc, "group"), "expected a group or a list of groups, got an empty list")
            for i, item in enumerate(items):
                where: Loc = (*loc, "group", i) if isinstance(raw, list) else (*loc, "group")
                g = self.mapping(item, where, _GROUP)
                if "stream" not in g:
                    raise self.fail(where, "give stream: (and name: of the consumer group, else any group)")
                name = self.text(g["name"], (*where, "name")) if "name" in g else None
                groups.append((self.text(g["stream"], (*where, "stream")), name))
        log = None
        if "log" in spec:
            log = self.text(spec["log"], (*loc, "log"))
            try:
                re.compile(log)
            except re.error as exc:
                raise self.fail((*loc, "log"), f"not a regular expression: {exc}") from None
        if not {"group", "key", "log", "delay", "timeout"} & set(spec):
            raise self.fail(loc, "give group:, key:, log:, delay: or timeout:")
        return Readiness(
            groups=tuple(groups),
            log=log,
            key=self.text(spec["key"], (*loc, "key")) if "key" in spec else None,
            delay=self.duration(spec["delay"], (*loc, "delay")) if "delay" in spec else 0.0,
            timeout=self.duration(spec["timeout"], (*loc, "timeout")) if "timeout" in spec else DEFAULT_READY_TIMEOUT_S,
        )

    def service(self, value: Any) -> ServiceSpec:
        loc: Loc = ("service",)
        spec = self.mapping(value, loc, _SERVICE)
        if "command" not in spec:
            raise self.fail(loc, "missing key 'command'")
        command = spec["command"]
        if isinstance(command, str):
            import shlex

            try:
                words = tuple(shlex.split(command))
            except ValueError as exc:
                raise self.fail((*loc, "command"), f"cannot split the command: {exc}") from None
        else:
            words = self.texts(command, (*loc, "command"))
        if not words:
            raise self.fail((*loc, "command"), "the command is empty")
        cwd = self.base / self.text(spec["cwd"], (*loc, "cwd")) if "cwd" in spec else self.base
        if not cwd.is_dir():
            raise self.fail((*loc, "cwd"), f"no such directory: {cwd}")
        env = spec.get("env", {})
        if not isinstance(env, dict):
            raise self.fail((*loc, "env"), f"expected a mapping, got {_kind(env)}")
        return ServiceSpec(
            command=words,
            cwd=cwd,
            env={str(k): v if isinstance(v, str) else _plain(v) for k, v in env.items()},
            grace=self.duration(spec["grace"], (*loc, "grace")) if "grace" in spec else DEFAULT_GRACE_S,
            url_env=self.text(spec["url_env"], (*loc, "url_env")) if "url_env" in spec else None,
        )


def _plain(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)

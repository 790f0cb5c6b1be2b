"""The command line's shared parts: output, errors, progress lines, the Redis and catalog
options, and what every command does around its function (:func:`run_command`,
:func:`finish`), whether typer (:mod:`.typer_app`) or the quick parser (:mod:`.quick`)
parsed its command line. Nothing here imports typer.
"""

from __future__ import annotations

import gc
import logging
import sys
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, NoReturn

from xtape.cli import logs
from xtape.cli._text import human_bytes as human_bytes
from xtape.cli._text import show_text as show_text
from xtape.cli._text import silence_stdout
from xtape.cli.consoles import stderr as stderr
from xtape.cli.consoles import stdout as stdout
from xtape.cli.decl import Opt
from xtape.errors import UsageError, XtapeError
from xtape.notice import Notice

if TYPE_CHECKING:
    from xtape.recording import TimeBase


def run_command(call: Callable[[], Any], log_format: str) -> Any:
    """Run a command's function (``call``) as every command runs: in the log format
    chosen (checked), and stopping quietly with exit 0 when standard output's reader
    has gone (``xtape ... | head``)."""
    if log_format not in logs.FORMATS:
        fail(f"invalid {logs.OPTION} {log_format!r}: choose {' or '.join(logs.FORMATS)}")
    logs.set_format(log_format)
    try:
        return call()
    except BrokenPipeError:
        if not _stdout_closed():
            raise
        stdout_gone()
    finally:
        outputs = sys.modules.get("xtape.outputs")  # (imported by a command that writes)
        if outputs is not None:
            outputs.forget_checked()


def outcome(call: Callable[[], Any]) -> int:
    """The exit code of a command run by ``call``, whichever parser parsed it: its own
    ``SystemExit``'s (as the interpreter reads it), an ``XtapeError`` that escaped it
    said in one line, 130 for Ctrl-C, else what it returned where that is an int (as
    click hands it on), else 0."""
    try:
        result = call()
    except XtapeError as exc:  # pragma: no cover - commands handle their own
        logs.error(str(exc), exc.exit_code)
        return exc.exit_code
    except KeyboardInterrupt:
        return 130
    except SystemExit as exc:
        return exc.code if isinstance(exc.code, int) else 0 if exc.code is None else 1
    return result if isinstance(result, int) else 0


def finish(code: int) -> NoReturn:
    """End the process with ``code``. It ends here and the OS frees its memory: frozen,
    the objects it made are not traversed by the interpreter's final collections (40 ms
    of the 0.28 s an `xtape record` costs besides its work; bench/record.py,
    docs/recording.md)."""
    gc.freeze()
    sys.exit(code)


def _stdout_closed() -> bool:
    """Whether standard output is a pipe whose reader has gone (and not some other
    broken pipe, such as a socket)."""
    import select

    try:
        poller = select.poll()
        poller.register(sys.__stdout__.fileno() if sys.__stdout__ else 1, select.POLLOUT)
        return any(events & select.POLLERR for _, events in poller.poll(0))
    except (OSError, ValueError):
        return False


def stdout_gone() -> NoReturn:
    """``xtape ... | head``: the reader left; stop quietly with exit 0, as cat(1) does
    (and let nothing flush to the closed pipe at exit). The one place that handles it."""
    silence_stdout()
    raise SystemExit(0)


LogFormatOpt = Annotated[str, Opt(logs.OPTION, metavar="[text|json]", envvar=logs.ENV, help=logs.HELP, show_default=False)]


def fail(message: str, code: int = 2) -> NoReturn:
    """Print one line on stderr and exit."""
    logs.error(message, code)
    raise SystemExit(code)


@contextmanager
def handled() -> Iterator[None]:
    """Turn the library's errors into one line and an exit code (no traceback)."""
    try:
        yield
    except XtapeError as exc:
        fail(str(exc), exc.exit_code)
    except KeyboardInterrupt:
        stderr.print("xtape: interrupted", markup=False)
        raise SystemExit(130) from None


def setup_logging(verbose: bool) -> None:
    logging.basicConfig(level=logging.DEBUG if verbose else logging.WARNING, handlers=[logs.Handler()])
    logging.getLogger("xtape").setLevel(logging.DEBUG if verbose else logging.WARNING)


class ProgressLine:
    """A live status line on stderr, drawn only when stderr is a terminal."""

    def __init__(self, enabled: bool) -> None:
        self.enabled = enabled and sys.stderr.isatty() and not logs.json_mode()
        #: With --log-format json: a ``progress`` event now and then instead.
        self._every_s = logs.progress_every_s() if enabled and logs.json_mode() else None
        self._next_s = 0.0
        self._width = 0

    def show(self, text: str) -> None:
        if self._every_s is not None:
            self._milestone(text)
        if not self.enabled:
            return
        pad = max(self._width - len(text), 0)
        sys.stderr.write("\r" + text + " " * pad)
        sys.stderr.flush()
        self._width = len(text)

    def _milestone(self, text: str) -> None:
        import time

        now = time.monotonic()
        if now >= self._next_s:
            self._next_s = now + (self._every_s or 0.0)
            logs.say(text if isinstance(text, Notice) else Notice("progress", text))

    def warn(self, message: str) -> None:
        """A warning on its own line, the live line redrawn after it."""
        self.done()
        logs.warn(message)

    def done(self) -> None:
        if self.enabled and self._width:
            sys.stderr.write("\r" + " " * self._width + "\r")
            sys.stderr.flush()
            self._width = 0


def parse_variables(values: list[str] | None) -> dict[str, str]:
    from xtape.units import parse_pair

    return dict(parse_pair(v, option="--variable") for v in values or [])


VariableOpt = Annotated[
    list[str] | None,
    Opt(
        "--variable",
        "--var",
        metavar="NAME=VALUE",
        help="Set a scenario variable (repeatable); wins over the file's variables.",
    ),
]


CatalogOpt = Annotated[
    Path | None,
    Opt(
        "--catalog",
        metavar="FILE",
        help="The stream catalog (default: $XTAPE_CATALOG, else streams.yaml beside the scenario or in the current directory).",
        show_default=False,
    ),
]


SeriesOpt = Annotated[
    str | None,
    Opt(
        "--series",
        metavar="ID",
        help="A directory (or glob) of split files: read only this series, by its id or the first characters of it (xtape info DIR lists them).",
        show_default=False,
    ),
]


@contextmanager
def series_read(series: str | None) -> Iterator[None]:
    """``--series``: within the block, a directory or glob opened as a recording reads
    only that series."""
    if series is None:
        yield
        return
    from xtape.recording.series import reading_series

    with reading_series(series):
        yield


StreamOpt = Annotated[list[str] | None, Opt("--stream", "-s", metavar="GLOB", help="Only streams matching this glob (repeatable).")]


NoCatalogOpt = Annotated[bool, Opt("--no-catalog", help="Check no stream catalog, even if one is found.")]


def catalog_for(explicit: Path | None, near: Path | None, no_catalog: bool) -> Any:
    """The catalog that applies to ``near`` (None: none found, or --no-catalog)."""
    from xtape.catalog.discover import find_catalog_path

    if explicit is not None and no_catalog:
        raise UsageError("give --catalog or --no-catalog, not both")
    path = find_catalog_path(explicit, near, enabled=not no_catalog)
    if path is None:
        return None  # (the schema libraries are not even imported)
    from xtape.catalog.catalog import find_catalog

    found = find_catalog(explicit, near, enabled=not no_catalog)
    for note in found.unchecked if found is not None else ():
        if note not in _WARNED:  # once per run, not once per file
            _WARNED.add(note)
            warn(note)
    return found


_WARNED: set[str] = set()


CATALOG_NAME = "streams.yaml"  # xtape.catalog.CATALOG_NAME (not imported for this)


def check_recording_output(output: str, *, force: bool, inputs: Sequence[Path] = ()) -> None:
    """``-o`` of a command that writes one recording file (``record``, ``cut``): checked
    as every output, and ``-`` refused on a terminal before any work is done."""
    from xtape.outputs import check_output

    check_output(output, force=force, inputs=inputs)
    if output == "-" and sys.stdout.isatty():
        raise UsageError("-o -: will not write a recording to a terminal; redirect it to a file or a pipe")


def write_file(path: Path, text: str) -> None:
    from xtape.outputs import write_text

    write_text(path, text)


URL_HELP = (
    "Redis URL (default: $REDIS_URL, else redis://localhost:6379/0); rediss:// for TLS. "
    "The password may come from $XTAPE_REDIS_PASSWORD or $REDISCLI_AUTH instead of the "
    "URL, which keeps it out of ps."
)


TlsCaOpt = Annotated[Path | None, Opt("--tls-ca-cert", metavar="FILE", help="TLS: trust the server certificates this CA file signed (rediss:// only).", show_default=False)]


TlsCertOpt = Annotated[Path | None, Opt("--tls-cert", metavar="FILE", help="TLS: the client certificate, for servers that check clients.", show_default=False)]


TlsKeyOpt = Annotated[Path | None, Opt("--tls-key", metavar="FILE", help="TLS: the client certificate's private key.", show_default=False)]


ClusterOpt = Annotated[bool | None, Opt("--cluster/--no-cluster", help="Treat the URL as a node of a Redis Cluster (default: detected), or as one server.", show_default=False)]


TlsInsecureOpt = Annotated[bool, Opt("--tls-insecure", help="TLS: do not check the server's certificate (encrypts, but trusts anyone).")]


def tls_url(
    url: str | None, ca_cert: Path | None, cert: Path | None, key: Path | None, insecure: bool
) -> str | None:
    """``--url`` with the ``--tls-*`` options mapped onto its connection options."""
    if not (ca_cert or cert or key or insecure):
        return url  # (as with_tls does; without importing redis-py for nothing)
    from xtape.connection import TlsOptions, resolve_url, with_tls

    tls = TlsOptions(ca_cert=ca_cert, cert=cert, key=key, insecure=insecure)
    return with_tls(resolve_url(url), tls) if tls else url


def warn(message: str) -> None:
    logs.warn(message)


def parse_time_base(text: str) -> TimeBase:
    """``--clock``: the time base of a recording (the entry ids' or the recorder's clock)."""
    if text == "id":
        return "id"
    if text == "capture":
        return "capture"
    raise UsageError(f"invalid --clock {text!r}: choose id or capture")


def format_seconds(s: float) -> str:
    """A duration for a progress line: 42 s, 3 m 05 s, 1 h 02 m."""
    s = round(s)
    if s < 60:
        return f"{s} s"
    if s < 3600:
        return f"{s // 60} m {s % 60:02d} s"
    return f"{s // 3600} h {s % 3600 // 60:02d} m"



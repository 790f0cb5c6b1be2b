"""``xtape demo``: the whole loop on a throwaway server.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

from xtape.cli.common import (
    fail,
    handled,
    stderr,
    stdout,
)
from xtape.cli.decl import Opt, command
from xtape.errors import UsageError, XtapeError


@command(short_help="The whole loop on a throwaway redis-server.")
def demo(
    speed: Annotated[float, Opt("--speed", help="Speed of the final replay.")] = 4.0,
    scenarios: Annotated[Path | None, Opt("--scenarios", metavar="DIR", help="A folder with trade-and-liquidate.yaml and high-frequency-trading.yaml to play (default: the examples shipped with xtape).")] = None,
) -> None:
    """Show the whole loop on a throwaway redis-server: record -> convert -> replay.

    Plays the example scenarios as production traffic while recording them, converts
    the recording into a scenario YAML, replays it faster into a second namespace and
    checks that everything arrived byte-identical. Ends with a regression check (xtape
    test) of the matcher example, and of a copy with a seeded bug that it must catch.
    Needs redis-server on PATH. Ctrl-C stops it at any step (exit 130), the server
    stopped and its files removed.
    """
    from xtape.demo import run_demo
    from xtape.process import process_state

    with handled(), process_state(pause_gc=False) as state:
        if speed <= 0:
            raise UsageError(f"--speed must be > 0 (got {speed:g})")
        if scenarios is not None and not scenarios.is_dir():
            what = "not a folder" if scenarios.exists() else "no such folder"
            raise UsageError(f"--scenarios {scenarios}: {what} (give the folder that holds the scenarios)")
        try:
            result = run_demo(
                lambda text: stdout.print(text, markup=False),
                scenarios_dir=scenarios,
                speed=speed,
                stop_event=state.stop_event,
            )
        except XtapeError:
            if state.exit_code is None:
                raise  # (after a Ctrl-C, what failed failed because of it)
    if state.exit_code is not None:
        stderr.print("xtape: interrupted: the redis-server is stopped and its files removed", markup=False)
        raise SystemExit(state.exit_code)
    if not result.replay_ok:
        fail("the demo's replay did not match its source", 1)
    if not result.ok:
        fail("the demo's regression check did not pass the service or did not catch the seeded bug", 1)
    stdout.print("demo done: the redis-server is stopped and its files removed.", markup=False)

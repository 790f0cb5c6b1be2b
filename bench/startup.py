"""Start-up of every ``xtape`` command beside ``python -c pass``, best of N.

    .venv/bin/python bench/startup.py [--repeat 5] [--only cat,info]

A command-line tool is felt at every call. Each row runs one ``xtape`` command on a
small input (the 155-entry ``recordings/sample.xtape``, a 20-entry stream, a scenario
of the seed) as a subprocess and takes its wall time, best of ``--repeat``; for such
inputs the command's work is a few milliseconds, so its time is its start-up: an upper
bound on how long it takes to reach its first useful work. ``python -c pass`` (the same
interpreter, the same site-packages) is timed in the same rounds, and the rows are
run round-robin, so a machine busy with other work slows every row alike.

Each row shows the command's best time, its excess over ``python -c pass``, and PASS or
FAIL against the target (issue 18, item 14): every command within 0.1 s of
``python -c pass``. Commands that talk to Redis use a throwaway ``redis-server``.

``--baseline DIR`` times another checkout of xtape (``PYTHONPATH=DIR``, e.g. main's) in
the same rounds, beside each row: a before/after on one machine at one moment.

Bytecode: an installed xtape has its modules compiled (pip writes ``.pyc`` files), so
the runs are timed with Python's bytecode cache on, kept in a temporary folder
(``PYTHONPYCACHEPREFIX``; ``PYTHONDONTWRITEBYTECODE`` dropped), after one untimed
round that fills it. Without that, every run would compile all of xtape's modules it
imports (about 0.04 s), which no user sees. That round also fills the per-user cache of a
catalog's compiled schema checks (``XDG_CACHE_HOME``, a temporary folder here), as a
user's first command with a catalog does for the next ones. ``--as-is`` times with the environment
as it is.

``xtape plot`` draws with matplotlib (about 0.4 s to import and draw): its row times the
command up to its first ``import matplotlib``, having checked the output path and read
the recording (its first useful work), and stops there.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import redis
from replay import xtape_env

from xtape.server import RedisServer

TARGET_EXCESS = 0.1
ROOT = Path(__file__).resolve().parent.parent
SAMPLE = ROOT / "recordings" / "sample.xtape"
SCENARIO = ROOT / "scenarios" / "smoke-test.yaml"
XTAPE = str(Path(sys.executable).with_name("xtape"))

#: ``python -c STOP_AT MODULE ARGS...``: ``xtape ARGS...``, ended (exit 0) as it first
#: imports MODULE.
STOP_AT = """\
import builtins, os, sys
stop, real = sys.argv[1], builtins.__import__
def stopping(name, *args, **kwargs):
    if name == stop or name.startswith(stop + "."):
        os._exit(0)
    return real(name, *args, **kwargs)
builtins.__import__ = stopping
sys.argv = ["xtape", *sys.argv[2:]]
from xtape.cli import main
main()
"""


def rows(tmp: Path, url: str) -> list[tuple[str, list[str]]]:
    """(label, argv) of every command timed: each writes into ``tmp`` with --force."""
    out = str(tmp / "out")
    return [
        ("xtape --version", ["--version"]),
        ("xtape --help", ["--help"]),
        ("xtape info", ["info", str(SAMPLE)]),
        ("xtape info --json", ["info", str(SAMPLE), "--json"]),
        ("xtape cat", ["cat", str(SAMPLE)]),
        ("xtape cat --limit 1", ["cat", str(SAMPLE), "--limit", "1"]),
        ("xtape convert", ["convert", str(SAMPLE), "-o", out + ".yaml", "--force", "-q"]),
        ("xtape replay --dry-run", ["replay", str(SAMPLE), "--dry-run", "-q"]),
        ("xtape replay (155 entries, Redis)", ["replay", str(SAMPLE), "--max-speed", "--url", url, "-q"]),
        ("xtape replay scenario (Redis)", ["replay", str(SCENARIO), "--max-speed", "--url", url, "-q"]),
        ("xtape record --count 20 (Redis)", ["record", "src", "--from", "start", "--count", "20", "--url", url, "-o", out + ".xtape", "--force", "-q"]),
        ("xtape diff", ["diff", str(SAMPLE), str(SAMPLE), "-q"]),
        ("xtape validate scenario", ["validate", str(SCENARIO)]),
        ("xtape infer", ["infer", str(SAMPLE), "-o", out + "-catalog.yaml", "--force", "-q"]),
        ("xtape merge", ["merge", str(SAMPLE), "-o", out + "-merged.xtape", "--force", "-q"]),
        ("xtape plot (HTML), until matplotlib", ["plot", str(SAMPLE), "-o", out + ".html", "--force", "-q"]),
        ("xtape test --help", ["test", "--help"]),
        ("xtape replay --help", ["replay", "--help"]),
        ("xtape cat (a usage error)", ["cat", str(SAMPLE), "--limit", "x"]),
    ]


def command(label: str, argv: list[str]) -> list[str]:
    """The command line of a row (see :data:`STOP_AT` for ``until MODULE``)."""
    if label.endswith("until matplotlib"):
        return [sys.executable, "-c", STOP_AT, "matplotlib", *argv]
    return [XTAPE, *argv]


def run(argv: list[str], tree: str | None = None, bytecode: str | None = None) -> tuple[float, int]:
    """Wall time and exit code of one run (output discarded), of the xtape in ``tree``
    (a checkout: first on PYTHONPATH) or else the installed one; with ``bytecode``,
    Python's bytecode cache on, in that folder."""
    env = xtape_env(tree, bytecode)
    if bytecode is not None:  # the catalog's compiled checks kept beside it (filled by the same first round)
        env["XDG_CACHE_HOME"] = str(Path(bytecode).with_name("cache"))
    start = time.perf_counter()
    code = subprocess.run(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env, check=False).returncode
    return time.perf_counter() - start, code


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeat", type=int, default=5, help="runs per row; the best counts (default 5)")
    parser.add_argument("--only", default="", help="comma-separated words: only rows whose label holds one")
    parser.add_argument("--baseline", metavar="DIR", help="also time the xtape of this checkout, in the same rounds")
    parser.add_argument("--as-is", action="store_true", help="no bytecode cache unless the environment has one")
    args = parser.parse_args()
    words = [w for w in args.only.split(",") if w]

    with RedisServer() as server, tempfile.TemporaryDirectory(prefix="xtape-startup-") as folder:
        client = redis.Redis.from_url(server.url)
        for i in range(20):
            client.xadd("src", {"n": str(i), "payload": "x" * 40})
        client.close()
        table = [(label, command(label, argv)) for label, argv in rows(Path(folder), server.url)]
        table = [row for row in table if not words or any(w in row[0] for w in words)]
        baseline = ("python -c pass", [sys.executable, "-c", "pass"])
        trees: list[str | None] = [None] if args.baseline is None else [None, args.baseline]
        best: dict[tuple[str, str | None], float] = {}
        codes: dict[tuple[str, str | None], int] = {}
        bytecode = None if args.as_is else str(Path(folder) / "pycache")
        for round_ in range(args.repeat + (bytecode is not None)):
            for label, argv in [baseline, *table]:
                for tree in trees if label != baseline[0] else [None]:
                    seconds, code = run(argv, tree, bytecode)
                    if bytecode is not None and round_ == 0:
                        continue  # (the untimed round that fills the bytecode cache)
                    key = (label, tree)
                    best[key] = min(best.get(key, seconds), seconds)
                    codes[key] = code
        cpus = os.cpu_count()
        cache = "as the environment has it" if bytecode is None else "bytecode cached (as installed)"
        print(f"machine: {cpus} CPUs, Python {sys.version.split()[0]}; best of {args.repeat}, round-robin; {cache}")
        print()
        extra = f"  {'baseline':>8}  {'excess':>7}" if args.baseline else ""
        print(f"{'':38}{'seconds':>8}  {'excess':>7}  verdict (excess < {TARGET_EXCESS} s){extra}")
        floor = best[(baseline[0], None)]
        print(f"{baseline[0]:38}{floor:8.3f}")
        failed = 0
        for label, _ in table:
            excess = best[(label, None)] - floor
            ok = excess < TARGET_EXCESS
            failed += not ok
            note = "" if codes[(label, None)] in (0, 2) else f"  (exit {codes[(label, None)]})"
            then = ""
            if args.baseline:
                before = best[(label, args.baseline)]
                then = f"  {before:8.3f}  {before - floor:+7.3f}"
            print(f"{label:38}{best[(label, None)]:8.3f}  {excess:+7.3f}  {'PASS' if ok else 'FAIL':<24}{then}{note}")
        print()
        print(f"{len(table) - failed} of {len(table)} within {TARGET_EXCESS} s of python -c pass")
        if args.baseline:
            print(f"baseline: the xtape of {args.baseline}, timed in the same rounds")


if __name__ == "__main__":
    main()

"""A configurable consumer service and case files for the regression tests.

The service is plain redis-py, started in well under a second: what it does is set by
environment variables (see ``SERVICE``), so each test states the behaviour it needs.
"""

from __future__ import annotations

import textwrap
from pathlib import Path
from typing import Any

import yaml

SERVICE = textwrap.dedent(
    '''
    import json, os, signal, sys, time, uuid
    import redis

    env = os.environ.get
    IN, OUT, GROUP = env("IN", "in"), env("OUT", "out"), env("GROUP", "svc")
    client = redis.Redis.from_url(os.environ["REDIS_URL"], protocol=2)
    stop = False
    def on_term(signum, frame):
        global stop
        stop = True
    signal.signal(signal.SIGTERM, on_term)
    time.sleep(float(env("START_DELAY", "0")))
    slow = {int(x) for x in env("SLOW", "").split(",") if x}
    unacked = {int(x) for x in env("NO_ACK", "").split(",") if x}
    read_only = int(env("READ_ONLY", "0"))
    noisy = env("NOISY") == "1"
    version = env("VERSION", "1")
    def answer(fields):
        n = int(fields[b"n"])
        out = {"n": str(n), "double": str(2 * n)}
        if noisy:
            out["id"] = uuid.uuid4().hex
            out["meta"] = json.dumps({"trace": uuid.uuid4().hex, "v": version, "at": [time.time_ns(), 1]})
        return n, out
    if env("MODE", "group") == "xread":
        # "$" resolved once, before saying so (as REDIS-NOTES.md says: never as a cursor)
        try:
            last = client.xinfo_stream(IN)["last-generated-id"]
        except redis.ResponseError:  # no stream yet: everything that comes is new
            last = "0-0"
        print("\\x1b[32mlistening\\x1b[0m on", IN, flush=True)
        while not stop:
            reply = client.xread({IN: last}, count=100, block=100)
            for _s, entries in reply or []:
                for entry_id, fields in entries:
                    last = entry_id
                    client.xadd(OUT, answer(fields)[1])
        sys.exit(0)
    try:
        client.xgroup_create(IN, GROUP, id=env("GROUP_AT", "$"), mkstream=True)
    except redis.ResponseError:
        if env("ON_BUSY") == "setid":
            client.xgroup_setid(IN, GROUP, "$")
    print("\\x1b[1;34mready\\x1b[0m group", GROUP, "on", IN, flush=True)
    seen = 0
    while not stop:
        if read_only and seen >= read_only:
            time.sleep(0.05)
            continue
        reply = client.xreadgroup(GROUP, "c1", {IN: ">"}, count=1, block=100)
        for _s, entries in reply or []:
            for entry_id, fields in entries:
                seen += 1
                n, out = answer(fields)
                if n in slow:
                    time.sleep(float(env("SLOW_S", "1.2")))
                client.xadd(OUT, out)
                if n not in unacked:
                    client.xack(IN, GROUP, entry_id)
    print("stopped", flush=True)
    '''
)


def write_service(folder: Path) -> Path:
    path = folder / "svc.py"
    path.write_text(SERVICE, encoding="utf-8")
    return path


def write_inputs(folder: Path, count: int, stream: str = "in") -> Path:
    path = folder / "inputs.yaml"
    events = [{"stream": stream, "payload": {"n": i}} for i in range(count)]
    path.write_text(yaml.safe_dump({"name": "inputs", "events": events}), encoding="utf-8")
    return path


def write_case(folder: Path, *, count: int = 10, env: dict[str, str] | None = None, service: bool = True, **top: Any) -> Path:
    """A case replaying ``count`` inputs on ``in`` into the service, capturing ``out``."""
    write_service(folder)
    write_inputs(folder, count)
    case: dict[str, Any] = {
        "name": top.pop("name", "svc"),
        "input": {"scenario": "inputs.yaml", "max_speed": True},
        "outputs": top.pop("outputs", ["out"]),
        "golden": "golden.xtape",
        "settle": top.pop("settle", "300ms"),
        "timeout": top.pop("timeout", "10s"),
    }
    if service:
        case["service"] = {"command": ["{python}", "svc.py"], "env": env or {}, "grace": "2s"}
    case.update(top)
    path = folder / "case.yaml"
    path.write_text(yaml.safe_dump(case, sort_keys=False), encoding="utf-8")
    return path

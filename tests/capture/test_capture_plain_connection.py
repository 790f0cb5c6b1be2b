"""The recorder's connection to a single server at a plain URL, made without redis-py
(issue 18, item 14: redis-py's import is ~0.06 s of every recording's start), gives what
the redis-py connection gave: the same replies, byte for byte, and the same refusals
and faults, in the same words."""

from __future__ import annotations

from typing import Any

import hiredis
import pytest

from xtape.connection import error_reason
from xtape.errors import CommandRefused
from xtape.nodes import NodeConnection, NodeFault, refusal
from xtape.plain import PlainConnection, _error

ERROR_REPLIES = [
    "ERR unknown command 'NOPE', with args beginning with: ",
    "WRONGTYPE Operation against a key holding the wrong kind of value",
    "NOPERM User app has no permissions to run the 'xread' command",
    "EXECABORT Transaction discarded because of previous errors.",
    "LOADING Redis is loading the dataset in memory",
    "NOAUTH Authentication required.",
    "WRONGPASS invalid username-password pair or user is disabled.",
    "ERR max number of clients reached",
    "ERR invalid password",
    "MOVED 3999 127.0.0.1:6381",
    "ASK 3999 127.0.0.1:6381",
    "TRYAGAIN Multiple keys request during rehashing of slot",
    "CLUSTERDOWN The cluster is down",
    "READONLY You can't write against a read only replica.",
    "OOM command not allowed when used memory > 'maxmemory'.",
    "NOSCRIPT No matching script.",
    "BUSY Redis is busy running a script.",
    "no code at all",
]


def _said(found: BaseException) -> tuple[str, str, str]:
    if isinstance(found, CommandRefused):
        return ("refused", str(found), found.code)
    return ("fault", error_reason(found), "")  # (NodeConnection makes a NodeFault of it)


@pytest.mark.parametrize("message", ERROR_REPLIES)
def test_an_error_reply_is_what_redis_py_made_of_it(message: str) -> None:
    import redis
    from redis._parsers.base import BaseParser

    theirs = BaseParser.parse_error(message)
    expected = _said(refusal(theirs) if isinstance(theirs, redis.ResponseError) else theirs)
    assert _said(_error(hiredis.ReplyError(message))) == expected


COMMANDS: list[tuple[Any, ...]] = [
    ("PING",),
    ("XRANGE", b"s\xff", "-", "+"),
    ("XREAD", "COUNT", 10, "STREAMS", b"s\xff", "0-0"),
    ("XINFO", "STREAM", b"s\xff"),
    ("XINFO", "STREAM", b"missing"),
    ("NOPE", 1, 2.5),
    ("TYPE", b"s\xff"),
    ("SCAN", 0, "MATCH", "*", "COUNT", 1000, "TYPE", "stream"),
]


def _shown(reply: Any) -> Any:
    if isinstance(reply, CommandRefused):
        return ("refused", str(reply), reply.code)
    if isinstance(reply, list):
        return [_shown(r) for r in reply]
    return reply


def test_its_replies_are_the_redis_py_connections(make_server: Any) -> None:
    server = make_server(extra_args=["--requirepass", "pw"])
    url = f"redis://:pw@127.0.0.1:{server.port}/2"
    plain = NodeConnection.open_plain(url, socket_timeout=10.0)
    usual = NodeConnection.open(url, socket_timeout=10.0, keep_client=True)
    assert plain is not None and isinstance(plain.spec.connection_class(**plain.spec.kwargs), PlainConnection)
    try:
        usual.send([("XADD", b"s\xff", "*", b"f", b"\x00\xfe", b"f", b"again")] * 3 + [("SET", "k", "v")])
        assert [usual.read_reply() for _ in range(4)][-1] == b"OK"
        multi = [("MULTI",), ("XLEN", b"s\xff"), ("XLEN", "k"), ("EXEC",)]
        for commands in (COMMANDS, multi):
            answers = []
            for node in (plain, usual):
                node.send(commands)
                answers.append(_shown([node.read_reply() for _ in commands]))
            assert answers[0] == answers[1]
        assert answers[0][-1] == [3, ("refused", "WRONGTYPE Operation against a key holding the wrong kind of value", "")]
        again = NodeConnection.reopen(plain.spec)  # (as the recorder reconnects)
        again.send([("XLEN", b"s\xff")])
        assert again.read_reply() == 3
        again.close()
    finally:
        plain.close()
        usual.close()


def test_a_server_gone_is_a_fault_in_redis_pys_words(make_server: Any) -> None:
    server = make_server()
    plain = NodeConnection.open_plain(server.url, socket_timeout=10.0)
    assert plain is not None
    try:
        plain.send([("CLIENT", "KILL", "SKIPME", "no")])  # (kills this very connection)
        # The PING after the kill meets either the closed connection (EOF) or, when it
        # reached the closed socket first, a reset: redis-py words each its own way.
        gone = r"^(Connection closed by server\.|Error while reading from 127\.0\.0\.1:\d+ : \(104, 'Connection reset by peer'\))$"
        with pytest.raises(NodeFault, match=gone):
            plain.read_reply()
            plain.send([("PING",)])
            plain.read_reply()
        with pytest.raises(NodeFault):
            plain.send([("PING",)])
    finally:
        plain.close()

"""The Redis publisher: pipelined raw XADD on one connection.

Each event becomes ``XADD key [MAXLEN ~ N] id|* f1 v1 f1 v2 ...`` with flat arguments
(never a dict: duplicate field names and their order survive) and untouched bytes.
Commands are written as RESP straight onto the connection's socket and the replies
parsed with ``hiredis.Reader``: redis-py's pipeline machinery costs more per entry
than Redis does. Several batches stay in flight, so Redis works through one batch
while the next is being encoded; replies are read oldest first once more than
``max_pending`` entries are unanswered.
"""

from __future__ import annotations

import select
import socket
import ssl
from collections import deque
from collections.abc import Callable, Iterable, Sequence
from types import TracebackType

import hiredis
import redis

from xtape.connection import connect, error_reason, redact_url, resolve_url
from xtape.errors import RedisUnavailable, UsageError
from xtape.replay.publish import ErrorTally
from xtape.timeline import Event

_RECV_SIZE = 1 << 18
#: Replies read by one poll() at most.
_POLL_MAX = 500


class RedisPublisher:
    """Publishes events to the Redis server at ``url`` with pipelined XADD.

    ``maxlen`` adds ``MAXLEN ~ N`` (approximate trimming, cheap for Redis) to every
    XADD. ``keep_ids`` publishes each event under its original id where it has one.
    Connection failures raise :class:`~xtape.errors.RedisUnavailable` with the
    redacted URL; refused entries are counted in :attr:`errors`.
    """

    def __init__(
        self,
        url: str | None = None,
        *,
        maxlen: int | None = None,
        keep_ids: bool = False,
        max_pending: int = 20_000,
        socket_timeout: float | None = 30.0,
    ) -> None:
        if maxlen is not None and maxlen < 0:
            raise UsageError(f"--maxlen must be 0 or more, not {maxlen}")
        self.url = redact_url(resolve_url(url))
        self.maxlen = maxlen
        self.keep_ids = keep_ids
        self.errors = ErrorTally()
        #: Entries Redis accepted.
        self.accepted = 0
        self._max_pending = max(1, max_pending)
        self._client = connect(url, socket_timeout=socket_timeout)
        try:
            self._conn = self._client.connection_pool.get_connection()
        except redis.RedisError as exc:
            self._client.close()
            raise RedisUnavailable(self.url, str(exc)) from None
        sock = self._conn._sock
        assert sock is not None, "redis-py returned an unconnected connection"
        self._sock: socket.socket = sock
        self._reader: hiredis.Reader = hiredis.Reader()
        self._inflight: deque[Sequence[Event]] = deque()
        self._answered: int = 0  # replies read for the oldest batch in flight
        self._pending: int = 0  # entries sent and not answered yet
        self._heads: dict[bytes, tuple[bytes, ...]] = {}
        self._trim: tuple[bytes, ...] = () if maxlen is None else (b"MAXLEN", b"~", b"%d" % maxlen)
        self._closed: bool = False

    # -- the Publisher interface ---------------------------------------------------

    def publish(self, events: Sequence[Event]) -> None:
        if not events:
            return
        data = self._encode(events)
        self._inflight.append(events)
        self._pending += len(events)
        try:
            self._sock.sendall(data)
        except OSError as exc:
            raise self._lost(exc) from None
        if self._pending > self._max_pending:
            self._absorb(self._max_pending, block=True)
        else:
            self.poll()  # what has already arrived, so little is left for the end

    def poll(self) -> None:
        # A bounded amount per call (about 0.5 ms of work): the scheduler polls while
        # waiting for a deadline, and must be back in time for it.
        self._absorb(max(self._pending - _POLL_MAX, 0), block=False)

    def flush(self) -> None:
        self._absorb(0, block=True)

    def stream_tops(self, streams: Iterable[bytes]) -> dict[bytes, bytes | None]:
        names = list(streams)
        pipe = self._client.pipeline(transaction=False)
        for name in names:
            pipe.execute_command("XINFO", "STREAM", name)  # type: ignore[no-untyped-call]
        try:
            replies = pipe.execute(raise_on_error=False)
        except redis.RedisError as exc:
            raise self._lost(exc) from None
        tops: dict[bytes, bytes | None] = {}
        for name, reply in zip(names, replies, strict=True):
            if isinstance(reply, redis.ResponseError):
                if "no such key" in str(reply):
                    tops[name] = None
                    continue
                raise UsageError(
                    f"cannot publish to {name.decode('utf-8', 'backslashreplace')!r} "
                    f"at {self.url}: {reply}"
                )
            info = dict(zip(reply[::2], reply[1::2], strict=True))
            tops[name] = info[b"last-generated-id"]
        return tops

    def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        # Unread replies would confuse the next user of this connection: drop it.
        self._conn.disconnect()  # type: ignore[no-untyped-call]
        self._client.connection_pool.release(self._conn)
        self._client.close()

    def __enter__(self) -> RedisPublisher:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    # -- internals -----------------------------------------------------------------

    def _encode(self, events: Sequence[Event]) -> bytes:
        # hiredis packs a whole command in C: about twice as fast as formatting RESP here.
        pack: Callable[[tuple[bytes, ...]], bytes] = hiredis.pack_command  # type: ignore[assignment]
        heads = self._heads
        keep_ids = self.keep_ids
        commands: list[bytes] = []
        append = commands.append
        for event in events:
            stream = event.stream
            head = heads.get(stream)
            if head is None:
                head = self._head(stream)
            if keep_ids and event.id is not None:
                append(pack((*head, event.id, *event.flat)))
            else:
                append(pack((*head, b"*", *event.flat)))
        return b"".join(commands)

    def _head(self, stream: bytes) -> tuple[bytes, ...]:
        """``XADD key [MAXLEN ~ n]``: the arguments before the id."""
        head = (b"XADD", stream, *self._trim)
        if len(self._heads) < 100_000:
            self._heads[stream] = head
        return head

    def _absorb(self, target: int, *, block: bool) -> None:
        """Read replies until at most ``target`` entries are unanswered; without
        ``block``, stop as well when no more replies have arrived."""
        reader = self._reader
        inflight = self._inflight
        while self._pending > target:
            reply = reader.gets()
            if reply is False:
                if not block and not self._readable():
                    return
                self._receive()
                continue
            batch = inflight[0]
            if isinstance(reply, hiredis.ReplyError):
                self.errors.add(batch[self._answered].stream, str(reply))
            else:
                self.accepted += 1
            self._answered += 1
            self._pending -= 1
            if self._answered == len(batch):
                inflight.popleft()
                self._answered = 0

    def _readable(self) -> bool:
        if isinstance(self._sock, ssl.SSLSocket) and self._sock.pending():
            return True
        readable, _, _ = select.select([self._sock], [], [], 0)
        return bool(readable)

    def _receive(self) -> None:
        try:
            data = self._sock.recv(_RECV_SIZE)
        except OSError as exc:
            raise self._lost(exc) from None
        if not data:
            raise self._lost(ConnectionError("the server closed the connection"))
        self._reader.feed(data)

    def _lost(self, exc: BaseException) -> RedisUnavailable:
        reason = error_reason(exc)
        if isinstance(exc, TimeoutError | socket.timeout):
            reason = "no answer within the socket timeout"
        unanswered = f" ({self._pending} entries unconfirmed)" if self._pending else ""
        return RedisUnavailable(self.url, f"connection lost: {reason}{unanswered}")


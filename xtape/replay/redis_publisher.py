"""The Redis publisher: pipelined raw XADD on one connection.

Each event becomes ``XADD key [MAXLEN ~ N] id|* f1 v1 f1 v2 ...`` with flat arguments
(never a dict: duplicate field names and their order survive) and untouched bytes.
A batch's commands are packed in one call (:func:`xtape.replay.resp.pack_xadds`),
written as RESP straight onto the connection's socket, and the replies parsed with
``hiredis.Reader``: redis-py's pipeline machinery costs more per entry than Redis does. Several batches stay in flight, so Redis works through one batch
while the next is being encoded; replies are read oldest first once more than
``max_pending`` entries are unanswered.

An entry is *confirmed* once its reply (accepted or refused) has been read from the
server. If the connection is lost, the publisher reconnects with backoff (0.1 s doubling
to 5 s, for as long as it takes, until ``stop_event`` is set) and sends again exactly
the entries that were not confirmed; with ``reconnect=False`` it fails at once.
"""

from __future__ import annotations

import logging
import socket
import threading
import time
from collections import deque
from collections.abc import Callable, Iterable, Sequence
from types import TracebackType
from typing import TYPE_CHECKING

import hiredis

from xtape.connection import connect, error_reason, redact_url, resolve_url
from xtape.errors import RedisRefused, RedisUnavailable, UsageError
from xtape.notice import Notice
from xtape.replay.options import check_maxlen
from xtape.replay.publish import ErrorTally
from xtape.replay.resp import pack_xadds
from xtape.sockets import BACKOFF_MAX_S, BACKOFF_START_S, RECV_SIZE, socket_readable
from xtape.timeline import Event
from xtape.units import plural

if TYPE_CHECKING:
    import redis
    import redis.connection

log = logging.getLogger(__name__)

#: Replies read by one poll() at most (both publishers).
POLL_MAX = 500
#: What Redis answers to an explicit id that is not above the stream's top: for an entry
#: sent again after a reconnect with ``keep_ids``, the sign that the first send landed.
ALREADY_THERE = "equal or smaller than the target stream top item"


class PublisherSettings:
    """What both Redis publishers (this one and the cluster's) are given and count:
    the target (``url`` redacted for messages), the XADD options, the reconnecting
    policy, the refused and accepted entries."""

    def __init__(
        self,
        url: str | None,
        *,
        maxlen: int | None,
        keep_ids: bool,
        max_pending: int,
        socket_timeout: float | None,
        reconnect: bool,
        stop_event: threading.Event | None,
        warn: Callable[[str], None] | None,
    ) -> None:
        check_maxlen(maxlen)
        self._raw_url = resolve_url(url)
        self.url = redact_url(self._raw_url)
        self.maxlen = maxlen
        self.keep_ids = keep_ids
        self.reconnect = reconnect
        self.errors = ErrorTally()
        #: Entries Redis accepted.
        self.accepted = 0
        #: Times a connection was lost and made again, and entries sent again after it.
        self.reconnects = 0
        self.resent = 0
        self._socket_timeout = socket_timeout
        self._stop_event = stop_event or threading.Event()
        self._warn = warn or log.warning
        self._max_pending = max(1, max_pending)
        #: What every XADD carries after the stream's name (``MAXLEN ~ N`` or nothing).
        self._trim: tuple[bytes, ...] = () if maxlen is None else (b"MAXLEN", b"~", b"%d" % maxlen)

    @property
    def refused(self) -> int:
        """Entries Redis refused."""
        return self.errors.count


class RedisPublisher(PublisherSettings):
    """Publishes events to the Redis server at ``url`` with pipelined XADD.

    ``maxlen`` adds ``MAXLEN ~ N`` (approximate trimming, cheap for Redis) to every
    XADD. ``keep_ids`` publishes each event under its original id where it has one.
    Failing to connect raises :class:`~xtape.errors.RedisUnavailable` with the redacted
    URL; so does losing the connection with ``reconnect=False`` or once ``stop_event``
    is set while reconnecting. Refused entries are counted in :attr:`errors`; ``warn``
    receives one line when the connection is lost and one when it is back. ``sock`` is
    a connection to ``url`` made and checked already (:mod:`xtape.plain`), used
    first; a connection made again after a loss is the publisher's own.
    """

    def __init__(
        self,
        url: str | None = None,
        *,
        maxlen: int | None = None,
        keep_ids: bool = False,
        max_pending: int = 20_000,
        socket_timeout: float | None = 30.0,
        reconnect: bool = True,
        stop_event: threading.Event | None = None,
        warn: Callable[[str], None] | None = None,
        sock: socket.socket | None = None,
    ) -> None:
        super().__init__(
            url,
            maxlen=maxlen,
            keep_ids=keep_ids,
            max_pending=max_pending,
            socket_timeout=socket_timeout,
            reconnect=reconnect,
            stop_event=stop_event,
            warn=warn,
        )
        self._client: redis.Redis | None
        self._conn: redis.connection.Connection | None
        if sock is not None:  # connected and checked already (xtape.plain)
            sock.settimeout(socket_timeout)
            self._client, self._conn, self._sock = None, None, sock
        else:
            self._client, self._conn, self._sock = self._connect()
        self._reader: hiredis.Reader = hiredis.Reader()
        #: Reply bytes received and not read yet (see :meth:`_take_replies`).
        self._buf = bytearray()
        #: Batches sent again after a reconnect (by ``id``), while they are in flight.
        self._resent: set[int] = set()
        self._inflight: deque[Sequence[Event]] = deque()
        self._answered: int = 0  # replies read for the oldest batch in flight
        self._pending: int = 0  # entries sent and not answered yet
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
            self._recover(exc)  # sends this batch again with the rest
        if self._pending > self._max_pending:
            self._absorb(self._max_pending, block=True)
        else:
            self.poll()  # what has already arrived, so little is left for the end

    def poll(self) -> None:
        # A bounded amount per call (about 0.5 ms of work): the scheduler polls while
        # waiting for a deadline, and must be back in time for it.
        self._absorb(max(self._pending - POLL_MAX, 0), block=False)

    def flush(self) -> None:
        self._absorb(0, block=True)

    def stream_tops(self, streams: Iterable[bytes]) -> dict[bytes, bytes | None]:
        import redis

        names = list(streams)
        if self._client is None:  # (keep_ids connects through redis-py: xtape.replay.play)
            self._drop_connection()
            self._client, self._conn, self._sock = self._connect()
        pipe = self._client.pipeline(transaction=False)
        for name in names:
            pipe.execute_command("XINFO", "STREAM", name)  # type: ignore[no-untyped-call]
        try:
            replies = pipe.execute(raise_on_error=False)
        except redis.RedisError as exc:
            raise self._lost(error_reason(exc)) from None
        return {
            name: stream_top(name, reply, self.url)
            for name, reply in zip(names, replies, strict=True)
        }

    def unconfirmed(self) -> list[Event]:
        out: list[Event] = []
        for i, batch in enumerate(self._inflight):
            out.extend(batch[self._answered :] if i == 0 else batch)
        return out

    def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        self._drop_connection()

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
        return pack_xadds(events, self._trim, self.keep_ids)

    def _absorb(self, target: int, *, block: bool) -> None:
        """Read replies until at most ``target`` entries are unanswered; without
        ``block``, stop as well when no more replies have arrived."""
        while self._pending > target:
            if self._take_replies():
                continue
            if not block and not self._readable():
                return
            self._receive()

    def _take_replies(self) -> bool:
        """Answer the entries whose replies are complete in :attr:`_buf`; whether any were.

        A run of replies with no error is counted, not parsed: every XADD reply is then
        ``$<n>\r\n<id>\r\n`` (an id is digits and a dash), so the replies are the lines
        that start with ``$``, checked against the count of all lines (a reply of any
        other kind fails the check). Replies with an error among them (a rare event)
        are parsed one by one with hiredis, so that each refusal is told to the stream
        it belongs to, with its message.
        """
        buf = self._buf
        end = _complete_replies_end(buf)
        if not end:
            return False
        lines = buf.count(b"\r\n", 0, end)
        heads = buf.count(b"\r\n$", 0, end) + (buf[0] == _DOLLAR)
        if 2 * heads == lines and buf[0] != _DASH and buf.find(b"\r\n-", 0, end) < 0:
            del buf[:end]
            self._answered_ok(heads)
        else:
            self._reader.feed(bytes(buf[:end]))
            del buf[:end]
            self._parse_replies()
        return True

    def _answered_ok(self, n: int) -> None:
        """``n`` replies, all accepted, for the oldest entries in flight."""
        self.accepted += n
        if n:
            self.errors.consecutive = 0
        self._answered_for(n)

    def _answered_for(self, n: int) -> None:
        """The oldest ``n`` entries in flight have their replies: no longer pending."""
        self._pending -= n
        inflight = self._inflight
        while n:
            left = len(inflight[0]) - self._answered
            if n < left:
                self._answered += n
                return
            n -= left
            done = inflight.popleft()
            self._answered = 0
            if self._resent:
                self._resent.discard(id(done))

    def _parse_replies(self) -> None:
        """Every reply fed to the hiredis reader, one at a time."""
        reader = self._reader
        inflight = self._inflight
        errors = self.errors
        while (reply := reader.gets()) is not False:
            batch = inflight[0]
            if isinstance(reply, hiredis.ReplyError):
                message = str(reply)
                if self._resent and id(batch) in self._resent and ALREADY_THERE in message:
                    self.accepted += 1  # sent before the loss and stored: not an error
                else:
                    errors.add(batch[self._answered].stream, message)
            else:
                self.accepted += 1
                if errors.consecutive:
                    errors.consecutive = 0
            self._answered_for(1)

    def _readable(self) -> bool:
        return socket_readable(self._sock)

    def _receive(self) -> None:
        """Add what arrived to :attr:`_buf`, or reconnect (and send the unconfirmed
        entries again) if the connection is lost."""
        try:
            data = self._sock.recv(RECV_SIZE)
        except OSError as exc:
            self._recover(exc)
            return
        if not data:
            self._recover(ConnectionError("the server closed the connection"))
            return
        self._buf += data

    # -- connection ----------------------------------------------------------------

    def _connect(self) -> tuple[redis.Redis, redis.connection.Connection, socket.socket]:
        import redis

        client = connect(self._raw_url, socket_timeout=self._socket_timeout)
        try:
            conn = client.connection_pool.get_connection()
        except redis.RedisError as exc:
            client.close()
            raise RedisUnavailable(self.url, error_reason(exc)) from None
        from xtape.nodes import socket_of

        return client, conn, socket_of(conn)

    def _drop_connection(self) -> None:
        if self._client is None or self._conn is None:  # (a socket of its own)
            self._sock.close()
            return
        # Unread replies would confuse the next user of this connection: drop it.
        self._conn.disconnect()  # type: ignore[no-untyped-call]
        self._client.connection_pool.release(self._conn)
        self._client.close()

    def _recover(self, exc: BaseException) -> None:
        """After losing the connection: reconnect with backoff and send the unconfirmed
        entries again, or raise :class:`RedisUnavailable` (``reconnect=False``, or
        stopped while waiting)."""
        reason = error_reason(exc)
        if isinstance(exc, TimeoutError | socket.timeout):
            reason = "no answer within the socket timeout"
        if not self.reconnect or self._stop_event.is_set():
            raise self._lost(reason)
        self._warn(
            Notice(
                "disconnected",
                f"lost the connection to {self.url} ({reason}); reconnecting"
                + (f" ({plural(self._pending, 'entry', 'entries')} unconfirmed, to be sent again)" if self._pending else ""),
                url=self.url, reason=reason, unconfirmed=self._pending,
            )
        )
        self._drop_connection()
        delay = BACKOFF_START_S
        down_since = time.monotonic()
        while True:
            if self._stop_event.wait(delay):
                raise self._lost(reason)
            try:
                self._client, self._conn, self._sock = self._connect()
            except (RedisUnavailable, RedisRefused) as again:
                # a restarted server answers LOADING while it reads its data back
                if isinstance(again, RedisRefused) and "LOADING" not in str(again):
                    raise
                log.debug("reconnect failed: %s", again)
                delay = min(delay * 2, BACKOFF_MAX_S)
                continue
            if self._resend():
                break
            self._drop_connection()
        self.reconnects += 1
        down_s = time.monotonic() - down_since
        self._warn(Notice("reconnected", f"reconnected to {self.url} after {down_s:.1f} s", url=self.url, down_s=round(down_s, 3)))

    def _resend(self) -> bool:
        """Send every unconfirmed entry again on the new connection; ``False`` if that
        connection failed too."""
        self._reader = hiredis.Reader()
        self._buf = bytearray()
        unsent = self.unconfirmed()
        self._inflight.clear()
        self._resent.clear()
        self._answered = 0
        if not unsent:
            return True
        self._inflight.append(unsent)
        self._resent.add(id(unsent))
        self.resent += len(unsent)
        try:
            self._sock.sendall(self._encode(unsent))
        except OSError:
            return False
        return True

    def _lost(self, reason: str) -> RedisUnavailable:
        unanswered = f" ({plural(self._pending, 'entry', 'entries')} unconfirmed)" if self._pending else ""
        return RedisUnavailable(self.url, f"connection lost: {reason}{unanswered}")



_DOLLAR = ord("$")
_DASH = ord("-")


def _complete_replies_end(buf: bytearray) -> int:
    """Where the complete replies at the start of ``buf`` end (XADD replies: bulk ids
    and errors, one line each but for the bulk's length line)."""
    last = buf.rfind(b"\r\n")
    if last < 0:
        return 0
    before = buf.rfind(b"\r\n", 0, last)
    start = before + 2 if before >= 0 else 0  # where the last complete line starts
    if buf[start] == _DOLLAR:
        return start  # a bulk's length line whose payload has not arrived yet
    return last + 2


def stream_top(name: bytes, reply: object, url: str) -> bytes | None:
    """A stream's last generated id from its ``XINFO STREAM`` reply (``None``: no such
    stream); any other refusal means the target cannot take the stream."""
    import redis

    if isinstance(reply, redis.ResponseError):
        if "no such key" in str(reply):
            return None
        raise UsageError(
            f"cannot publish to {name.decode('utf-8', 'backslashreplace')!r} at {url}: {reply}"
        )
    assert isinstance(reply, list)
    info = dict(zip(reply[::2], reply[1::2], strict=True))
    top: bytes = info[b"last-generated-id"]
    return top

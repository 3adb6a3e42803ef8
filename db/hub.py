"""The LISTEN/NOTIFY hub: one dedicated listening connection per process, fanned out to bounded
per-subscriber queues (DESIGN.md decision 7).

The writer commits each batch of fills with ``pg_notify('perpgraph_trades', '{"first": id,
"last": id}')`` and the scoring job notifies ``perpgraph_leaderboard``. A gateway process opens
one :class:`Hub`; every live subscription takes a :class:`Subscription` from it::

    async with hub.subscribe("perpgraph_trades") as subscription:
        # backfill from the trade table after the client's cursor, then:
        async for event in subscription:
            if isinstance(event, Reconnected):
                ...  # notifications may have been missed: backfill again after the cursor
            else:
                ...  # event.payload names committed trade ids; skip ids <= the cursor

Guarantees and non-guarantees:

* **Order.** A subscription yields its channel's notifications in the order Postgres delivered
  them (commit order). Messages are shared, immutable :class:`HubMessage` objects.
* **Never blocks, never slows others.** Fan-out is synchronous and uses no awaits: each message
  is appended to each subscriber's bounded queue. A subscriber whose queue is full when another
  message arrives has *overflowed*: its queue is discarded at once (freeing the memory), it is
  removed from the hub, and its **next read** raises :class:`SubscriberOverflowError`. Messages
  that were queued are not delivered first: they only name ids the consumer must read from the
  trade table anyway when it resumes from its last cursor, and delivering them would only delay
  the disconnect of a consumer that is already behind.
* **Bursts.** Many commits can arrive in one read from the socket. While every queue has room
  the reader fans a burst out without yielding (fastest); once some queue is half full it
  yields to the event loop after each message, so subscribers that keep up get to drain
  between messages. Size ``queue_size`` above the largest burst a slow-ish reader must absorb.
* **Connection loss.** Postgres keeps no notifications for a session that is gone, so the hub
  cannot know what was missed while it was disconnected. The reader retries with
  ``reconnect_delays`` (the last delay repeats, forever, until :meth:`Hub.stop`), re-LISTENs, and
  then puts one :class:`Reconnected` marker into every subscription of every channel, including
  those made while disconnected. A consumer answers it by backfilling from the table after its
  last cursor. Anything committed after the new LISTEN arrives as a notification too, so the
  backfill and the live stream overlap: consumers drop ids at or below their cursor.
* **Dead peers.** TCP keepalives are on (TCP connections only), and every ``heartbeat`` seconds
  the reader pauses ``notifies()`` to run ``SELECT 1`` (bounded by ``heartbeat_timeout``), so a
  half-open connection is noticed. Notifications arriving meanwhile wait in psycopg's backlog.
* **Leaks.** A subscription stays registered until it is closed (``async with`` or
  :meth:`Subscription.close`), it overflows, or the hub stops. One abandoned without closing
  costs at most ``queue_size`` messages, then overflows and is dropped.

The connection is a plain ``psycopg.AsyncConnection`` in autocommit mode, never from a pool:
``notifies()`` holds the connection's lock while it waits, and LISTEN is per session (it does
not survive PgBouncer transaction pooling, so point the hub at Postgres itself).
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import deque
from collections.abc import Callable, Sequence
from contextlib import aclosing
from dataclasses import dataclass
from types import TracebackType
from typing import TypeAlias

import psycopg
from psycopg import AsyncConnection, sql
from psycopg.conninfo import conninfo_to_dict
from psycopg.rows import TupleRow

log = logging.getLogger(__name__)

TRADES_CHANNEL = "perpgraph_trades"
LEADERBOARD_CHANNEL = "perpgraph_leaderboard"
DEFAULT_CHANNELS = (TRADES_CHANNEL, LEADERBOARD_CHANNEL)
DEFAULT_APPLICATION_NAME = "perpgraph-hub"

#: While disconnected, say so at WARNING this often (seconds); other failed attempts are DEBUG.
_STILL_DOWN_EVERY = 60.0

#: Errors that mean "the connection is unusable"; anything else is a bug, logged with its trace.
_CONNECTION_ERRORS = (psycopg.Error, OSError, TimeoutError)


class HubClosedError(RuntimeError):
    """The hub was stopped (or never started and then stopped); it takes no new subscribers."""


class HubConnectError(RuntimeError):
    """:meth:`Hub.start` could not connect and LISTEN; the message names the server and why."""


class SubscriberOverflowError(RuntimeError):
    """The subscriber fell behind: its queue was full when a message arrived, so it was dropped."""

    def __init__(self, channel: str, queue_size: int) -> None:
        self.channel = channel
        self.queue_size = queue_size
        super().__init__(
            f"subscriber on channel {channel!r} fell behind: {queue_size} messages were waiting "
            "unread when another arrived, so it was disconnected from the live stream. Nothing "
            "is lost: read what you missed from the database after the last cursor you "
            "processed (for trades, ids greater than it), then subscribe again."
        )


@dataclass(frozen=True, slots=True)
class HubMessage:
    """One notification as Postgres delivered it; ``received_at`` is ``time.monotonic()``."""

    channel: str
    payload: str
    received_at: float


@dataclass(frozen=True, slots=True)
class Reconnected:
    """The listener was disconnected and is listening again: notifications may have been lost.

    Delivered to every subscription of every channel once the new connection has LISTENed, so
    a backfill started on receipt covers the whole gap. It has no payload on purpose: code that
    only handles :class:`HubMessage` cannot mistake it for one (mypy makes consumers narrow
    ``HubEvent`` before reading ``payload``).
    """

    channel: str
    received_at: float
    #: Seconds from noticing the loss to listening again.
    disconnected_for: float


#: What a :class:`Subscription` yields.
HubEvent: TypeAlias = HubMessage | Reconnected


class Subscription:
    """A bounded queue of one channel's events; an async iterator and an async context manager.

    Iteration ends when the subscription is closed (by :meth:`close`, by leaving ``async with``,
    or by :meth:`Hub.stop`); events still queued at that moment are discarded. After an overflow
    every read raises :class:`SubscriberOverflowError` until it is closed. One task reads it.
    """

    __slots__ = (
        "_closed",
        "_on_close",
        "_overflowed",
        "_queue",
        "_waiter",
        "channel",
        "high_water",
        "queue_size",
    )

    def __init__(
        self, channel: str, queue_size: int, on_close: Callable[[Subscription], None]
    ) -> None:
        self.channel = channel
        self.queue_size = queue_size
        self.high_water = max(1, queue_size // 2)
        self._on_close = on_close
        self._queue: deque[HubEvent] = deque()
        self._waiter: asyncio.Future[None] | None = None
        self._closed = False
        self._overflowed = False

    @property
    def closed(self) -> bool:
        return self._closed

    @property
    def overflowed(self) -> bool:
        return self._overflowed

    @property
    def pending(self) -> int:
        """Events queued and not yet read."""
        return len(self._queue)

    def __aiter__(self) -> Subscription:
        return self

    async def __anext__(self) -> HubEvent:
        while True:
            if self._closed:
                raise StopAsyncIteration
            if self._overflowed:
                raise SubscriberOverflowError(self.channel, self.queue_size)
            if self._queue:
                return self._queue.popleft()
            if self._waiter is not None:
                raise RuntimeError("a Subscription is read by one task at a time")
            waiter = asyncio.get_running_loop().create_future()
            self._waiter = waiter
            try:
                await waiter
            finally:
                self._waiter = None

    async def __aenter__(self) -> Subscription:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()

    def close(self) -> None:
        """Unsubscribe: the hub forgets this subscription and iteration ends. Idempotent."""
        if self._closed:
            return
        self._on_close(self)
        self._end()

    def _end(self) -> None:
        self._closed = True
        self._queue.clear()
        self._wake()

    def _offer(self, event: HubEvent) -> bool:
        """Queue ``event`` without blocking; False if this subscription has just overflowed."""
        if len(self._queue) >= self.queue_size:
            self._overflowed = True
            self._queue.clear()
            self._wake()
            return False
        self._queue.append(event)
        self._wake()
        return True

    def _wake(self) -> None:
        waiter = self._waiter
        if waiter is not None and not waiter.done():
            waiter.set_result(None)


class Hub:
    """One LISTEN connection for the process, fanned out to bounded per-subscriber queues."""

    def __init__(
        self,
        database_url: str,
        *,
        channels: Sequence[str] = DEFAULT_CHANNELS,
        queue_size: int = 1000,
        reconnect_delays: Sequence[float] = (0.1, 0.5, 1, 2, 5),
        heartbeat: float = 30.0,
        heartbeat_timeout: float = 10.0,
        connect_timeout: int = 10,
        application_name: str = DEFAULT_APPLICATION_NAME,
    ) -> None:
        if not channels:
            raise ValueError("a Hub needs at least one channel")
        if queue_size < 1:
            raise ValueError(f"queue_size must be at least 1, not {queue_size}")
        if not reconnect_delays or any(delay < 0 for delay in reconnect_delays):
            raise ValueError("reconnect_delays must be a non-empty sequence of delays >= 0")
        if heartbeat <= 0 or heartbeat_timeout <= 0 or connect_timeout < 1:
            raise ValueError("heartbeat, heartbeat_timeout and connect_timeout must be positive")
        self._database_url = database_url
        self._channels = tuple(dict.fromkeys(channels))
        self._queue_size = queue_size
        self._delays = tuple(float(delay) for delay in reconnect_delays)
        self._heartbeat = heartbeat
        self._heartbeat_timeout = heartbeat_timeout
        self._connect_timeout = connect_timeout
        self._application_name = application_name
        # Per channel, an insertion-ordered set of subscriptions.
        self._subscribers: dict[str, dict[Subscription, None]] = {c: {} for c in self._channels}
        self._connection: AsyncConnection[TupleRow] | None = None
        self._task: asyncio.Task[None] | None = None
        self._started = False
        self._closed = False

    @property
    def channels(self) -> tuple[str, ...]:
        return self._channels

    @property
    def subscriber_count(self) -> int:
        return sum(len(subscribers) for subscribers in self._subscribers.values())

    @property
    def connected(self) -> bool:
        """True while the listening connection is up and LISTENing on every channel."""
        return self._connection is not None and not self._connection.closed

    async def start(self) -> None:
        """Connect, LISTEN and start the reader task.

        The first connection is tried once: an unreachable or misconfigured server raises
        :class:`HubConnectError` at once instead of retrying forever. Only a connection lost
        later is retried.
        """
        if self._closed:
            raise HubClosedError("this hub was stopped; make a new Hub")
        if self._started:
            raise RuntimeError("Hub.start() was already called")
        self._started = True
        try:
            connection = await self._connect()
        except _CONNECTION_ERRORS as error:
            self._started = False
            raise HubConnectError(
                f"the LISTEN hub cannot connect to {_describe(self._database_url)}: "
                f"{_reason(error)}"
            ) from error
        self._connection = connection
        self._task = asyncio.create_task(self._run(connection), name="perpgraph-hub-reader")
        log.info(
            "hub listening on %s at %s",
            ", ".join(self._channels),
            _describe(self._database_url),
        )

    async def stop(self) -> None:
        """Stop reading, end every subscription's iteration, close the connection. Idempotent."""
        if self._closed:
            return
        self._closed = True
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            await asyncio.wait({task})
        ended = 0
        for subscribers in self._subscribers.values():
            for subscription in subscribers:
                subscription._end()
                ended += 1
            subscribers.clear()
        connection, self._connection = self._connection, None
        if connection is not None:
            await connection.close()
        log.info("hub stopped; %d subscriptions ended", ended)

    def subscribe(self, channel: str) -> Subscription:
        """A new subscription to ``channel`` (one of :attr:`channels`)."""
        if self._closed:
            raise HubClosedError("the hub is stopped and takes no new subscribers")
        subscribers = self._subscribers.get(channel)
        if subscribers is None:
            raise ValueError(
                f"the hub does not listen on {channel!r}; it listens on {list(self._channels)}"
            )
        subscription = Subscription(channel, self._queue_size, self._forget)
        subscribers[subscription] = None
        return subscription

    def _forget(self, subscription: Subscription) -> None:
        self._subscribers[subscription.channel].pop(subscription, None)

    async def _connect(self) -> AsyncConnection[TupleRow]:
        connection = await AsyncConnection.connect(
            self._database_url,
            autocommit=True,
            application_name=self._application_name,
            connect_timeout=self._connect_timeout,
            keepalives=1,
            keepalives_idle=30,
            keepalives_interval=10,
            keepalives_count=3,
        )
        try:
            for channel in self._channels:
                await connection.execute(sql.SQL("LISTEN {}").format(sql.Identifier(channel)))
        except BaseException:
            await connection.close()
            raise
        return connection

    async def _run(self, connection: AsyncConnection[TupleRow]) -> None:
        """Read notifications forever; on loss, reconnect and mark the gap. Ends by cancel."""
        while True:
            try:
                await self._listen(connection)
            except _CONNECTION_ERRORS as error:
                reason = _reason(error)
            except Exception as error:
                log.exception("hub reader failed unexpectedly; reconnecting")
                reason = _reason(error)
            lost_at = time.monotonic()
            self._connection = None
            await connection.close()
            log.warning(
                "hub lost its connection (%s); reconnecting, %d subscribers waiting",
                reason,
                self.subscriber_count,
            )
            connection = await self._reconnect(lost_at)
            self._connection = connection
            self._mark_gap(time.monotonic() - lost_at)

    async def _listen(self, connection: AsyncConnection[TupleRow]) -> None:
        """Fan out notifications; every ``heartbeat`` seconds check the connection is alive.

        Notifications that arrive while the heartbeat runs wait in psycopg's backlog and are
        yielded first by the next ``notifies()``, so none is lost or reordered.
        """
        while True:
            async with aclosing(connection.notifies(timeout=self._heartbeat)) as notifies:
                async for notify in notifies:
                    if self._fan_out(notify.channel, notify.payload):
                        # A queue is half full: let its reader run before the next message.
                        await asyncio.sleep(0)
            async with asyncio.timeout(self._heartbeat_timeout):
                await connection.execute("SELECT 1")

    async def _reconnect(self, lost_at: float) -> AsyncConnection[TupleRow]:
        attempt = 0
        last_warning = lost_at
        while True:
            await asyncio.sleep(self._delays[min(attempt, len(self._delays) - 1)])
            attempt += 1
            try:
                connection = await self._connect()
            except _CONNECTION_ERRORS as error:
                now = time.monotonic()
                if now - last_warning >= _STILL_DOWN_EVERY:
                    last_warning = now
                    log.warning(
                        "hub still disconnected after %.0f s and %d attempts: %s",
                        now - lost_at,
                        attempt,
                        _reason(error),
                    )
                else:
                    log.debug("hub reconnect attempt %d failed: %s", attempt, _reason(error))
                continue
            log.info(
                "hub reconnected after %.2f s (%d attempts); telling %d subscribers to backfill",
                time.monotonic() - lost_at,
                attempt,
                self.subscriber_count,
            )
            return connection

    def _fan_out(self, channel: str, payload: str) -> bool:
        subscribers = self._subscribers.get(channel)
        if not subscribers:
            return False
        return self._deliver(subscribers, HubMessage(channel, payload, time.monotonic()))

    def _mark_gap(self, disconnected_for: float) -> None:
        now = time.monotonic()
        for channel, subscribers in self._subscribers.items():
            if subscribers:
                self._deliver(subscribers, Reconnected(channel, now, disconnected_for))

    def _deliver(self, subscribers: dict[Subscription, None], event: HubEvent) -> bool:
        """Queue ``event`` for each subscriber; True if a queue is now at least half full.

        Synchronous, no awaits: one full queue never holds up anyone else.
        """
        overflowed: list[Subscription] = []
        backlog = False
        for subscription in subscribers:
            if not subscription._offer(event):
                overflowed.append(subscription)
            elif subscription.pending >= subscription.high_water:
                backlog = True
        for subscription in overflowed:
            del subscribers[subscription]
            log.warning(
                "hub dropped a subscriber on %s: it fell behind (%d events unread)",
                subscription.channel,
                subscription.queue_size,
            )
        return backlog


def _describe(database_url: str) -> str:
    """Where a URL points, without its password."""
    try:
        params = conninfo_to_dict(database_url)
    except psycopg.ProgrammingError:
        return "the configured database (unparsable URL)"
    host = params.get("host") or "localhost"
    port = params.get("port")
    location = f"{host}:{port}" if port else str(host)
    return f"{location}/{params.get('dbname') or params.get('user') or ''}"


def _reason(error: BaseException) -> str:
    text = " ".join(str(error).split())
    return text or type(error).__name__

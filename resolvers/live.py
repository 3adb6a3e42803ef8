"""Live position events: one feed per process, loaded once per commit, shared by every subscriber.

The :class:`EventFeed` holds one subscription to the hub's trade channel. Whatever wakes it (a
NOTIFY, or the hub's :class:`~db.hub.Reconnected` marker after a lost connection), it loads
every trade committed since the last one it saw, with its trader and position, in one
statement, and hands that batch to every listener. The NOTIFY payload is only a wake-up call,
so a lost notification or a reconnection loses nothing.

Resuming (``after``) reads the trade table from the client's cursor in id order, then continues
with the live batches; ids at or below the last one sent are skipped at the seam, so nothing is
lost or sent twice. This relies on trade ids increasing in commit order, which holds with one
writer per database (DESIGN.md: one writer per venue feeds Postgres).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, replace

from psycopg import sql
from psycopg_pool import AsyncConnectionPool

from db.hub import (
    LEADERBOARD_CHANNEL,
    TRADES_CHANNEL,
    Hub,
    HubClosedError,
    SubscriberOverflowError,
    Subscription,
)
from db.query import fetch_rows
from db.rows import PositionRow, TradeRow, TraderRow, select_list
from loaders.trade_filter import TradeFilterSpec
from resolvers.errors import PerpgraphError
from resolvers.mailbox import Mailbox, MailboxOverflowError

log = logging.getLogger(__name__)

#: How many events one statement loads, for the live feed and for replays.
LOAD_BATCH = 1_000

_TRADE_COLUMNS = len(TradeRow.__dataclass_fields__)
_TRADER_COLUMNS = len(TraderRow.__dataclass_fields__)
_POSITION_COLUMNS = len(PositionRow.__dataclass_fields__)


@dataclass(frozen=True, slots=True)
class LiveEvent:
    """One fill-derived event with everything a subscriber's selection usually needs."""

    trade: TradeRow
    trader: TraderRow
    position: PositionRow | None
    #: ``time.monotonic()`` when the feed learnt of the commit (None for replayed events).
    noticed_at: float | None = None


@dataclass(frozen=True, slots=True)
class TraderSelector:
    """Traders named by address or public id. Unlike a list of ids, it also matches traders
    that do not exist yet when the subscription starts (their first fill is an event too)."""

    addresses: frozenset[str]
    public_ids: frozenset[str]

    def matches(self, trader: TraderRow) -> bool:
        return trader.address in self.addresses or trader.public_id in self.public_ids

    async def known_ids(self, pool: AsyncConnectionPool) -> tuple[int, ...]:
        rows = await fetch_rows(
            pool,
            "SELECT id FROM trader WHERE address = ANY(%s) OR public_id = ANY(%s)",
            (list(self.addresses), list(self.public_ids)),
        )
        return tuple(sorted(int(row[0]) for row in rows))


class SubscriberTooSlowError(PerpgraphError):
    """A listener fell behind the live feed; the message says how to resume."""

    code = "SUBSCRIBER_TOO_SLOW"

    def __init__(self, last_cursor: str | None, queue_size: int) -> None:
        super().__init__(
            f"this subscription fell more than {queue_size} event batches behind and was "
            "closed; subscribe again with `after` set to the last cursor you received",
            lastCursor=last_cursor,
        )
        self.last_cursor = last_cursor


async def load_events(
    pool: AsyncConnectionPool, after_id: int, trade_filter: TradeFilterSpec, limit: int
) -> list[LiveEvent]:
    """Events after trade ``after_id`` in id (commit) order, narrowed by ``trade_filter``."""
    conditions, params = trade_filter.conditions("t")
    where = sql.SQL(" AND ").join([sql.SQL("t.id > %s"), *conditions])
    statement = sql.SQL(
        "SELECT {trade}, {trader}, {position} FROM trade AS t "
        "JOIN trader AS tr ON tr.id = t.trader_id "
        "LEFT JOIN position AS p ON p.id = t.position_id "
        "WHERE {where} ORDER BY t.id LIMIT %s"
    ).format(
        trade=select_list(TradeRow, "t"),
        trader=select_list(TraderRow, "tr"),
        position=select_list(PositionRow, "p"),
        where=where,
    )
    rows = await fetch_rows(pool, statement, [after_id, *params, limit])
    events = []
    for row in rows:
        trade = TradeRow.from_row(row[:_TRADE_COLUMNS])
        trader = TraderRow.from_row(row[_TRADE_COLUMNS : _TRADE_COLUMNS + _TRADER_COLUMNS])
        position_part = row[_TRADE_COLUMNS + _TRADER_COLUMNS :]
        position = None if position_part[0] is None else PositionRow.from_row(position_part)
        events.append(LiveEvent(trade, trader, position))
    return events


async def latest_trade_id(pool: AsyncConnectionPool) -> int:
    rows = await fetch_rows(pool, "SELECT coalesce(max(id), 0) FROM trade")
    return int(rows[0][0])


class FeedListener:
    """One subscriber's bounded mailbox of live event batches."""

    def __init__(
        self, feed: EventFeed, queue_size: int, on_overflow: Callable[[], None] | None = None
    ) -> None:
        self._feed = feed
        self._on_overflow = on_overflow
        self._mailbox: Mailbox[list[LiveEvent]] = Mailbox(queue_size, self._overflowed)

    @property
    def overflowed(self) -> bool:
        return self._mailbox.overflowed

    def offer(self, batch: list[LiveEvent]) -> None:
        self._mailbox.offer(batch)

    def _overflowed(self) -> None:
        self._feed.forget(self)
        log.warning(
            "a live subscriber fell %d batches behind and was dropped", self._mailbox.capacity
        )
        if self._on_overflow is not None:
            self._on_overflow()

    async def next_batch(self, last_cursor: str | None) -> list[LiveEvent] | None:
        """The next batch; None once closed. Raises SubscriberTooSlowError after an overflow."""
        try:
            return await self._mailbox.get()
        except MailboxOverflowError:
            raise SubscriberTooSlowError(last_cursor, self._mailbox.capacity) from None

    def close(self) -> None:
        self._mailbox.close()
        self._feed.forget(self)


class EventFeed:
    """Loads each committed batch of trades once and hands it to every listener."""

    def __init__(
        self,
        hub: Hub,
        pool: AsyncConnectionPool,
        *,
        queue_size: int = 256,
        update_interval: float = 1.0,
    ) -> None:
        self.hub = hub
        self.pool = pool
        self.queue_size = queue_size
        #: Seconds between reads of state that streams poll (marks, watched positions).
        self.update_interval = update_interval
        self.last_id = 0
        #: Bumped whenever the leaderboards are recomputed.
        self.leaderboard_version = 0
        self._board_changed = asyncio.Condition()
        self._listeners: dict[FeedListener, None] = {}
        self._tasks: list[asyncio.Task[None]] = []

    @property
    def listener_count(self) -> int:
        return len(self._listeners)

    async def start(self) -> None:
        trades = self.hub.subscribe(TRADES_CHANNEL)
        boards = self.hub.subscribe(LEADERBOARD_CHANNEL)
        self.last_id = await latest_trade_id(self.pool)
        self._tasks = [
            asyncio.create_task(self._follow_trades(trades), name="perpgraph-feed-trades"),
            asyncio.create_task(self._follow_boards(boards), name="perpgraph-feed-boards"),
        ]

    async def stop(self) -> None:
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        for listener in list(self._listeners):
            listener.close()

    async def board_change(self, seen_version: int) -> int:
        """Wait until the boards are recomputed after ``seen_version``; the new version."""
        async with self._board_changed:
            await self._board_changed.wait_for(lambda: self.leaderboard_version != seen_version)
        return self.leaderboard_version

    def listen(self, on_overflow: Callable[[], None] | None = None) -> FeedListener:
        """A new listener; ``on_overflow`` is called at once if it falls too far behind (its
        reader may be stuck writing to a stalled client and never read again)."""
        listener = FeedListener(self, self.queue_size, on_overflow)
        self._listeners[listener] = None
        return listener

    def forget(self, listener: FeedListener) -> None:
        self._listeners.pop(listener, None)

    async def catch_up(self) -> None:
        """Load and hand out everything committed since the last event seen."""
        noticed = time.monotonic()
        while True:
            batch = await load_events(self.pool, self.last_id, TradeFilterSpec(), LOAD_BATCH)
            if not batch:
                return
            batch = [replace(event, noticed_at=noticed) for event in batch]
            self.last_id = batch[-1].trade.id
            for listener in list(self._listeners):
                listener.offer(batch)
            if len(batch) < LOAD_BATCH:
                return

    async def _follow_trades(self, first: Subscription) -> None:
        """Catch up on every wake-up. If the feed falls behind the hub, or a load fails, it
        subscribes again and catches up: every catch-up reloads from the last id seen, so
        nothing is lost either way."""
        subscription: Subscription | None = first
        missed = False
        while True:
            if subscription is None:
                try:
                    subscription = self.hub.subscribe(TRADES_CHANNEL)
                except HubClosedError:
                    return
            try:
                async with subscription:
                    if missed:
                        await self.catch_up()
                        missed = False
                    async for _ in subscription:
                        await self.catch_up()
                return  # the hub stopped
            except SubscriberOverflowError:
                log.info("the live feed fell behind; catching up from trade %d", self.last_id)
            except Exception:
                log.exception("the live feed failed to load events; retrying in 1 s")
                await asyncio.sleep(1)
            subscription = None
            missed = True

    async def _follow_boards(self, subscription: Subscription) -> None:
        async with subscription:
            async for _ in subscription:
                # A recomputation, or a reconnection after which one may have been missed.
                self.leaderboard_version += 1
                async with self._board_changed:
                    self._board_changed.notify_all()


async def position_events(
    feed: EventFeed,
    trade_filter: TradeFilterSpec,
    *,
    after_id: int | None,
    top_of_board: tuple[str, int] | None = None,
    traders: TraderSelector | None = None,
    cursor_of: Callable[[int], str] = str,
    on_overflow: Callable[[], None] | None = None,
) -> AsyncIterator[LiveEvent]:
    """Events for one subscriber: the missed ones after ``after_id`` first, then live ones."""
    listener = feed.listen(on_overflow)
    last_id = after_id if after_id is not None else feed.last_id
    board_version = -1
    spec = trade_filter
    try:
        while True:
            if top_of_board is not None and board_version != feed.leaderboard_version:
                board_version = feed.leaderboard_version
                spec = await _narrow_to_board(feed.pool, trade_filter, top_of_board)
            if after_id is not None:
                replay_spec = spec
                if traders is not None:
                    known = set(await traders.known_ids(feed.pool))
                    if spec.trader_ids is not None:
                        known &= set(spec.trader_ids)
                    replay_spec = replace(spec, trader_ids=tuple(sorted(known)))
                replayed = await load_events(feed.pool, last_id, replay_spec, LOAD_BATCH)
                for event in replayed:
                    yield event
                    last_id = event.trade.id
                if len(replayed) == LOAD_BATCH:
                    continue
                after_id = None
            batch = await listener.next_batch(cursor_of(last_id) if last_id else None)
            if batch is None:
                return
            for event in batch:
                if (
                    event.trade.id > last_id
                    and spec.matches(event.trade)
                    and (traders is None or traders.matches(event.trader))
                ):
                    yield event
                last_id = max(last_id, event.trade.id)
    finally:
        listener.close()


async def _narrow_to_board(
    pool: AsyncConnectionPool, trade_filter: TradeFilterSpec, top_of_board: tuple[str, int]
) -> TradeFilterSpec:
    timeframe, top = top_of_board
    rows = await fetch_rows(
        pool,
        "SELECT trader_id FROM trader_stats WHERE timeframe = %s AND rank <= %s",
        (timeframe, top),
    )
    members = {int(row[0]) for row in rows}
    if trade_filter.trader_ids is not None:
        members &= set(trade_filter.trader_ids)
    return replace(trade_filter, trader_ids=tuple(sorted(members)))

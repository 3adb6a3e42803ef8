"""The live Hyperliquid ingester (``perpgraph ingest hyperliquid``).

Four tasks hold one database connection each (the leaderboards' one only while it recomputes)
and share one ``/info`` weight budget:

* **discovery**: a WebSocket subscribed to the public ``trades`` of every coin (each trade names
  both counterparties) and to ``allMids``. Every address not seen before is queued for a
  backfill; a known address that trades again is queued for an incremental backfill (from its
  checkpoint) at most once per ``refresh_seconds``, so the fills of active traders keep coming
  in without per-user subscriptions (which the venue caps at 10 users). Mids are stored as
  they come. A dropped connection is re-opened with exponential
  backoff and jitter, and the subscriptions are sent again.
* **backfill**: for each queued trader, ``userFillsByTime`` pages from the trader's checkpoint
  (or ``backfill_since``), each page written as one batch with its checkpoint (the last fill's
  time), then ``clearinghouseState`` reconciles the trader's open positions
  (:func:`ingest.venue_state.reconcile_account`).
* **marks**: every ``marks_interval`` seconds, ``metaAndAssetCtxs`` refreshes every market's
  context and revalues all open positions set-wise; the time it took is logged.
* **venue leaderboard** (when ``venue_leaderboard_url`` is set): every
  ``venue_leaderboard_seconds``, the venue's stats leaderboard registers its accounts with their
  display names and account values, and queues the ``seed_top`` largest accounts for a backfill
  (traders to follow before they trade again).
* **leaderboards**: every ``leaderboard_refresh_seconds`` (counted from the end of the last
  recompute, so recomputes never pile up), the boards are recomputed
  (:func:`ingest.scoring.recompute_leaderboards`, on ``scoring_partitions`` connections): all
  of them, or YEAR and ALL_TIME only every ``leaderboard_long_refresh_seconds`` when that is
  set (:mod:`ingest.board_schedule`); the time it took is logged. ``None`` leaves it to
  ``perpgraph score``.

A malformed message or response is logged with its reason and counted in
:class:`LiveCounters`, and skipped whole: a page is parsed completely before any of it is
written, so a batch is never half written. Nothing malformed stops the ingester. Spot trades
(``userFillsByTime`` returns them with the perpetual fills) and fills in coins no perpetual
market lists are well formed but not ours: they are counted and left out of the page.

Nor does losing the database (Postgres restarted, a backend terminated): every task opens its
connection again on its next piece of work. Start-up waits for Postgres and the venue with
backoff; a trader whose backfill failed is queued again (its checkpoint says where to resume);
mids that arrive while Postgres is away are skipped (the next update carries every coin) and
counted in ``database_errors``, like every other failed attempt.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import httpx
import orjson
import psycopg
from tenacity import (
    AsyncRetrying,
    RetryCallState,
    retry_if_exception_type,
    wait_exponential_jitter,
)
from websockets.asyncio.client import connect as ws_connect
from websockets.exceptions import WebSocketException

from db.pool import connect
from ingest.board_schedule import BoardSchedule, recompute_due
from ingest.engine import FillRejectedError
from ingest.hyperliquid.errors import HyperliquidFormatError
from ingest.hyperliquid.fills import VENUE, HyperliquidFill, perp_fills
from ingest.hyperliquid.info import InfoClient
from ingest.hyperliquid.ws import AllMidsUpdate, PublicTrades, parse_ws_message
from ingest.replay import HYPERLIQUID_PRICE_DECIMALS
from ingest.scoring import describe_boards
from ingest.venue_state import (
    apply_asset_contexts,
    apply_mids,
    reconcile_account,
    store_funding,
    store_leaderboard,
)
from ingest.writer import known_markets, read_checkpoint, write_fills

log = logging.getLogger(__name__)

MAINNET_WS_URL = "wss://api.hyperliquid.xyz/ws"


@dataclass(slots=True)
class LiveCounters:
    """What the ingester has done so far (for logs, tests and health checks)."""

    messages: int = 0
    malformed: int = 0
    reconnects: int = 0
    traders_discovered: int = 0
    traders_backfilled: int = 0
    refreshes_queued: int = 0
    fills_written: int = 0
    funding_written: int = 0
    pages_rejected: int = 0
    spot_fills_skipped: int = 0
    fills_in_unknown_coins: int = 0
    fees_in_other_tokens: int = 0
    marks_refreshes: int = 0
    mids_updates: int = 0
    last_marks_refresh_s: float | None = None
    leaderboard_refreshes: int = 0
    venue_leaderboards: int = 0
    traders_seeded: int = 0
    last_leaderboard_refresh_s: float | None = None
    database_errors: int = 0
    malformed_reasons: list[str] = field(default_factory=list)

    def malformed_message(self, reason: str) -> None:
        self.malformed += 1
        if len(self.malformed_reasons) < 100:
            self.malformed_reasons.append(reason)
        log.warning("malformed venue message skipped: %s", reason)

    def database_error(self, doing: str, error: Exception) -> None:
        self.database_errors += 1
        log.warning("database unavailable while %s, will retry: %s", doing, error)


@dataclass(frozen=True, slots=True)
class LiveSettings:
    database_url: str
    ws_url: str = MAINNET_WS_URL
    coins: tuple[str, ...] | None = None
    backfill_since: datetime = datetime(2025, 1, 1, tzinfo=UTC)
    marks_interval: float = 30.0
    max_backoff_seconds: float = 30.0
    refresh_seconds: float = 60.0
    leaderboard_refresh_seconds: float | None = 60.0
    leaderboard_long_refresh_seconds: float | None = None
    scoring_partitions: int = 1
    venue_leaderboard_url: str | None = None
    venue_leaderboard_seconds: float = 3600.0
    seed_top: int = 0


class LiveIngester:
    def __init__(self, settings: LiveSettings, info: InfoClient) -> None:
        self.settings = settings
        self.info = info
        self.counters = LiveCounters()
        self.known: set[str] = set()
        self._queued: set[str] = set()
        self._last_backfill: dict[str, float] = {}
        self._queue: asyncio.Queue[str] = asyncio.Queue()
        self._board_schedule = BoardSchedule(settings.leaderboard_long_refresh_seconds)
        self._mids_connection: psycopg.AsyncConnection | None = None
        self._unlisted: set[str] = set()

    async def run(self, stop: asyncio.Event) -> None:
        """Run discovery, backfill, marks and leaderboards until ``stop`` is set."""
        coins = self.settings.coins or tuple(await self._first_marks())
        tasks = [
            asyncio.create_task(self._discover(coins, stop)),
            asyncio.create_task(self._backfill_forever()),
            asyncio.create_task(self._marks_forever()),
        ]
        if (every := self.settings.leaderboard_refresh_seconds) is not None:
            tasks.append(asyncio.create_task(self._leaderboards_forever(every)))
        if (url := self.settings.venue_leaderboard_url) is not None:
            tasks.append(asyncio.create_task(self._venue_leaderboard_forever(url)))
        waiter = asyncio.create_task(stop.wait())
        try:
            done, _ = await asyncio.wait([waiter, *tasks], return_when=asyncio.FIRST_COMPLETED)
            for task in done:
                if task is not waiter:
                    task.result()  # a task ending on its own is a bug: raise it
        finally:
            for task in [waiter, *tasks]:
                task.cancel()
            for task in [waiter, *tasks]:
                with contextlib.suppress(asyncio.CancelledError):
                    await task
            await _close(self._mids_connection)
            self._mids_connection = None

    async def _first_marks(self) -> list[str]:
        """The markets at start-up, waiting (with backoff) for Postgres and the venue."""
        async for attempt in AsyncRetrying(
            retry=retry_if_exception_type((psycopg.OperationalError, httpx.TransportError)),
            wait=wait_exponential_jitter(multiplier=0.05, max=self.settings.max_backoff_seconds),
            before_sleep=self._starting_failed,
        ):
            with attempt:
                return await self._refresh_marks()
        raise AssertionError("unreachable")  # pragma: no cover

    def _starting_failed(self, state: RetryCallState) -> None:
        error = state.outcome.exception() if state.outcome is not None else None
        if isinstance(error, psycopg.OperationalError):
            self.counters.database_error("starting", error)
        else:
            log.warning("venue unreachable while starting, will retry: %s", error)

    # --- discovery --------------------------------------------------------------------------

    async def _discover(self, coins: tuple[str, ...], stop: asyncio.Event) -> None:
        """Keep a socket open. Failed attempts back off exponentially (with jitter); a
        connection that delivered messages before it dropped starts the backoff afresh."""
        connections = 0
        while not stop.is_set():
            async for attempt in AsyncRetrying(
                retry=retry_if_exception_type((OSError, WebSocketException, TimeoutError)),
                wait=wait_exponential_jitter(
                    multiplier=0.05, max=self.settings.max_backoff_seconds
                ),
            ):
                with attempt:
                    connections += 1
                    self.counters.reconnects = connections - 1
                    delivered = await self._listen(coins, stop)
                    if not delivered and not stop.is_set():
                        raise ConnectionResetError("the venue closed the WebSocket at once")

    async def _listen(self, coins: tuple[str, ...], stop: asyncio.Event) -> int:
        """Subscribe and handle messages until the socket closes or ``stop`` is set; returns
        how many messages came."""
        delivered = 0
        async with ws_connect(self.settings.ws_url, ping_interval=20) as socket:
            subscriptions: list[dict[str, Any]] = [{"type": "allMids"}]
            subscriptions += [{"type": "trades", "coin": coin} for coin in coins]
            for subscription in subscriptions:
                await socket.send(
                    orjson.dumps({"method": "subscribe", "subscription": subscription}).decode()
                )
            try:
                async for raw in socket:
                    delivered += 1
                    self.counters.messages += 1
                    await self._handle(raw)
                    if stop.is_set():
                        break
            except WebSocketException as error:
                if not delivered:
                    raise
                log.warning("WebSocket dropped after %d messages: %s", delivered, error)
        return delivered

    async def _handle(self, raw: str | bytes) -> None:
        try:
            message = parse_ws_message(raw)
        except HyperliquidFormatError as error:
            self.counters.malformed_message(str(error))
            return
        if isinstance(message, PublicTrades):
            for trade in message.trades:
                for user in trade.users:
                    self._saw(user)
        elif isinstance(message, AllMidsUpdate):
            await self._store_mids(message)

    async def _store_mids(self, message: AllMidsUpdate) -> None:
        """Store the mids over a connection kept for them; while Postgres is away the update is
        skipped (the next one carries every coin again)."""
        try:
            if self._mids_connection is None or self._mids_connection.closed:
                self._mids_connection = await connect(self.settings.database_url)
            async with self._mids_connection.transaction():
                await apply_mids(self._mids_connection, message.mids)
            self.counters.mids_updates += 1
        except psycopg.OperationalError as error:
            self.counters.database_error("storing mids", error)
            await _close(self._mids_connection)
            self._mids_connection = None

    def _saw(self, user: str) -> bool:
        """Queue ``user`` for a backfill if it is new, or known and not backfilled within
        ``refresh_seconds``; whether it was queued now."""
        if user in self._queued:
            return False
        if user not in self.known:
            self.known.add(user)
            self.counters.traders_discovered += 1
        else:
            last = self._last_backfill.get(user)
            if last is None or time.monotonic() - last < self.settings.refresh_seconds:
                return False
            self.counters.refreshes_queued += 1
        self._queued.add(user)
        self._queue.put_nowait(user)
        return True

    # --- backfill ---------------------------------------------------------------------------

    async def _backfill_forever(self) -> None:
        connection: psycopg.AsyncConnection | None = None
        try:
            while True:
                user = await self._queue.get()
                try:
                    if connection is None or connection.closed:
                        connection = await connect(self.settings.database_url)
                    await self.backfill(connection, user)
                    self._queued.discard(user)
                    self._last_backfill[user] = time.monotonic()
                except psycopg.OperationalError as error:
                    self.counters.database_error(f"backfilling {user}", error)
                    await _close(connection)
                    connection = None
                    self._queue.put_nowait(user)
                    await asyncio.sleep(1.0)
                except (httpx.HTTPError, HyperliquidFormatError, FillRejectedError) as error:
                    self._queued.discard(user)
                    self._last_backfill[user] = time.monotonic()
                    self.counters.malformed_message(f"backfill of {user}: {error}")
        finally:
            await _close(connection)

    async def backfill(self, connection: psycopg.AsyncConnection, user: str) -> None:
        """Write ``user``'s fills since its checkpoint, then reconcile its open positions."""
        source = f"hyperliquid:userFillsByTime:{user}"
        checkpoint = await read_checkpoint(connection, source)
        since = (
            datetime.fromtimestamp(int(checkpoint) / 1000, UTC)
            if checkpoint is not None
            else self.settings.backfill_since
        )
        pages = self.info.user_fills_pages(user, since)
        while True:
            try:
                page = await anext(pages)
            except StopAsyncIteration:
                break
            except HyperliquidFormatError as error:
                self.counters.pages_rejected += 1
                self.counters.malformed_message(f"userFillsByTime page of {user}: {error}")
                break
            await self._write_page(connection, source, page)
        state = await self.info.clearinghouse_state(user)
        await reconcile_account(connection, VENUE, state)
        await self._backfill_funding(connection, user)
        self.counters.traders_backfilled += 1

    async def _backfill_funding(self, connection: psycopg.AsyncConnection, user: str) -> None:
        """Store ``user``'s funding payments since the last one stored (net PnL includes them)."""
        cursor = await connection.execute(
            "SELECT max(f.time) FROM funding_payment AS f JOIN trader AS t ON t.id = f.trader_id "
            "WHERE t.venue = %s AND t.address = %s",
            (VENUE, user.lower()),
        )
        row = await cursor.fetchone()
        since = row[0] if row is not None and row[0] is not None else self.settings.backfill_since
        payments = await self.info.user_funding(user, since)
        self.counters.funding_written += await store_funding(
            connection, VENUE, user.lower(), payments
        )

    async def _write_page(
        self, connection: psycopg.AsyncConnection, source: str, page: list[HyperliquidFill]
    ) -> None:
        """Write a page's perpetual fills with its checkpoint (its newest fill's time). Spot
        trades, and fills in coins the venue's perpetual markets do not list even after a
        refresh, are counted and left out; the checkpoint still moves past them."""
        perps = perp_fills(page)
        self.counters.spot_fills_skipped += perps.spot_skipped
        self.counters.fees_in_other_tokens += perps.fees_in_other_tokens
        fills = [item.fill for item in perps.fills]
        decimals = await known_markets(connection)
        # A coin missing from the stored markets may be a new listing: the venue's markets are
        # read again, once per coin (one not listed then is remembered, not asked for per page).
        if {f.coin for f in fills} - decimals.keys() - self._unlisted:
            await self._refresh_marks(connection)
            decimals = await known_markets(connection)
        unknown = sorted({f.coin for f in fills} - decimals.keys())
        self._unlisted.update(unknown)
        if unknown:
            kept = [f for f in fills if f.coin in decimals]
            self.counters.fills_in_unknown_coins += len(fills) - len(kept)
            log.warning(
                "%d fills in coins no perpetual market lists skipped: %s",
                len(fills) - len(kept),
                ", ".join(unknown),
            )
            fills = kept
        last_ms = max(int(item.fill.timestamp.timestamp() * 1000) for item in page)
        report = await write_fills(
            connection,
            fills,
            source=source,
            checkpoint=str(last_ms),
            pnl_entry_decimals={
                coin: max(0, HYPERLIQUID_PRICE_DECIMALS - places)
                for coin, places in decimals.items()
            },
        )
        self.counters.fills_written += report.fills_written

    # --- marks ------------------------------------------------------------------------------

    async def _marks_forever(self) -> None:
        while True:
            await asyncio.sleep(self.settings.marks_interval)
            try:
                await self._refresh_marks()
            except psycopg.OperationalError as error:
                self.counters.database_error("refreshing marks", error)
            except (httpx.HTTPError, HyperliquidFormatError) as error:
                log.warning("mark refresh failed, will retry: %s", error)

    # --- venue leaderboard ------------------------------------------------------------------

    async def _venue_leaderboard_forever(self, url: str) -> None:
        while True:
            try:
                await self.seed_from_venue_leaderboard(url)
            except psycopg.OperationalError as error:
                self.counters.database_error("storing the venue's leaderboard", error)
            except (httpx.HTTPError, HyperliquidFormatError) as error:
                self.counters.malformed_message(f"venue leaderboard: {error}")
            await asyncio.sleep(self.settings.venue_leaderboard_seconds)

    async def seed_from_venue_leaderboard(self, url: str) -> None:
        """Store the venue's leaderboard (names, account values as of now) and queue its
        ``seed_top`` largest accounts for a backfill."""
        rows = await self.info.leaderboard(url)
        fetched_at = datetime.now(UTC)
        connection = await connect(self.settings.database_url)
        try:
            report = await store_leaderboard(connection, VENUE, rows, fetched_at)
        finally:
            await _close(connection)
        self.counters.venue_leaderboards += 1
        largest = sorted(rows, key=lambda row: (-row.account_value, row.address))
        seeded = sum(self._saw(row.address) for row in largest[: self.settings.seed_top])
        self.counters.traders_seeded += seeded
        log.info(
            "venue leaderboard: %d accounts, %d new traders, %d queued for a backfill",
            report.accounts,
            report.traders_created,
            seeded,
        )

    # --- leaderboards -----------------------------------------------------------------------

    async def _leaderboards_forever(self, interval: float) -> None:
        while True:
            await asyncio.sleep(interval)
            try:
                await self._recompute_leaderboards()
            except psycopg.OperationalError as error:
                self.counters.database_error("recomputing the leaderboards", error)

    async def _recompute_leaderboards(self) -> None:
        connection = await connect(self.settings.database_url)
        try:
            started = time.perf_counter()
            boards = await recompute_due(
                connection, self._board_schedule, partitions=self.settings.scoring_partitions
            )
        finally:
            await connection.close()
        self.counters.last_leaderboard_refresh_s = time.perf_counter() - started
        self.counters.leaderboard_refreshes += 1
        log.info(
            "leaderboards recomputed in %.1f s: %s",
            self.counters.last_leaderboard_refresh_s,
            describe_boards(boards),
        )

    async def _refresh_marks(self, connection: psycopg.AsyncConnection | None = None) -> list[str]:
        contexts = await self.info.meta_and_asset_ctxs()
        own = connection is None
        connection = connection or await connect(self.settings.database_url)
        try:
            started = time.perf_counter()
            async with connection.transaction():
                await apply_asset_contexts(connection, VENUE, contexts)
            self.counters.last_marks_refresh_s = time.perf_counter() - started
            self.counters.marks_refreshes += 1
            log.info(
                "marks of %d markets refreshed in %.3f s",
                len(contexts),
                self.counters.last_marks_refresh_s,
            )
        finally:
            if own:
                await connection.close()
        return [c.coin for c in contexts if not c.is_delisted]


async def _close(connection: psycopg.AsyncConnection | None) -> None:
    """Close ``connection`` if there is one; a connection Postgres already lost closes quietly."""
    if connection is not None:
        with contextlib.suppress(psycopg.Error):
            await connection.close()

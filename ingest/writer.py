"""Write folded fills to Postgres: one transaction per batch, checkpoint and NOTIFY included.

A batch is written exactly once (DESIGN.md decision 6): fills already stored (same venue fill id)
are dropped before folding, the rest are folded in time order against the open positions read
in the same transaction, and trades, positions, traders, the source's checkpoint and a
``pg_notify`` commit together. Listeners therefore only ever hear of committed rows.
"""

from __future__ import annotations

import functools
import json
import secrets
from collections.abc import Callable, Mapping, Sequence
from collections.abc import Set as AbstractSet
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from psycopg import AsyncConnection, AsyncCursor
from psycopg.pq import TransactionStatus

from db.planner import KEY_PROBES_ONLY, planner_settings
from ingest.batch import BatchFold, WriteReport
from ingest.engine import validate_fill
from ingest.fills import Fill
from ingest.histories import PairKey, PositionCache, StoredPair, load_pairs
from ingest.staging import (
    POSITION_COLUMNS,
    POSITION_TYPES,
    TRADE_COLUMNS,
    TRADE_TYPES,
    CopyData,
    StagedBatch,
    copy_into,
    stage_batch,
)

__all__ = [
    "TRADES_CHANNEL",
    "MarketSpec",
    "PositionCache",
    "WriteReport",
    "ensure_trader",
    "known_markets",
    "read_checkpoint",
    "revalue_open_positions",
    "update_marks",
    "upsert_markets",
    "write_fills",
]

TRADES_CHANNEL = "perpgraph_trades"
PUBLIC_ID_LOW = 10_000_000
PUBLIC_ID_SPAN = 90_000_000

#: A fill as the writer knows it: venue, trader id, venue fill id.
FillKey = tuple[str, int, str]


@dataclass(frozen=True, slots=True)
class MarketSpec:
    """What the writer needs to know of a coin before fills in it are accepted."""

    coin: str
    venue: str
    size_decimals: int
    max_leverage: int
    mark_price: Decimal | None = None


async def upsert_markets(connection: AsyncConnection, markets: Sequence[MarketSpec]) -> None:
    """Create or update markets; a mark price given here replaces the stored one."""
    if not markets:
        return
    now = datetime.now(UTC)
    async with connection.cursor() as cursor:
        await cursor.executemany(
            """
            INSERT INTO market (coin, venue, size_decimals, max_leverage, mark_price, updated_at)
            VALUES (%s, %s, %s, %s, %s, %s)
            ON CONFLICT (coin) DO UPDATE SET
                venue = excluded.venue,
                size_decimals = excluded.size_decimals,
                max_leverage = excluded.max_leverage,
                mark_price = coalesce(excluded.mark_price, market.mark_price),
                updated_at = excluded.updated_at
            """,
            [
                (m.coin, m.venue, m.size_decimals, m.max_leverage, m.mark_price, now)
                for m in markets
            ],
        )


async def update_marks(connection: AsyncConnection, marks: Mapping[str, Decimal]) -> None:
    """Store new mark prices and revalue every open position in those coins, set-wise."""
    if not marks:
        return
    coins = list(marks)
    await connection.execute(
        """
        UPDATE market SET mark_price = m.mark, updated_at = now()
        FROM unnest(%s::text[], %s::numeric[]) AS m(coin, mark)
        WHERE market.coin = m.coin
        """,
        (coins, [marks[c] for c in coins]),
    )
    await revalue_open_positions(connection, coins=coins)


async def revalue_open_positions(
    connection: AsyncConnection,
    *,
    coins: Sequence[str] | None = None,
    position_ids: Sequence[int] | None = None,
) -> None:
    """Recompute mark, notional, unrealized PnL and liquidation price of open positions.

    One statement, whatever the number of positions; rows whose four figures would stay the same
    are left alone (no new row version). The liquidation price is the isolated-margin
    estimate ``entry x (1 -/+ (1/leverage - maintenance))`` with a maintenance margin of half the
    initial margin at the market's maximum leverage (Hyperliquid's rule).
    """
    conditions = ["p.closed_at IS NULL", "p.coin = m.coin"]
    params: list[object] = []
    if coins is not None:
        conditions.append("p.coin = ANY(%s)")
        params.append(list(coins))
    if position_ids is not None:
        conditions.append("p.id = ANY(%s)")
        params.append(list(position_ids))
    valued = _valuation("p", "p.mark_price")
    # Rows whose valuation would not change are not rewritten: a refresh where most marks did
    # not move then costs a scan, not a new version of every open row in its 9 indexes.
    conditions.append(
        f"({', '.join(f'p.{c}' for c in valued)}) IS DISTINCT FROM ({', '.join(valued.values())})"
    )
    await connection.execute(
        f"""
        UPDATE position AS p SET {_assignments(valued)}
        FROM market AS m
        WHERE {" AND ".join(conditions)}
        """,
        params,
    )


def _valuation(row: str, closed_mark: str) -> dict[str, str]:
    """``mark_price, notional, unrealized_pnl, liquidation_price`` of the position ``row`` at
    its market ``m``'s mark, as SQL expressions by column; closed positions keep
    ``closed_mark`` and have no notional, unrealized PnL or liquidation price. The one formula
    for the writer and for mark refreshes (see :func:`revalue_open_positions`)."""
    closed = f"{row}.closed_at IS NOT NULL"
    margin = f"(1 / {row}.leverage::numeric - 1 / (2 * m.max_leverage)::numeric)"
    return {
        "mark_price": f"CASE WHEN {closed} THEN {closed_mark} ELSE m.mark_price END",
        "notional": f"CASE WHEN {closed} THEN 0 "
        f"ELSE {row}.size * coalesce(m.mark_price, {row}.entry_price) END",
        "unrealized_pnl": f"CASE WHEN {closed} OR m.mark_price IS NULL THEN NULL "
        f"WHEN {row}.side = 'LONG' THEN (m.mark_price - {row}.entry_price) * {row}.size "
        f"ELSE ({row}.entry_price - m.mark_price) * {row}.size END",
        "liquidation_price": f"CASE "
        f"WHEN {closed} OR {row}.leverage IS NULL OR {row}.leverage <= 0 THEN NULL "
        f"WHEN {row}.side = 'LONG' "
        f"THEN round(greatest(0, {row}.entry_price * (1 - {margin})), 8) "
        f"ELSE round({row}.entry_price * (1 + {margin}), 8) END",
    }


def _assignments(expressions: dict[str, str]) -> str:
    return ",\n".join(f"{column} = {expression}" for column, expression in expressions.items())


async def known_markets(connection: AsyncConnection) -> dict[str, int]:
    """Coins the writer accepts fills for, with their size decimals."""
    cursor = await connection.execute("SELECT coin, size_decimals FROM market")
    return dict(await cursor.fetchall())


async def write_fills(
    connection: AsyncConnection,
    fills: Sequence[Fill],
    *,
    source: str,
    checkpoint: str,
    pnl_entry_decimals: Mapping[str, int] | None = None,
    cache: PositionCache | None = None,
) -> WriteReport:
    """Fold and write one batch of fills, with ``checkpoint`` for ``source``, in one transaction.

    Raises :class:`~ingest.engine.FillRejectedError` before anything is written when a fill is
    invalid. ``pnl_entry_decimals`` per coin reproduces a venue's truncated entry in realized PnL.
    With a ``cache``, the open positions it holds are not read again (see
    :mod:`ingest.histories` for when that is safe); it is emptied if anything fails.
    """
    if cache is not None and connection.info.transaction_status != TransactionStatus.IDLE:
        # Batches sharing an outer transaction commit with it, later: nothing to remember yet.
        cache.clear()
        cache = None
    try:
        return await _write_batch(
            connection, fills, source, checkpoint, pnl_entry_decimals or {}, cache
        )
    except BaseException:
        if cache is not None:
            cache.clear()
        raise


async def _write_batch(
    connection: AsyncConnection,
    fills: Sequence[Fill],
    source: str,
    checkpoint: str,
    pnl_entry_decimals: Mapping[str, int],
    cache: PositionCache | None,
) -> WriteReport:
    report = WriteReport(fills_received=len(fills))
    committed: Callable[[], None] | None = None
    async with connection.transaction():
        coins = await begin_batch(connection)
        validate_fills(fills, coins)
        prepared = await prepare_batch(connection, fills, report, cache)
        if prepared.fresh:
            staged = await stage_batch(connection, fold_batch(prepared, pnl_entry_decimals))
            if cache is not None:
                committed = functools.partial(cache.remember, prepared.pairs, staged.fold)
            await write_staged(connection, staged)
        await finish_batch(connection, source, checkpoint, report)
    if committed is not None:
        committed()
    return report


async def begin_batch(connection: AsyncConnection) -> dict[str, int]:
    """The first statements of a batch's transaction; the coins fills are accepted for."""
    await without_jit(connection)
    return await known_markets(connection)


async def without_jit(connection: AsyncConnection) -> None:
    """No JIT compilation for the rest of the transaction."""
    # The batch's statements are index probes and row writes whose estimated costs still
    # cross the JIT thresholds at 100,000 rows: compiling them (up to 0.3 s a statement
    # with inlining) is never paid back.
    await connection.execute("SET LOCAL jit = off")


def validate_fills(fills: Sequence[Fill], coins: Mapping[str, int]) -> None:
    """Raise :class:`~ingest.engine.FillRejectedError` for the first invalid fill."""
    for fill in fills:
        validate_fill(fill, coins)


@dataclass(slots=True)
class PreparedBatch:
    """A batch read for its fold: trader ids, the fills not stored yet (in time order), and
    per trader and coin what is stored (or cached)."""

    report: WriteReport
    trader_ids: dict[tuple[str, str], int]
    fresh: list[Fill]
    pairs: dict[PairKey, StoredPair]

    def fill_keys(self) -> set[FillKey]:
        """The fresh fills' keys (see :func:`_drop_stored_fills`)."""
        return {(f.venue, self.trader_ids[(f.venue, f.address)], f.fill_id) for f in self.fresh}


async def prepare_batch(
    connection: AsyncConnection,
    fills: Sequence[Fill],
    report: WriteReport,
    cache: PositionCache | None,
    pending: AbstractSet[FillKey] = frozenset(),
) -> PreparedBatch:
    """Create the batch's new traders, drop the fills already stored or ``pending`` (being
    written, not committed yet), and read what the fold starts from."""
    trader_ids = await _ensure_traders(connection, fills, report) if fills else {}
    fresh = await _drop_stored_fills(connection, fills, trader_ids, pending)
    report.duplicates_skipped = len(fills) - len(fresh)
    keys = {(trader_ids[(f.venue, f.address)], f.coin) for f in fresh}
    pairs, missing = cache.known(keys) if cache is not None else ({}, keys)
    pairs.update(await load_pairs(connection, missing))
    return PreparedBatch(report, trader_ids, fresh, pairs)


def fold_batch(prepared: PreparedBatch, pnl_entry_decimals: Mapping[str, int]) -> BatchFold:
    """Fold a prepared batch's fresh fills: no I/O (a thread may run it)."""
    histories = {
        key: h for key, pair in prepared.pairs.items() if (h := pair.history()) is not None
    }
    fold = BatchFold(histories, prepared.report, pnl_entry_decimals)
    trader_ids = prepared.trader_ids
    fold.apply_all(
        prepared.fresh, [trader_ids[(fill.venue, fill.address)] for fill in prepared.fresh]
    )
    return fold


async def write_staged(connection: AsyncConnection, staged: StagedBatch) -> None:
    """Write a staged batch's positions and trades."""
    async with connection.cursor() as cursor:
        await _write_positions(cursor, staged.position_updates, staged.position_inserts)
        await copy_into(cursor, "trade", TRADE_COLUMNS, TRADE_TYPES, staged.trades)
    report = staged.fold.report
    report.fills_written = len(staged.trade_ids)
    report.first_trade_id = staged.trade_ids[0]
    report.last_trade_id = staged.trade_ids[-1]


async def finish_batch(
    connection: AsyncConnection, source: str, checkpoint: str, report: WriteReport
) -> None:
    """The last statements of a batch's transaction: its checkpoint, and the NOTIFY of its
    trades (delivered when it commits)."""
    await _save_checkpoint(connection, source, checkpoint, report.fills_written)
    if report.first_trade_id is not None:
        payload = json.dumps({"first": report.first_trade_id, "last": report.last_trade_id})
        await connection.execute("SELECT pg_notify(%s, %s)", (TRADES_CHANNEL, payload))


async def read_checkpoint(connection: AsyncConnection, source: str) -> str | None:
    """Where ``source`` got to, or None if it never wrote."""
    cursor = await connection.execute(
        "SELECT position FROM ingest_checkpoint WHERE source = %s", (source,)
    )
    row = await cursor.fetchone()
    return None if row is None else str(row[0])


async def _save_checkpoint(
    connection: AsyncConnection, source: str, checkpoint: str, fills_written: int
) -> None:
    await connection.execute(
        """
        INSERT INTO ingest_checkpoint (source, position, fills_written, updated_at)
        VALUES (%s, %s, %s, now())
        ON CONFLICT (source) DO UPDATE SET
            position = excluded.position,
            fills_written = ingest_checkpoint.fills_written + excluded.fills_written,
            updated_at = excluded.updated_at
        """,
        (source, checkpoint, fills_written),
    )


async def _drop_stored_fills(
    connection: AsyncConnection,
    fills: Sequence[Fill],
    trader_ids: Mapping[tuple[str, str], int],
    pending: AbstractSet[FillKey],
) -> list[Fill]:
    """The fills neither stored nor ``pending``, each once, in time order (ties keep the order
    given).

    A fill is known by venue, trader and venue fill id: both counterparties of one Hyperliquid
    trade carry the same ``tid``, and each is a fill of its own.
    """
    unique: dict[FillKey, Fill] = {}
    for fill in fills:
        key = (fill.venue, trader_ids[(fill.venue, fill.address)], fill.fill_id)
        if key not in pending:
            unique.setdefault(key, fill)
    keys = sorted(unique)
    # One probe of the unique index per fill, in key order (LATERAL ... LIMIT 1 keeps the plan
    # a nested loop): a join let the planner hash the whole trade table, once per batch. The
    # arrays go in binary (%b): a third to a quarter of the cost of formatting them as text.
    cursor = await connection.execute(
        """
        SELECT k.venue, k.trader_id, k.fill_id
        FROM unnest(%b::text[], %b::bigint[], %b::text[]) AS k(venue, trader_id, fill_id),
        LATERAL (
            SELECT 1 FROM trade AS t
            WHERE t.venue = k.venue AND t.trader_id = k.trader_id AND t.venue_fill_id = k.fill_id
            LIMIT 1
        ) AS stored
        """,
        ([k[0] for k in keys], [k[1] for k in keys], [k[2] for k in keys]),
    )
    stored = set(await cursor.fetchall())
    fresh = [fill for key, fill in unique.items() if key not in stored]
    fresh.sort(key=lambda fill: fill.timestamp)
    return fresh


async def _ensure_traders(
    connection: AsyncConnection, fills: Sequence[Fill], report: WriteReport
) -> dict[tuple[str, str], int]:
    first_fill: dict[tuple[str, str], datetime] = {}
    last_fill: dict[tuple[str, str], datetime] = {}
    for fill in fills:
        key = (fill.venue, fill.address)
        first_fill.setdefault(key, fill.timestamp)
        last_fill[key] = fill.timestamp
    keys = list(first_fill)
    # Key probes only: with no statistics for a batch's rows (arrays here, a temporary table
    # for positions), the planner hashed the whole table, every batch, so a batch's cost grew
    # with everything ever stored (tests/ingest/test_writer_scaling.py).
    async with planner_settings(connection, KEY_PROBES_ONLY):
        cursor = await connection.execute(
            """
            UPDATE trader SET last_trade_at = greatest(trader.last_trade_at, k.last_trade)
            FROM unnest(%b::text[], %b::text[], %b::timestamptz[]) AS k(venue, address, last_trade)
            WHERE trader.venue = k.venue AND trader.address = k.address
            RETURNING trader.venue, trader.address, trader.id
            """,
            ([k[0] for k in keys], [k[1] for k in keys], [last_fill[k] for k in keys]),
        )
    ids = {(venue, address): trader_id for venue, address, trader_id in await cursor.fetchall()}
    missing = [k for k in keys if k not in ids]
    if missing:
        public_ids = await _fresh_public_ids(connection, len(missing))
        cursor = await connection.execute(
            """
            INSERT INTO trader (venue, address, public_id, first_seen_at, last_trade_at)
            SELECT * FROM unnest(%s::text[], %s::text[], %s::text[],
                                 %s::timestamptz[], %s::timestamptz[])
            RETURNING venue, address, id
            """,
            (
                [k[0] for k in missing],
                [k[1] for k in missing],
                public_ids,
                [first_fill[k] for k in missing],
                [last_fill[k] for k in missing],
            ),
        )
        for venue, address, trader_id in await cursor.fetchall():
            ids[(venue, address)] = trader_id
        report.traders_created += len(missing)
    return ids


async def ensure_trader(
    connection: AsyncConnection, venue: str, address: str, seen_at: datetime
) -> int:
    """The id of a trader, created (first seen at ``seen_at``) if it is new."""
    cursor = await connection.execute(
        "SELECT id FROM trader WHERE venue = %s AND address = %s", (venue, address)
    )
    row = await cursor.fetchone()
    if row is not None:
        return int(row[0])
    (public_id,) = await _fresh_public_ids(connection, 1)
    cursor = await connection.execute(
        "INSERT INTO trader (venue, address, public_id, first_seen_at) VALUES (%s, %s, %s, %s) "
        "RETURNING id",
        (venue, address, public_id, seen_at),
    )
    created = await cursor.fetchone()
    assert created is not None
    return int(created[0])


async def ensure_traders(
    connection: AsyncConnection, venue: str, addresses: Sequence[str], seen_at: datetime
) -> tuple[dict[str, int], int]:
    """The ids of ``addresses`` on ``venue``, and how many of them were created now (first
    seen at ``seen_at``). A trader another writer creates meanwhile is found, not duplicated."""
    wanted = list(dict.fromkeys(addresses))
    cursor = await connection.execute(
        "SELECT address, id FROM trader WHERE venue = %s AND address = ANY(%s)", (venue, wanted)
    )
    ids = _ids_by_address(await cursor.fetchall())
    missing = [address for address in wanted if address not in ids]
    if not missing:
        return ids, 0
    public_ids = await _fresh_public_ids(connection, len(missing))
    cursor = await connection.execute(
        "INSERT INTO trader (venue, address, public_id, first_seen_at) "
        "SELECT %s, * FROM unnest(%s::text[], %s::text[], %s::timestamptz[]) "
        "ON CONFLICT (venue, address) DO NOTHING RETURNING address, id",
        (venue, missing, public_ids, [seen_at] * len(missing)),
    )
    created = _ids_by_address(await cursor.fetchall())
    ids.update(created)
    if len(created) < len(missing):
        cursor = await connection.execute(
            "SELECT address, id FROM trader WHERE venue = %s AND address = ANY(%s)",
            (venue, [address for address in missing if address not in created]),
        )
        ids.update(_ids_by_address(await cursor.fetchall()))
    return ids, len(created)


def _ids_by_address(rows: Sequence[tuple[Any, ...]]) -> dict[str, int]:
    return {str(row[0]): int(row[1]) for row in rows}


async def _fresh_public_ids(connection: AsyncConnection, count: int) -> list[str]:
    """Random, unused ``#NNNNNNNN`` ids: random so they reveal nothing of first-seen order."""
    chosen: set[str] = set()
    while len(chosen) < count:
        candidates = {
            f"#{PUBLIC_ID_LOW + secrets.randbelow(PUBLIC_ID_SPAN)}"
            for _ in range(count - len(chosen))
        } - chosen
        cursor = await connection.execute(
            "SELECT public_id FROM trader WHERE public_id = ANY(%s)", (list(candidates),)
        )
        taken = {row[0] for row in await cursor.fetchall()}
        chosen |= candidates - taken
    return list(chosen)


#: The positions of a batch that were stored before it, updated from ``position_update``.
_UPDATE_POSITIONS = f"""
UPDATE position AS p SET
    side = u.side, size = u.size, max_size = u.max_size,
    entry_price = u.entry_price, closed_size = u.closed_size,
    exit_notional = u.exit_notional, realized_pnl = u.realized_pnl,
    fees = u.fees, leverage = u.leverage, trade_count = u.trade_count,
    last_fill_at = u.last_fill_at, closed_at = u.closed_at,
    {_assignments(_valuation("u", "p.mark_price"))}
FROM position_update AS u JOIN market AS m ON m.coin = u.coin
WHERE p.id = u.id
"""


async def _write_positions(cursor: AsyncCursor[Any], updates: CopyData, inserts: CopyData) -> None:
    """Rows of existing positions are updated first (closing frees the one-open-per-coin slot),
    then the new ones inserted.

    Both go through a temporary table filled by COPY, and are valued at the market's mark in
    the same statement that writes them (no second pass over the rows).
    """
    if not updates and not inserts:
        return
    await cursor.execute(
        "CREATE TEMP TABLE IF NOT EXISTS position_update "
        "(LIKE position INCLUDING DEFAULTS) ON COMMIT DELETE ROWS"
    )
    if updates:
        await copy_into(cursor, "position_update", POSITION_COLUMNS, POSITION_TYPES, updates)
        # Key probes only, as for traders (_ensure_traders).
        async with planner_settings(cursor, KEY_PROBES_ONLY):
            await cursor.execute(_UPDATE_POSITIONS)
        await cursor.execute("TRUNCATE position_update")
    if inserts:
        await copy_into(cursor, "position_update", POSITION_COLUMNS, POSITION_TYPES, inserts)
        valued = _valuation("u", "NULL")
        await cursor.execute(
            f"""
            INSERT INTO position ({POSITION_COLUMNS}, {", ".join(valued)})
            SELECT {", ".join(f"u.{c.strip()}" for c in POSITION_COLUMNS.split(","))},
                   {", ".join(valued.values())}
            FROM position_update AS u JOIN market AS m ON m.coin = u.coin
            """
        )
        # Emptied here too, not only at commit: several batches may share a transaction.
        await cursor.execute("TRUNCATE position_update")

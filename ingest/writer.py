"""Write folded fills to Postgres: one transaction per batch, checkpoint and NOTIFY included.

A batch is written exactly once (DESIGN.md decision 6): fills already stored (same venue fill id)
are dropped before folding, the rest are folded in time order against the open positions read
in the same transaction, and trades, positions, traders, the source's checkpoint and a
``pg_notify`` commit together. Listeners therefore only ever hear of committed rows.
"""

from __future__ import annotations

import itertools
import json
import secrets
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal

from psycopg import AsyncConnection

from ingest.engine import apply_fill, validate_fill
from ingest.fills import ZERO, Action, Fill, FillOutcome, PositionState, Side

TRADES_CHANNEL = "perpgraph_trades"
PUBLIC_ID_LOW = 10_000_000
PUBLIC_ID_SPAN = 90_000_000


@dataclass(frozen=True, slots=True)
class MarketSpec:
    """What the writer needs to know of a coin before fills in it are accepted."""

    coin: str
    venue: str
    size_decimals: int
    max_leverage: int
    mark_price: Decimal | None = None


@dataclass(slots=True)
class WriteReport:
    """What one batch wrote."""

    fills_received: int = 0
    fills_written: int = 0
    duplicates_skipped: int = 0
    traders_created: int = 0
    positions_opened: int = 0
    positions_closed: int = 0
    first_trade_id: int | None = None
    last_trade_id: int | None = None
    actions: dict[str, int] = field(default_factory=dict)

    def add(self, other: WriteReport) -> None:
        """Accumulate another batch's report into this one."""
        self.fills_received += other.fills_received
        self.fills_written += other.fills_written
        self.duplicates_skipped += other.duplicates_skipped
        self.traders_created += other.traders_created
        self.positions_opened += other.positions_opened
        self.positions_closed += other.positions_closed
        if other.first_trade_id is not None and self.first_trade_id is None:
            self.first_trade_id = other.first_trade_id
        if other.last_trade_id is not None:
            self.last_trade_id = other.last_trade_id
        for action, count in other.actions.items():
            self.actions[action] = self.actions.get(action, 0) + count


@dataclass(slots=True)
class _OpenPosition:
    """A position row as the fold sees it: its id, whether it exists yet, and its state."""

    id: int
    trader_id: int
    coin: str
    state: PositionState
    is_new: bool
    closed_at: datetime | None = None
    trade_count: int = 0


@dataclass(frozen=True, slots=True)
class _FoldedFill:
    """One fill after the fold: the positions it left open and closed, and what it did."""

    fill: Fill
    trader_id: int
    current: _OpenPosition | None
    closed: _OpenPosition | None
    outcome: FillOutcome
    start_position: Decimal


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

    One statement, whatever the number of positions. The liquidation price is the isolated-margin
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
    await connection.execute(
        f"""
        UPDATE position AS p SET
            mark_price = m.mark_price,
            notional = p.size * coalesce(m.mark_price, p.entry_price),
            unrealized_pnl = CASE WHEN m.mark_price IS NULL THEN NULL
                WHEN p.side = 'LONG' THEN (m.mark_price - p.entry_price) * p.size
                ELSE (p.entry_price - m.mark_price) * p.size END,
            liquidation_price = CASE WHEN p.leverage IS NULL OR p.leverage <= 0 THEN NULL
                WHEN p.side = 'LONG' THEN round(greatest(0, p.entry_price * (1 - (
                    1 / p.leverage::numeric - 1 / (2 * m.max_leverage)::numeric))), 8)
                ELSE round(p.entry_price * (1 + (
                    1 / p.leverage::numeric - 1 / (2 * m.max_leverage)::numeric)), 8) END
        FROM market AS m
        WHERE {" AND ".join(conditions)}
        """,
        params,
    )


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
) -> WriteReport:
    """Fold and write one batch of fills, with ``checkpoint`` for ``source``, in one transaction.

    Raises :class:`~ingest.engine.FillRejectedError` before anything is written when a fill is
    invalid. ``pnl_entry_decimals`` per coin reproduces a venue's truncated entry in realized PnL.
    """
    report = WriteReport(fills_received=len(fills))
    async with connection.transaction():
        coins = await known_markets(connection)
        for fill in fills:
            validate_fill(fill, coins)
        fresh = await _drop_stored_fills(connection, fills)
        report.duplicates_skipped = len(fills) - len(fresh)
        if fresh:
            await _write_fresh_fills(connection, fresh, report, pnl_entry_decimals or {})
        await _save_checkpoint(connection, source, checkpoint, report.fills_written)
        if report.first_trade_id is not None:
            payload = json.dumps({"first": report.first_trade_id, "last": report.last_trade_id})
            await connection.execute("SELECT pg_notify(%s, %s)", (TRADES_CHANNEL, payload))
    return report


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


async def _drop_stored_fills(connection: AsyncConnection, fills: Sequence[Fill]) -> list[Fill]:
    unique: dict[tuple[str, str], Fill] = {}
    for fill in fills:
        unique.setdefault((fill.venue, fill.fill_id), fill)
    venues = [venue for venue, _ in unique]
    ids = [fill_id for _, fill_id in unique]
    cursor = await connection.execute(
        """
        SELECT t.venue, t.venue_fill_id FROM trade AS t
        JOIN unnest(%s::text[], %s::text[]) AS k(venue, fill_id)
          ON t.venue = k.venue AND t.venue_fill_id = k.fill_id
        """,
        (venues, ids),
    )
    stored = {(venue, fill_id) for venue, fill_id in await cursor.fetchall()}
    fresh = [fill for key, fill in unique.items() if key not in stored]
    fresh.sort(key=lambda fill: fill.timestamp)
    return fresh


async def _write_fresh_fills(
    connection: AsyncConnection,
    fills: list[Fill],
    report: WriteReport,
    pnl_entry_decimals: Mapping[str, int],
) -> None:
    trader_ids = await _ensure_traders(connection, fills, report)
    open_positions = await _load_open_positions(
        connection, {(trader_ids[(f.venue, f.address)], f.coin) for f in fills}
    )
    finished: list[_OpenPosition] = []
    # New positions get provisional negative ids during the fold; real ids are drawn from the
    # sequence afterwards in one round trip, exactly as many as were opened.
    provisional_ids = itertools.count(-1, -1)
    folded: list[_FoldedFill] = []
    for fill in fills:
        trader_id = trader_ids[(fill.venue, fill.address)]
        key = (trader_id, fill.coin)
        current = open_positions.get(key)
        before = current.state if current is not None else None
        start_position = before.signed_size if before is not None else ZERO
        outcome = apply_fill(before, fill, pnl_entry_decimals=pnl_entry_decimals.get(fill.coin))
        report.actions[outcome.action] = report.actions.get(outcome.action, 0) + 1
        closed: _OpenPosition | None = None
        if outcome.closed is not None and current is not None:
            current.state = outcome.closed
            current.closed_at = fill.timestamp
            current.trade_count += 1
            closed = current
            finished.append(current)
            report.positions_closed += 1
            del open_positions[key]
            current = None
        if outcome.state is not None:
            if current is None:
                current = _OpenPosition(
                    id=next(provisional_ids),
                    trader_id=trader_id,
                    coin=fill.coin,
                    state=outcome.state,
                    is_new=True,
                )
                open_positions[key] = current
                report.positions_opened += 1
            else:
                current.state = outcome.state
            current.trade_count += 1
        folded.append(_FoldedFill(fill, trader_id, current, closed, outcome, start_position))

    touched = finished + list(open_positions.values())
    new_positions = [p for p in touched if p.is_new]
    for position, real_id in zip(
        new_positions, await _allocate_ids(connection, "position", len(new_positions)), strict=True
    ):
        position.id = real_id
    trade_ids = await _allocate_ids(connection, "trade", len(folded))
    trade_rows = [
        _trade_row(trade_id, item) for trade_id, item in zip(trade_ids, folded, strict=True)
    ]
    await _write_positions(connection, touched)
    await _copy_trades(connection, trade_rows)
    await revalue_open_positions(
        connection, position_ids=[p.id for p in touched if p.closed_at is None]
    )
    report.fills_written = len(trade_rows)
    report.first_trade_id = trade_ids[0]
    report.last_trade_id = trade_ids[-1]


def _trade_row(trade_id: int, item: _FoldedFill) -> tuple[object, ...]:
    """A trade belongs to the position it leaves open; a CLOSE to the one it closed.

    A FLIP belongs to the new position and names the one it closed in ``closed_position_id``.
    """
    fill, outcome, closed = item.fill, item.outcome, item.closed
    position = item.current if item.current is not None else closed
    closes = outcome.action in (Action.REDUCE, Action.CLOSE, Action.FLIP)
    return (
        trade_id,
        fill.venue,
        fill.fill_id,
        item.trader_id,
        position.id if position is not None else None,
        closed.id if closed is not None and outcome.action is Action.FLIP else None,
        fill.coin,
        fill.timestamp,
        outcome.side.value,
        fill.direction.value,
        outcome.action.value,
        fill.size,
        fill.price,
        fill.size * fill.price,
        item.start_position,
        outcome.realized_pnl if closes else None,
        fill.fee,
        fill.is_liquidation,
        fill.tx_hash,
    )


_TRADE_COLUMNS = (
    "id, venue, venue_fill_id, trader_id, position_id, closed_position_id, coin, timestamp, "
    "side, direction, action, size, price, notional, start_position, realized_pnl, fee, "
    "is_liquidation, tx_hash"
)


async def _copy_trades(connection: AsyncConnection, rows: list[tuple[object, ...]]) -> None:
    async with (
        connection.cursor() as cursor,
        cursor.copy(f"COPY trade ({_TRADE_COLUMNS}) FROM STDIN") as copy,
    ):
        for row in rows:
            await copy.write_row(row)


async def _allocate_ids(connection: AsyncConnection, table: str, count: int) -> list[int]:
    if count == 0:
        return []
    cursor = await connection.execute(
        "SELECT nextval(pg_get_serial_sequence(%s, 'id')) FROM generate_series(1, %s)",
        (table, count),
    )
    return [row[0] for row in await cursor.fetchall()]


async def _ensure_traders(
    connection: AsyncConnection, fills: list[Fill], report: WriteReport
) -> dict[tuple[str, str], int]:
    first_fill: dict[tuple[str, str], datetime] = {}
    last_fill: dict[tuple[str, str], datetime] = {}
    for fill in fills:
        key = (fill.venue, fill.address)
        first_fill.setdefault(key, fill.timestamp)
        last_fill[key] = fill.timestamp
    keys = list(first_fill)
    cursor = await connection.execute(
        """
        UPDATE trader SET last_trade_at = greatest(trader.last_trade_at, k.last_trade)
        FROM unnest(%s::text[], %s::text[], %s::timestamptz[]) AS k(venue, address, last_trade)
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


async def _load_open_positions(
    connection: AsyncConnection, keys: set[tuple[int, str]]
) -> dict[tuple[int, str], _OpenPosition]:
    ordered = list(keys)
    cursor = await connection.execute(
        """
        SELECT p.id, p.trader_id, p.coin, p.side, p.size, p.entry_price, p.opened_at,
               p.realized_pnl, p.fees, p.max_size, p.closed_size, p.exit_notional, p.leverage,
               p.last_fill_at, p.trade_count
        FROM position AS p
        JOIN unnest(%s::bigint[], %s::text[]) AS k(trader_id, coin)
          ON p.trader_id = k.trader_id AND p.coin = k.coin
        WHERE p.closed_at IS NULL
        FOR UPDATE OF p
        """,
        ([k[0] for k in ordered], [k[1] for k in ordered]),
    )
    positions: dict[tuple[int, str], _OpenPosition] = {}
    for row in await cursor.fetchall():
        (
            position_id,
            trader_id,
            coin,
            side,
            size,
            entry,
            opened_at,
            realized,
            fees,
            max_size,
            closed_size,
            exit_notional,
            leverage,
            last_fill_at,
            trade_count,
        ) = row
        state = PositionState(
            side=Side(side),
            size=size,
            entry_price=entry,
            opened_at=opened_at,
            realized_pnl=realized,
            fees=fees,
            max_size=max_size,
            closed_size=closed_size,
            exit_notional=exit_notional,
            leverage=leverage,
            last_fill_at=last_fill_at,
        )
        positions[(trader_id, coin)] = _OpenPosition(
            id=position_id,
            trader_id=trader_id,
            coin=coin,
            state=state,
            is_new=False,
            trade_count=trade_count,
        )
    return positions


_POSITION_COLUMNS = (
    "id, trader_id, coin, side, size, max_size, entry_price, closed_size, exit_notional, "
    "realized_pnl, fees, leverage, trade_count, opened_at, last_fill_at, closed_at"
)


async def _write_positions(connection: AsyncConnection, positions: list[_OpenPosition]) -> None:
    """Existing rows are updated first (closing frees the one-open-per-coin slot), then inserts."""
    if not positions:
        return
    rows = [_position_row(p) for p in positions]
    updates = [row for row, p in zip(rows, positions, strict=True) if not p.is_new]
    inserts = [row for row, p in zip(rows, positions, strict=True) if p.is_new]
    async with connection.cursor() as cursor:
        if updates:
            await cursor.execute(
                "CREATE TEMP TABLE IF NOT EXISTS position_update "
                "(LIKE position INCLUDING DEFAULTS) ON COMMIT DELETE ROWS"
            )
            async with cursor.copy(
                f"COPY position_update ({_POSITION_COLUMNS}) FROM STDIN"
            ) as copy:
                for row in updates:
                    await copy.write_row(row)
            await cursor.execute(
                """
                UPDATE position AS p SET
                    side = u.side, size = u.size, max_size = u.max_size,
                    entry_price = u.entry_price, closed_size = u.closed_size,
                    exit_notional = u.exit_notional, realized_pnl = u.realized_pnl,
                    fees = u.fees, leverage = u.leverage, trade_count = u.trade_count,
                    last_fill_at = u.last_fill_at, closed_at = u.closed_at,
                    notional = CASE WHEN u.closed_at IS NULL THEN p.notional ELSE 0 END,
                    unrealized_pnl = CASE WHEN u.closed_at IS NULL THEN p.unrealized_pnl END,
                    liquidation_price = CASE WHEN u.closed_at IS NULL
                        THEN p.liquidation_price END
                FROM position_update AS u WHERE p.id = u.id
                """
            )
        if inserts:
            async with cursor.copy(f"COPY position ({_POSITION_COLUMNS}) FROM STDIN") as copy:
                for row in inserts:
                    await copy.write_row(row)


def _position_row(position: _OpenPosition) -> tuple[object, ...]:
    state = position.state
    return (
        position.id,
        position.trader_id,
        position.coin,
        state.side.value,
        state.size,
        state.max_size,
        state.entry_price,
        state.closed_size,
        state.exit_notional,
        state.realized_pnl,
        state.fees,
        state.leverage,
        position.trade_count,
        state.opened_at,
        state.last_fill_at or state.opened_at,
        position.closed_at,
    )

"""What a venue says besides fills: market contexts, mids, account snapshots, funding.

* :func:`apply_asset_contexts` stores marks, oracle and mid prices, funding rates, open interest
  and day volume of many markets in one statement, then revalues their open positions set-wise.
* :func:`apply_mids` stores mid prices; a market with no mark yet takes its mid as the mark.
* :func:`reconcile_account` makes the stored open positions of one trader equal a venue
  snapshot (Hyperliquid's ``clearinghouseState``). The snapshot is the venue's truth at its
  time: a position the engine does not hold is bootstrapped (no trade; opened at the snapshot's
  time); one the engine holds with the same side and size takes the venue's exact entry; one
  that differs is ended (written off without a trade) and the venue's is opened; one the venue
  does not show is ended. A stored position whose last fill is newer than the snapshot is left
  alone: the snapshot is older than what we know.
* :func:`store_funding` stores funding payments once each and adds them to the position that
  was open when each was paid, so net PnL = realized - fees + funding.
* :func:`store_leaderboard` registers the accounts of the venue's leaderboard with their
  display names and account values. An account value is kept with the time it was taken; a
  newer one replaces it, an undated one (a recorded leaderboard says no time) only fills a gap.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal

from psycopg import AsyncConnection

from ingest.hyperliquid.funding import FundingPayment
from ingest.hyperliquid.leaderboard import LeaderboardRow
from ingest.hyperliquid.meta import AssetContext
from ingest.hyperliquid.state import AccountPosition, AccountState
from ingest.writer import (
    MarketSpec,
    ensure_trader,
    ensure_traders,
    known_markets,
    revalue_open_positions,
    upsert_markets,
)

#: Replaces a stored account value when the new one is at least as recent; an undated new one
#: (``%(at)s`` null) only replaces an undated one.
_ACCOUNT_VALUES = """
UPDATE trader SET account_value = v.value, account_value_at = %(at)s
FROM unnest(%(ids)s::bigint[], %(values)s::numeric[]) AS v(id, value)
WHERE trader.id = v.id
  AND (trader.account_value_at IS NULL OR trader.account_value_at <= %(at)s)
"""


@dataclass(slots=True)
class ReconcileReport:
    """What one account snapshot changed."""

    bootstrapped: int = 0
    entries_corrected: int = 0
    replaced: int = 0
    ended: int = 0
    unchanged: int = 0
    older_than_stored: int = 0


async def apply_asset_contexts(
    connection: AsyncConnection, venue: str, contexts: Sequence[AssetContext]
) -> None:
    """Create or update every market of ``contexts``, then revalue their open positions."""
    if not contexts:
        return
    columns = list(
        zip(
            *[
                (
                    c.coin,
                    c.sz_decimals,
                    c.max_leverage,
                    c.mark_price,
                    c.oracle_price,
                    c.mid_price,
                    c.previous_day_price,
                    c.funding_rate,
                    c.open_interest,
                    c.day_notional_volume,
                )
                for c in contexts
            ],
            strict=True,
        )
    )
    await connection.execute(
        """
        INSERT INTO market (coin, venue, size_decimals, max_leverage, mark_price, oracle_price,
                            mid_price, previous_day_price, funding_rate, open_interest,
                            day_volume, updated_at)
        SELECT c.coin, %s, c.sz, c.lev, c.mark, c.oracle, c.mid, c.prev, c.funding, c.oi,
               c.vol, now()
        FROM unnest(%s::text[], %s::int[], %s::int[], %s::numeric[], %s::numeric[],
                    %s::numeric[], %s::numeric[], %s::float8[], %s::numeric[], %s::numeric[])
             AS c(coin, sz, lev, mark, oracle, mid, prev, funding, oi, vol)
        ON CONFLICT (coin) DO UPDATE SET
            size_decimals = excluded.size_decimals, max_leverage = excluded.max_leverage,
            mark_price = excluded.mark_price, oracle_price = excluded.oracle_price,
            mid_price = excluded.mid_price, previous_day_price = excluded.previous_day_price,
            funding_rate = excluded.funding_rate, open_interest = excluded.open_interest,
            day_volume = excluded.day_volume, updated_at = excluded.updated_at
        """,
        (venue, *[list(column) for column in columns]),
    )
    await revalue_open_positions(connection, coins=[c.coin for c in contexts])


async def apply_mids(connection: AsyncConnection, mids: dict[str, Decimal]) -> int:
    """Store mids of known markets; returns how many markets were updated."""
    if not mids:
        return 0
    coins = list(mids)
    cursor = await connection.execute(
        """
        UPDATE market SET mid_price = m.mid, mark_price = coalesce(market.mark_price, m.mid),
                          updated_at = now()
        FROM unnest(%s::text[], %s::numeric[]) AS m(coin, mid)
        WHERE market.coin = m.coin
        RETURNING market.coin
        """,
        (coins, [mids[c] for c in coins]),
    )
    updated = [row[0] for row in await cursor.fetchall()]
    await revalue_open_positions(connection, coins=updated)
    return len(updated)


async def reconcile_account(
    connection: AsyncConnection, venue: str, state: AccountState
) -> ReconcileReport:
    """Make ``state.user``'s stored open positions equal the venue's snapshot (rules above)."""
    report = ReconcileReport()
    at = state.time or datetime.now(UTC)
    async with connection.transaction():
        await _ensure_markets(connection, venue, state.positions)
        trader_id = await ensure_trader(connection, venue, state.user, at)
        await connection.execute(
            _ACCOUNT_VALUES, {"at": state.time, "ids": [trader_id], "values": [state.account_value]}
        )
        cursor = await connection.execute(
            "SELECT id, coin, side, size, entry_price, last_fill_at FROM position "
            "WHERE trader_id = %s AND closed_at IS NULL FOR UPDATE",
            (trader_id,),
        )
        stored = {row[1]: row for row in await cursor.fetchall()}
        venue_positions = {p.coin: p for p in state.positions}
        for coin in sorted(stored.keys() | venue_positions.keys()):
            row = stored.get(coin)
            wanted = venue_positions.get(coin)
            if row is not None and row[5] > at:
                report.older_than_stored += 1
                continue
            if (
                row is not None
                and wanted is not None
                and (row[2], row[3])
                == (
                    wanted.side.value,
                    wanted.size,
                )
            ):
                if row[4] == wanted.exact_entry_price:
                    report.unchanged += 1
                else:
                    await connection.execute(
                        "UPDATE position SET entry_price = %s WHERE id = %s",
                        (wanted.exact_entry_price, row[0]),
                    )
                    report.entries_corrected += 1
                continue
            if row is not None:
                await connection.execute(
                    "UPDATE position SET closed_at = %s, notional = 0, unrealized_pnl = NULL, "
                    "liquidation_price = NULL WHERE id = %s",
                    (at, row[0]),
                )
            if wanted is None:
                report.ended += 1
                continue
            await _open_from_snapshot(connection, trader_id, wanted, at)
            if row is None:
                report.bootstrapped += 1
            else:
                report.replaced += 1
        await revalue_open_positions(connection, coins=sorted(venue_positions))
    return report


async def _ensure_markets(
    connection: AsyncConnection, venue: str, positions: Sequence[AccountPosition]
) -> None:
    known = await known_markets(connection)
    await upsert_markets(
        connection,
        [
            MarketSpec(
                p.coin,
                venue,
                max(0, -int(p.szi.normalize().as_tuple().exponent)),
                p.max_leverage or 1,
            )
            for p in positions
            if p.coin not in known
        ],
    )


async def _open_from_snapshot(
    connection: AsyncConnection, trader_id: int, position: AccountPosition, at: datetime
) -> None:
    # cumFunding counts funding paid; stored funding counts funding received.
    funding = -(position.cum_funding_since_open or Decimal(0))
    await connection.execute(
        """
        INSERT INTO position (trader_id, coin, side, size, max_size, entry_price, leverage,
                              funding, trade_count, opened_at, last_fill_at)
        VALUES (%s, %s, %s, %s, %s, %s, %s, %s, 0, %s, %s)
        """,
        (
            trader_id,
            position.coin,
            position.side.value,
            position.size,
            position.size,
            position.exact_entry_price,
            position.leverage,
            funding,
            at,
            at,
        ),
    )


async def store_funding(
    connection: AsyncConnection, venue: str, user: str, payments: Sequence[FundingPayment]
) -> int:
    """Store ``user``'s funding payments once each; returns how many were new."""
    if not payments:
        return 0
    async with connection.transaction():
        trader_id = await ensure_trader(connection, venue, user, payments[0].time)
        cursor = await connection.execute(
            """
            WITH new AS (
                INSERT INTO funding_payment (venue, venue_funding_id, trader_id, position_id,
                                             coin, time, amount, position_size, funding_rate)
                SELECT %(venue)s, k.id, %(trader)s, p.id, k.coin, k.time, k.amount, k.szi,
                       k.rate
                FROM unnest(%(ids)s::text[], %(coins)s::text[], %(times)s::timestamptz[],
                            %(amounts)s::numeric[], %(szis)s::numeric[], %(rates)s::float8[])
                     AS k(id, coin, time, amount, szi, rate)
                LEFT JOIN LATERAL (
                    SELECT q.id FROM position AS q
                    WHERE q.trader_id = %(trader)s AND q.coin = k.coin AND q.opened_at <= k.time
                      AND (q.closed_at IS NULL OR q.closed_at >= k.time)
                    ORDER BY q.opened_at DESC LIMIT 1
                ) AS p ON true
                ON CONFLICT (venue, venue_funding_id) DO NOTHING
                RETURNING position_id, amount
            ),
            credited AS (
                UPDATE position SET funding = position.funding + s.total
                FROM (SELECT position_id, sum(amount) AS total FROM new
                      WHERE position_id IS NOT NULL GROUP BY position_id) AS s
                WHERE position.id = s.position_id
            )
            SELECT count(*) FROM new
            """,
            {
                "venue": venue,
                "trader": trader_id,
                "ids": [p.funding_id for p in payments],
                "coins": [p.coin for p in payments],
                "times": [p.time for p in payments],
                "amounts": [p.usdc for p in payments],
                "szis": [p.szi for p in payments],
                "rates": [p.funding_rate for p in payments],
            },
        )
        row = await cursor.fetchone()
    return 0 if row is None else int(row[0])


@dataclass(slots=True)
class LeaderboardReport:
    """What one leaderboard stored."""

    accounts: int = 0
    traders_created: int = 0
    display_names: int = 0


async def store_leaderboard(
    connection: AsyncConnection,
    venue: str,
    rows: Sequence[LeaderboardRow],
    at: datetime | None,
) -> LeaderboardReport:
    """Register every account of ``rows`` (first seen ``at``, or now), with its display name
    and its account value as of ``at`` (None: the time is unknown). One transaction."""
    report = LeaderboardReport(accounts=len(rows))
    if not rows:
        return report
    async with connection.transaction():
        ids, report.traders_created = await ensure_traders(
            connection, venue, [row.address for row in rows], at or datetime.now(UTC)
        )
        named = [row for row in rows if row.display_name is not None]
        cursor = await connection.execute(
            "UPDATE trader SET display_name = v.name "
            "FROM unnest(%s::bigint[], %s::text[]) AS v(id, name) "
            "WHERE trader.id = v.id AND trader.display_name IS DISTINCT FROM v.name",
            ([ids[row.address] for row in named], [row.display_name for row in named]),
        )
        report.display_names = cursor.rowcount
        await connection.execute(
            _ACCOUNT_VALUES,
            {
                "at": at,
                "ids": [ids[row.address] for row in rows],
                "values": [row.account_value for row in rows],
            },
        )
    return report

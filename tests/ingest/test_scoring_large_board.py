"""A single board of many traders (a period's snapshot) is written in seconds, whatever plan the
statistics of the fresh stage tables would suggest: joining its rows back to their percentiles
on the board alone compared every pair of its traders (hours at 100,000 traders)."""

from __future__ import annotations

from datetime import UTC, datetime

from db.pool import connect
from ingest.scoring import compute_boards

TRADERS = 40_000
END = datetime(2026, 11, 1, tzinfo=UTC)
MONTH = "MONTHLY:2026-10"

#: One closed position per trader in October 2026, opened and closed by one trade each.
_LOAD = [
    """
    INSERT INTO market (coin, venue, size_decimals, max_leverage, mark_price, updated_at)
    VALUES ('BTC', 'test', 3, 50, 100, %(end)s)
    """,
    """
    INSERT INTO trader (venue, address, public_id, first_seen_at, last_trade_at)
    SELECT 'test', '0x' || lpad(to_hex(i), 40, '0'), '#' || (10000000 + i),
           %(end)s - interval '40 days', %(end)s - interval '2 days'
    FROM generate_series(1, %(traders)s) AS i
    """,
    """
    INSERT INTO position (trader_id, coin, side, size, max_size, entry_price, closed_size,
                          exit_notional, realized_pnl, fees, funding, leverage, trade_count,
                          opened_at, last_fill_at, closed_at)
    SELECT t.id, 'BTC', 'LONG', 0, 1, 100, 1, 100 + t.id %% 7, t.id %% 7, 0.1, 0, 2, 2,
           %(end)s - interval '20 days' + t.id * interval '1 second',
           %(end)s - interval '10 days' + t.id * interval '1 second',
           %(end)s - interval '10 days' + t.id * interval '1 second'
    FROM trader AS t
    """,
    """
    INSERT INTO trade (venue, venue_fill_id, trader_id, position_id, coin, timestamp, side,
                       direction, action, size, price, notional, start_position, realized_pnl,
                       fee, is_liquidation)
    SELECT 'test', p.id || '-' || n, p.trader_id, p.id, 'BTC',
           CASE WHEN n = 1 THEN p.opened_at ELSE p.closed_at END, 'LONG',
           CASE WHEN n = 1 THEN 'BUY' ELSE 'SELL' END,
           CASE WHEN n = 1 THEN 'OPEN' ELSE 'CLOSE' END, 1,
           CASE WHEN n = 1 THEN 100 ELSE 100 + p.realized_pnl END,
           CASE WHEN n = 1 THEN 100 ELSE 100 + p.realized_pnl END,
           CASE WHEN n = 1 THEN 0 ELSE 1 END,
           CASE WHEN n = 2 THEN p.realized_pnl END, 0.05, false
    FROM position AS p CROSS JOIN generate_series(1, 2) AS n
    """,
    "ANALYZE",
]


async def test_a_period_board_of_forty_thousand_traders_is_written_in_seconds(
    empty_url: str,
) -> None:
    # given 40,000 traders who all traded in October
    connection = await connect(empty_url)
    try:
        for statement in _LOAD:
            await connection.execute(statement, {"end": END, "traders": TRADERS})
        # when October's board is computed with a statement timeout far above what it needs
        async with connection.transaction():
            await connection.execute("SET LOCAL statement_timeout = '30s'")
            counts = await compute_boards(connection, {MONTH: 31}, END, partitions=2)
        # then it finished, ranking every trader once
        assert counts == {MONTH: TRADERS}
        cursor = await connection.execute(
            "SELECT count(DISTINCT rank), min(rank), max(rank) FROM trader_stats "
            "WHERE timeframe = %s",
            (MONTH,),
        )
        assert await cursor.fetchone() == (TRADERS, 1, TRADERS)
    finally:
        await connection.close()

"""A batch's cost must not grow with what is already stored: the writer finds stored traders,
positions and trades through their keys, never by reading a whole table.

The database holds thousands of traders, positions and trades (analyzed, as a live one is); one
small batch that adds to stored positions, closes some, opens new ones and repeats a stored fill
is written inside an outer transaction, and Postgres's own counters for that transaction
(``pg_stat_xact_user_tables``) must show no sequential scan of ``trader``, ``position`` or
``trade``.
"""

from __future__ import annotations

from datetime import UTC, datetime

import psycopg

from db.pool import connect
from ingest.fills import Direction
from ingest.writer import write_fills
from tests.ingest.factories import fill

TRADERS = 3_000
POSITIONS_PER_TRADER = 3
#: Traders whose stored open BTC position the batch adds to: enough rows that hashing the whole
#: table looks cheaper to the planner than probing for each of them.
ADDING = range(4, 4 + TRADERS // 2)
#: Stored history starts here, weeks before the batch's fills (tests.ingest.factories.START).
STORED_FROM = datetime(2026, 10, 1, tzinfo=UTC)

_LOAD = [
    """
    INSERT INTO trader (venue, address, public_id, first_seen_at, last_trade_at)
    SELECT 'test', 'stored-' || i, '#' || (20000000 + i), %(base)s - interval '10 days', %(base)s
    FROM generate_series(1, %(traders)s) AS i
    """,
    # Every trader holds closed positions in BTC, and the last one in each coin stays open.
    """
    INSERT INTO position (trader_id, coin, side, size, max_size, entry_price, closed_size,
                          exit_notional, realized_pnl, fees, funding, leverage, trade_count,
                          opened_at, last_fill_at, closed_at)
    SELECT t.id, c.coin, 'LONG', CASE WHEN n = %(per_trader)s THEN 1 ELSE 0 END, 1, 100,
           CASE WHEN n = %(per_trader)s THEN 0 ELSE 1 END, 0, 0, 0, 0, 10, 1,
           %(base)s + n * interval '1 hour',
           %(base)s + n * interval '1 hour',
           CASE WHEN n = %(per_trader)s THEN NULL
                ELSE %(base)s + n * interval '1 hour' END
    FROM trader AS t
    CROSS JOIN (VALUES ('BTC'), ('ETH')) AS c(coin)
    CROSS JOIN generate_series(1, %(per_trader)s) AS n
    WHERE c.coin = 'BTC' OR n = %(per_trader)s
    """,
    """
    INSERT INTO trade (venue, venue_fill_id, trader_id, position_id, coin, timestamp, side,
                       direction, action, size, price, notional, start_position, fee,
                       is_liquidation)
    SELECT 'test', 'stored-' || p.id, p.trader_id, p.id, p.coin, p.opened_at, 'LONG', 'BUY',
           'OPEN', 1, 100, 100, 0, 0, false
    FROM position AS p
    """,
    "ANALYZE trader",
    "ANALYZE position",
    "ANALYZE trade",
]

_SEQUENTIAL_SCANS = """
SELECT relname, seq_scan FROM pg_stat_xact_user_tables
WHERE relname IN ('trader', 'position', 'trade') ORDER BY relname
"""


def _load(url: str) -> str:
    """Store the history; the venue fill id of one of ``stored-1``'s trades."""
    with psycopg.connect(url, autocommit=True) as connection:
        for statement in _LOAD:
            connection.execute(
                statement,
                {"traders": TRADERS, "per_trader": POSITIONS_PER_TRADER, "base": STORED_FROM},
            )
        row = connection.execute(
            "SELECT t.venue_fill_id FROM trade AS t JOIN trader AS r ON r.id = t.trader_id "
            "WHERE r.address = 'stored-1' LIMIT 1"
        ).fetchone()
    assert row is not None
    return str(row[0])


async def test_a_batch_reads_stored_rows_by_key_only(market_url: str) -> None:
    # given thousands of stored traders, positions and trades
    stored_fill_id = _load(market_url)
    buy, sell = Direction.BUY, Direction.SELL
    batch = [
        # adds to stored open positions (half the traders), closes another, flips a third
        fill("f1", buy, "1", "101", address="stored-1", minutes=1),
        *(fill(f"a{i}", buy, "1", "101", address=f"stored-{i}", minutes=1) for i in ADDING),
        fill("f2", sell, "1", "102", address="stored-2", coin="ETH", minutes=2),
        fill("f3", sell, "3", "99", address="stored-3", minutes=3),
        # a fill already stored, and new traders opening new positions
        fill(stored_fill_id, buy, "1", "100", address="stored-1", minutes=4),
        *(fill(f"n{i}", buy, "1", "100", address=f"new-{i}", minutes=5) for i in range(20)),
    ]
    connection = await connect(market_url)
    try:
        async with connection.transaction():
            # when one batch is written (inside a transaction, to read its own counters)
            report = await write_fills(connection, batch, source="scaling", checkpoint="1")
            cursor = await connection.execute(_SEQUENTIAL_SCANS)
            scans: dict[str, int] = dict(await cursor.fetchall())
    finally:
        await connection.close()
    # then it wrote what it should have
    assert report.fills_written == 23 + len(ADDING)
    assert report.duplicates_skipped == 1
    assert report.actions == {"ADD": 1 + len(ADDING), "CLOSE": 1, "FLIP": 1, "OPEN": 20}
    # and found every stored row through an index: no table was read whole
    assert scans == {"position": 0, "trade": 0, "trader": 0}

"""The writer: one transaction per batch, idempotent, all-or-nothing, NOTIFY at commit."""

from __future__ import annotations

import asyncio
import json
from decimal import Decimal

import psycopg
import pytest

from db.pool import connect
from ingest.engine import FillRejectedError
from ingest.fills import Fill
from ingest.writer import (
    TRADES_CHANNEL,
    read_checkpoint,
    update_marks,
    write_fills,
)
from tests.ingest.factories import BOB, BUY, SELL, fill

#: Open long 2, add 2, reduce 1, flip to short 2 (sells 5), close the short.
LIFE_OF_TWO_POSITIONS = [
    fill("1", BUY, "2", "100", minutes=1),
    fill("2", BUY, "2", "110", minutes=2),
    fill("3", SELL, "1", "120", minutes=3),
    fill("4", SELL, "5", "130", minutes=4),
    fill("5", BUY, "2", "125", minutes=5),
]


async def _count(url: str, table: str) -> int:
    with psycopg.connect(url) as connection:
        row = connection.execute(f"SELECT count(*) FROM {table}").fetchone()
    assert row is not None
    return int(row[0])


async def test_a_batch_writes_trades_positions_trader_and_checkpoint(market_url: str) -> None:
    # given markets and a batch covering two positions of one trader
    connection = await connect(market_url)
    # when it is written
    report = await write_fills(connection, LIFE_OF_TWO_POSITIONS, source="unit", checkpoint="5")
    # then every fill became a trade with the action the engine chose
    assert report.fills_written == 5
    assert report.traders_created == 1
    assert report.positions_opened == 2
    assert report.positions_closed == 2
    cursor = await connection.execute(
        "SELECT venue_fill_id, action, side, start_position, realized_pnl, position_id, "
        "closed_position_id FROM trade ORDER BY timestamp"
    )
    rows = await cursor.fetchall()
    actions = [(r[1], r[2], r[3], r[4]) for r in rows]
    assert actions == [
        ("OPEN", "LONG", Decimal(0), None),
        ("ADD", "LONG", Decimal(2), None),
        ("REDUCE", "LONG", Decimal(4), Decimal(15)),  # (120 - 105) x 1
        ("FLIP", "SHORT", Decimal(3), Decimal(75)),  # (130 - 105) x 3
        ("CLOSE", "SHORT", Decimal(-2), Decimal(10)),  # (130 - 125) x 2
    ]
    long_id, short_id = rows[0][5], rows[3][5]
    assert long_id != short_id
    assert [r[5] for r in rows] == [long_id, long_id, long_id, short_id, short_id]
    assert rows[3][6] == long_id  # the FLIP names the position it closed
    cursor = await connection.execute(
        "SELECT side, size, max_size, entry_price, realized_pnl, closed_at IS NOT NULL, "
        "trade_count FROM position ORDER BY id"
    )
    positions = await cursor.fetchall()
    assert positions == [
        ("LONG", Decimal(0), Decimal(4), Decimal(105), Decimal(90), True, 4),
        ("SHORT", Decimal(0), Decimal(2), Decimal(130), Decimal(10), True, 2),
    ]
    assert await read_checkpoint(connection, "unit") == "5"
    await connection.close()


async def test_replaying_a_batch_changes_nothing(market_url: str) -> None:
    # given a written batch
    connection = await connect(market_url)
    await write_fills(connection, LIFE_OF_TWO_POSITIONS[:3], source="unit", checkpoint="3")
    cursor = await connection.execute("SELECT * FROM position ORDER BY id")
    positions_before = await cursor.fetchall()
    # when the same fills come again, with new ones after them
    report = await write_fills(connection, LIFE_OF_TWO_POSITIONS, source="unit", checkpoint="5")
    # then the old ones are skipped and only the new ones are folded, once
    assert report.duplicates_skipped == 3
    assert report.fills_written == 2
    assert await _count(market_url, "trade") == 5
    report = await write_fills(connection, LIFE_OF_TWO_POSITIONS, source="unit", checkpoint="5")
    assert report.fills_written == 0
    assert await _count(market_url, "trade") == 5
    cursor = await connection.execute(
        "SELECT * FROM position WHERE id = %s", (positions_before[0][0],)
    )
    assert (await cursor.fetchone()) is not None
    await connection.close()


async def test_a_fill_repeated_inside_one_batch_is_written_once(market_url: str) -> None:
    connection = await connect(market_url)
    report = await write_fills(
        connection, [LIFE_OF_TWO_POSITIONS[0]] * 3, source="unit", checkpoint="1"
    )
    assert report.fills_written == 1
    assert await _count(market_url, "trade") == 1
    await connection.close()


@pytest.mark.parametrize(
    ("bad_fill", "message"),
    [
        (fill("bad", BUY, "-1", "100", minutes=9), "size must be a positive number"),
        (fill("bad", BUY, "0", "100", minutes=9), "size must be a positive number"),
        (fill("bad", BUY, "1", "0", minutes=9), "price must be a positive number"),
        (fill("bad", BUY, "1", "NaN", minutes=9), "price must be a positive number"),
        (fill("bad", BUY, "1", "100", coin="NOPE", minutes=9), "unknown coin 'NOPE'"),
    ],
)
async def test_a_bad_fill_rejects_the_whole_batch_and_writes_nothing(
    market_url: str, bad_fill: Fill, message: str
) -> None:
    # given a batch with good fills and one bad one
    connection = await connect(market_url)
    # when it is written
    with pytest.raises(FillRejectedError, match=message) as raised:
        await write_fills(
            connection, [*LIFE_OF_TWO_POSITIONS, bad_fill], source="unit", checkpoint="6"
        )
    # then the error names the fill, and nothing at all was written
    assert "test:bad" in str(raised.value)
    for table in ("trade", "position", "trader", "ingest_checkpoint"):
        assert await _count(market_url, table) == 0, table
    await connection.close()


async def test_listeners_hear_of_a_batch_only_when_it_commits(market_url: str) -> None:
    # given a listener
    listener = await psycopg.AsyncConnection.connect(market_url, autocommit=True)
    await listener.execute(f"LISTEN {TRADES_CHANNEL}")
    writer = await connect(market_url)
    # when a batch is written
    report = await write_fills(writer, LIFE_OF_TWO_POSITIONS, source="unit", checkpoint="5")
    # then one notification carries the id range of the new trades
    notification = await asyncio.wait_for(anext(listener.notifies()), timeout=5)
    assert json.loads(notification.payload) == {
        "first": report.first_trade_id,
        "last": report.last_trade_id,
    }
    # and a rejected batch sends nothing
    with pytest.raises(FillRejectedError):
        await write_fills(
            writer, [fill("x", BUY, "1", "1", coin="NOPE")], source="unit", checkpoint="x"
        )
    with pytest.raises(TimeoutError):
        await asyncio.wait_for(anext(listener.notifies()), timeout=0.5)
    await writer.close()
    await listener.close()


async def test_new_marks_revalue_open_positions(market_url: str) -> None:
    # given an open long of 2 at 100 and an open short of 1 at 10, both 10x
    connection = await connect(market_url)
    await write_fills(
        connection,
        [
            fill("l", BUY, "2", "100", minutes=1),
            fill("s", SELL, "1", "10", address=BOB, coin="ETH", minutes=2),
        ],
        source="unit",
        checkpoint="2",
    )
    # when marks move
    await update_marks(connection, {"BTC": Decimal(110), "ETH": Decimal(12)})
    # then notional, unrealized PnL and liquidation price follow
    cursor = await connection.execute(
        "SELECT coin, mark_price, notional, unrealized_pnl, liquidation_price "
        "FROM position ORDER BY coin"
    )
    rows = await cursor.fetchall()
    assert rows[0][:4] == ("BTC", Decimal(110), Decimal(220), Decimal(20))
    assert rows[1][:4] == ("ETH", Decimal(12), Decimal(12), Decimal(-2))
    # long: 100 x (1 - (1/10 - 1/80)) = 91.25; short: 10 x (1 + (1/10 - 1/50)) = 10.8
    assert rows[0][4] == Decimal("91.25")
    assert rows[1][4] == Decimal("10.8")
    await connection.close()


async def test_public_ids_are_random_unique_and_not_in_first_seen_order(market_url: str) -> None:
    connection = await connect(market_url)
    fills = [fill(str(i), BUY, "1", "100", address=f"0x{i:040x}", minutes=i) for i in range(60)]
    await write_fills(connection, fills, source="unit", checkpoint="60")
    cursor = await connection.execute("SELECT public_id FROM trader ORDER BY id")
    public_ids = [row[0] for row in await cursor.fetchall()]
    assert len(set(public_ids)) == 60
    assert all(p.startswith("#") and p[1:].isdigit() and len(p) == 9 for p in public_ids)
    numbers = [int(p[1:]) for p in public_ids]
    assert numbers != sorted(numbers)
    await connection.close()


async def test_several_batches_in_one_transaction(market_url: str) -> None:
    # given a caller that groups batches in its own transaction
    connection = await connect(market_url)
    async with connection.transaction():
        for start in range(0, len(LIFE_OF_TWO_POSITIONS), 2):
            await write_fills(
                connection, LIFE_OF_TWO_POSITIONS[start : start + 2], source="unit", checkpoint="x"
            )
    # then every batch is written once, as if each had committed alone
    assert await _count(market_url, "trade") == 5
    assert await _count(market_url, "position") == 2
    await connection.close()

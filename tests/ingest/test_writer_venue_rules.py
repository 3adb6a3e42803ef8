"""The writer's venue-facing rules: both legs of one trade, late fills, re-seeding, self-trades."""

from __future__ import annotations

from dataclasses import replace
from decimal import Decimal

import psycopg

from db.pool import connect
from ingest.writer import write_fills
from tests.ingest.factories import ALICE, BOB, BUY, SELL, fill


def _rows(url: str, query: str) -> list[tuple[object, ...]]:
    with psycopg.connect(url) as connection:
        return connection.execute(query).fetchall()


async def test_both_legs_of_one_trade_are_two_trades(market_url: str) -> None:
    # given one venue trade id seen from the buyer and from the seller
    buyer = fill("777", BUY, "1", "100", address=ALICE)
    seller = fill("777", SELL, "1", "100", address=BOB)
    connection = await connect(market_url)
    # when both legs are written, then written again
    first = await write_fills(connection, [buyer, seller], source="unit", checkpoint="1")
    again = await write_fills(connection, [seller, buyer], source="unit", checkpoint="1")
    await connection.close()
    # then each trader has its own trade, once
    assert (first.fills_written, again.fills_written, again.duplicates_skipped) == (2, 0, 2)
    rows = _rows(
        market_url,
        "SELECT t.venue_fill_id, tr.address, t.side FROM trade t "
        "JOIN trader tr ON tr.id = t.trader_id ORDER BY tr.address",
    )
    assert sorted(rows) == sorted([("777", ALICE, "LONG"), ("777", BOB, "SHORT")])


async def test_fills_out_of_order_within_a_batch_are_folded_in_time_order(
    market_url: str,
) -> None:
    # given a batch delivered newest first
    fills = [
        fill("3", SELL, "4", "120", minutes=3),
        fill("2", BUY, "2", "110", minutes=2),
        fill("1", BUY, "2", "100", minutes=1),
    ]
    connection = await connect(market_url)
    # when it is written
    report = await write_fills(connection, fills, source="unit", checkpoint="3")
    await connection.close()
    # then it was folded oldest first: open, add, close at the average entry of 105
    assert report.late_fills == 0
    rows = _rows(market_url, "SELECT venue_fill_id, action, realized_pnl FROM trade ORDER BY id")
    assert rows == [("1", "OPEN", None), ("2", "ADD", None), ("3", "CLOSE", Decimal(60))]


async def test_a_fill_older_than_the_last_applied_one_is_applied_on_arrival_and_counted(
    market_url: str,
) -> None:
    # given a long of 2 whose last fill was at minute 5
    connection = await connect(market_url)
    await write_fills(
        connection,
        [fill("1", BUY, "1", "100", minutes=1), fill("2", BUY, "1", "110", minutes=5)],
        source="unit",
        checkpoint="2",
    )
    # when a fill from minute 3 arrives in a later batch, claiming a stale venue position
    late = replace(fill("3", SELL, "1", "120", minutes=3), venue_start_position=Decimal(1))
    report = await write_fills(connection, [late], source="unit", checkpoint="3")
    await connection.close()
    # then it is counted as late, not re-seeded, and applied after what is stored
    assert (report.late_fills, report.reseeded, report.fills_written) == (1, 0, 1)
    rows = _rows(market_url, "SELECT size, entry_price FROM position WHERE closed_at IS NULL")
    assert rows == [(Decimal(1), Decimal(105))]
    (trade,) = _rows(market_url, "SELECT action, realized_pnl FROM trade WHERE venue_fill_id='3'")
    assert trade == ("REDUCE", Decimal(15))


async def test_a_position_opened_before_the_first_fill_is_carried_in_from_the_venue(
    market_url: str,
) -> None:
    # given nothing stored, and a close of 1 from a venue long of 3 booking 20 of PnL
    close = replace(
        fill("1", SELL, "1", "120"),
        venue_start_position=Decimal(3),
        venue_closed_pnl=Decimal(20),
    )
    connection = await connect(market_url)
    # when it is written
    report = await write_fills(connection, [close], source="unit", checkpoint="1")
    await connection.close()
    # then a long of 3 at 120 - 20/1 = 100 was carried in, and the close realized the venue's 20
    assert (report.reseeded, report.actions) == (1, {"REDUCE": 1})
    rows = _rows(market_url, "SELECT side, size, entry_price, realized_pnl FROM position")
    assert rows == [("LONG", Decimal(2), Decimal(100), Decimal(20))]


async def test_a_venue_saying_flat_ends_the_engines_position_without_a_trade(
    market_url: str,
) -> None:
    # given a long of 1, and then a venue fill opening a short from flat (a gap closed it)
    connection = await connect(market_url)
    await write_fills(connection, [fill("1", BUY, "1", "100")], source="unit", checkpoint="1")
    opening = replace(fill("2", SELL, "2", "90", minutes=2), venue_start_position=Decimal(0))
    report = await write_fills(connection, [opening], source="unit", checkpoint="2")
    await connection.close()
    # then the long is written off at the fill's time and a short of 2 opens
    assert report.reseeded == 1
    rows = _rows(market_url, "SELECT side, size, closed_at IS NOT NULL FROM position ORDER BY id")
    assert rows == [("LONG", Decimal(1), True), ("SHORT", Decimal(2), False)]


async def test_both_legs_of_a_self_trade_leave_the_position_unchanged(
    market_url: str,
) -> None:
    # given a long of 2, then both legs of a self-trade (one hash, same start position)
    connection = await connect(market_url)
    await write_fills(connection, [fill("1", BUY, "2", "100")], source="unit", checkpoint="1")
    legs = [
        replace(
            fill(fill_id, direction, "1", "105", minutes=2),
            tx_hash="0xabc",
            venue_start_position=Decimal(2),
        )
        for fill_id, direction in (("2", BUY), ("3", SELL))
    ]
    report = await write_fills(connection, legs, source="unit", checkpoint="3")
    await connection.close()
    # then neither leg re-seeded and the position is a long of 2 again
    assert report.reseeded == 0
    rows = _rows(market_url, "SELECT side, size FROM position WHERE closed_at IS NULL")
    assert rows == [("LONG", Decimal(2))]

"""Leaderboards: ranks 1..n without gaps, figures that add up, windows that cut where they say."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import psycopg

from db.pool import connect
from ingest.fills import Direction, Fill
from ingest.scoring import recompute_leaderboards
from ingest.writer import MarketSpec, upsert_markets, write_fills

AS_OF = datetime(2026, 11, 10, tzinfo=UTC)


def test_every_board_ranks_one_to_n_and_adds_up(seeded_url: str) -> None:
    with psycopg.connect(seeded_url) as connection:
        for timeframe in ("DAY", "WEEK", "MONTH", "YEAR", "ALL_TIME"):
            rows = connection.execute(
                "SELECT rank, score, net_pnl, realized_pnl, fees, funding, wins, losses, "
                "closed_position_count, win_rate FROM trader_stats WHERE timeframe = %s "
                "ORDER BY rank",
                (timeframe,),
            ).fetchall()
            assert rows, timeframe
            assert [r[0] for r in rows] == list(range(1, len(rows) + 1))
            net = [r[2] for r in rows]
            assert net == sorted(net, reverse=True)
            assert all(0 <= r[1] <= 100 for r in rows)
            for _, _, net_pnl, realized, fees, funding, wins, losses, closed, win_rate in rows:
                assert net_pnl == realized - fees + funding
                assert wins + losses == closed
                assert (win_rate is None) == (closed == 0)
            traders_with_fills = connection.execute(
                "SELECT count(DISTINCT trader_id) FROM trade WHERE timestamp > "
                "(SELECT computed_at FROM leaderboard_state WHERE timeframe = %s) - %s",
                (timeframe, _length(timeframe)),
            ).fetchone()
            assert traders_with_fills is not None
            assert len(rows) == traders_with_fills[0]


def _length(timeframe: str) -> timedelta:
    return {
        "DAY": timedelta(days=1),
        "WEEK": timedelta(days=7),
        "MONTH": timedelta(days=30),
        "YEAR": timedelta(days=365),
        "ALL_TIME": timedelta(days=365_000),
    }[timeframe]


async def test_hand_computed_board(empty_url: str) -> None:
    # given two traders: alice wins 10 on BTC two days ago (fees 2), bob loses 5 today (fees 1),
    # and carol traded 10 days ago only
    connection = await connect(empty_url)
    await upsert_markets(connection, [MarketSpec("BTC", "test", 5, 40, Decimal(100))])

    def fill(fill_id: str, address: str, direction: Direction, price: str, days_ago: float) -> Fill:
        return Fill(
            venue="test",
            fill_id=fill_id,
            address=address,
            coin="BTC",
            direction=direction,
            size=Decimal(1),
            price=Decimal(price),
            timestamp=AS_OF - timedelta(days=days_ago),
            fee=Decimal(1),
        )

    await write_fills(
        connection,
        [
            fill("c1", "carol", Direction.BUY, "100", 10),
            fill("a1", "alice", Direction.BUY, "100", 2.5),
            fill("a2", "alice", Direction.SELL, "110", 2),
            fill("b1", "bob", Direction.SELL, "100", 0.5),
            fill("b2", "bob", Direction.BUY, "105", 0.25),
        ],
        source="unit",
        checkpoint="5",
    )
    # when boards are computed
    sizes = {b.timeframe: b.traders for b in await recompute_leaderboards(connection, as_of=AS_OF)}
    # then the windows cut where they say
    assert sizes == {"DAY": 1, "WEEK": 2, "MONTH": 3, "YEAR": 3, "ALL_TIME": 3}
    cursor = await connection.execute(
        "SELECT t.address, s.rank, s.net_pnl, s.realized_pnl, s.fees, s.wins, s.losses, "
        "s.win_rate, s.score FROM trader_stats s JOIN trader t ON t.id = s.trader_id "
        "WHERE timeframe = 'WEEK' ORDER BY rank"
    )
    assert await cursor.fetchall() == [
        ("alice", 1, Decimal(8), Decimal(10), Decimal(2), 1, 0, 1.0, 100.0),
        ("bob", 2, Decimal(-7), Decimal(-5), Decimal(2), 0, 1, 0.0, 0.0),
    ]
    await connection.close()

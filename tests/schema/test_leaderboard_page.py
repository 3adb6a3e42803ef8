"""The nested leaderboard page: one round trip, a bounded number of SQL statements."""

from __future__ import annotations

from decimal import Decimal

import psycopg
import pytest
from psycopg_pool import AsyncConnectionPool

from tests.schema.helpers import data_of, execute

LEADERBOARD_PAGE = """
query LeaderboardPage($first: Int!) {
  leaderboard(timeframe: WEEK, first: $first) {
    totalCount
    pageInfo { hasNextPage endCursor }
    edges { node {
      rank score
      trader {
        publicId address
        positions { coin side size notional entryPrice markPrice unrealizedPnl leverage openedAt }
        trades(first: 10) { nodes { timestamp coin side action size price realizedPnl fee } }
      }
    } }
  }
}
"""


async def test_the_page_answers_with_linked_traders_positions_and_trades(
    seeded_pool: AsyncConnectionPool, seeded_url: str
) -> None:
    # when the front-end asks for the 100 best traders of the week
    data = await data_of(seeded_pool, LEADERBOARD_PAGE, {"first": 100})
    board = data["leaderboard"]
    edges = board["edges"]
    # then it gets a full, ranked page of a larger board
    assert len(edges) == 100
    assert board["totalCount"] > 100
    assert board["pageInfo"]["hasNextPage"] is True
    assert [e["node"]["rank"] for e in edges] == list(range(1, 101))
    scores = [e["node"]["score"] for e in edges]
    assert scores == sorted(scores, reverse=True)
    # and every trader's open positions and newest trades, as stored
    with psycopg.connect(seeded_url) as connection:
        for edge in edges:
            trader = edge["node"]["trader"]
            row = connection.execute(
                "SELECT id, address FROM trader WHERE public_id = %s", (trader["publicId"],)
            ).fetchone()
            assert row is not None
            assert row[1] == trader["address"]
            open_count = connection.execute(
                "SELECT count(*) FROM position WHERE trader_id = %s AND closed_at IS NULL",
                (row[0],),
            ).fetchone()
            assert open_count is not None
            assert len(trader["positions"]) == open_count[0]
            newest = connection.execute(
                "SELECT price FROM trade WHERE trader_id = %s "
                "ORDER BY timestamp DESC, id DESC LIMIT 10",
                (row[0],),
            ).fetchall()
            assert [Decimal(t["price"]) for t in trader["trades"]["nodes"]] == [
                r[0] for r in newest
            ]
            times = [t["timestamp"] for t in trader["trades"]["nodes"]]
            assert times == sorted(times, reverse=True)
    assert sum(len(e["node"]["trader"]["positions"]) for e in edges) > 50
    for edge in edges:
        for position in edge["node"]["trader"]["positions"]:
            assert Decimal(position["size"]) > 0
            assert Decimal(position["notional"]) == Decimal(position["size"]) * Decimal(
                position["markPrice"]
            )


async def test_statement_count_does_not_grow_with_the_rows(
    seeded_pool: AsyncConnectionPool,
) -> None:
    # when the same page is asked with 5 entries and with 100
    _, errors_small, small = await execute(seeded_pool, LEADERBOARD_PAGE, {"first": 5})
    _, errors_large, large = await execute(seeded_pool, LEADERBOARD_PAGE, {"first": 100})
    assert errors_small == errors_large == []
    # then both cost the same statements: page, count, positions, trades
    assert len(small) == len(large)
    assert len(large) <= 4, large


async def test_pages_follow_each_other_without_gaps_or_overlap(
    seeded_pool: AsyncConnectionPool,
) -> None:
    query = """
    query($after: String) {
      leaderboard(timeframe: MONTH, first: 40, after: $after) {
        totalCount
        pageInfo { hasNextPage endCursor hasPreviousPage }
        nodes { rank trader { publicId } }
      }
    }"""
    ranks: list[int] = []
    after = None
    total = None
    while True:
        data = await data_of(seeded_pool, query, {"after": after})
        board = data["leaderboard"]
        total = board["totalCount"]
        ranks += [node["rank"] for node in board["nodes"]]
        assert board["pageInfo"]["hasPreviousPage"] is (after is not None)
        if not board["pageInfo"]["hasNextPage"]:
            break
        after = board["pageInfo"]["endCursor"]
    assert ranks == list(range(1, total + 1))


async def test_order_by_a_statistic_and_range_filters(seeded_pool: AsyncConnectionPool) -> None:
    query = """
    query($after: String) {
      leaderboard(timeframe: MONTH, first: 25, after: $after,
                  orderBy: {field: VOLUME, direction: DESC},
                  filter: {tradeCount: {min: 50}, winRate: {min: 0.2, max: 0.9}}) {
        totalCount
        pageInfo { hasNextPage endCursor }
        nodes { rank stats { volume tradeCount winRate } }
      }
    }"""
    volumes: list[Decimal] = []
    after = None
    total = 0
    while True:
        board = (await data_of(seeded_pool, query, {"after": after}))["leaderboard"]
        total = board["totalCount"]
        for node in board["nodes"]:
            stats = node["stats"]
            assert stats["tradeCount"] >= 50
            assert 0.2 <= stats["winRate"] <= 0.9
            volumes.append(Decimal(stats["volume"]))
        if not board["pageInfo"]["hasNextPage"]:
            break
        after = board["pageInfo"]["endCursor"]
    assert 0 < len(volumes) == total
    assert volumes == sorted(volumes, reverse=True)


async def test_tiers_narrow_the_board(seeded_pool: AsyncConnectionPool) -> None:
    query = """
    query($tier: LeaderboardTier!) {
      leaderboard(timeframe: MONTH, tier: $tier, first: 100) { totalCount nodes { tier } }
    }"""
    counts = {}
    for tier in ("ALL", "ACTIVE", "ADVANCED", "FEATURED"):
        board = (await data_of(seeded_pool, query, {"tier": tier}))["leaderboard"]
        counts[tier] = board["totalCount"]
        if tier in ("ADVANCED", "FEATURED"):
            assert {node["tier"] for node in board["nodes"]} <= {tier}
    assert counts["ALL"] >= counts["ACTIVE"] >= counts["FEATURED"]
    assert counts["ALL"] >= counts["ADVANCED"] + counts["FEATURED"]
    assert counts["FEATURED"] > 0


BOARD_STATS = """
query($filter: LeaderboardFilter) {
  leaderboard(timeframe: WEEK, filter: $filter, first: 1) {
    totalCount stats { traderCount volume realizedPnl netPnl avgWinRate avgLeverage }
  }
}"""


async def test_board_stats_and_excluded_labels_cover_the_whole_selection(
    seeded_pool: AsyncConnectionPool, seeded_url: str
) -> None:
    # given the WEEK board with and without its WHALE-labelled traders, from 5 fills up
    whole = (await data_of(seeded_pool, BOARD_STATS, {"filter": {"minTrades": 5}}))["leaderboard"]
    no_whales = {"minTrades": 5, "excludeLabels": ["WHALE"]}
    rest = (await data_of(seeded_pool, BOARD_STATS, {"filter": no_whales}))["leaderboard"]
    with psycopg.connect(seeded_url) as connection:
        rows = {
            excluded: connection.execute(
                "SELECT count(*), sum(volume), sum(realized_pnl), sum(net_pnl), avg(win_rate), "
                "avg(avg_leverage) FROM trader_stats AS s WHERE timeframe = 'WEEK' "
                "AND trade_count >= 5 AND NOT (%s AND EXISTS (SELECT 1 FROM trader_label AS l "
                "WHERE l.trader_id = s.trader_id AND l.label = 'WHALE'))",
                (excluded,),
            ).fetchone()
            for excluded in (False, True)
        }
    # then the stats are those of every entry selected, not of the one-entry page
    for board, row in ((whole, rows[False]), (rest, rows[True])):
        assert row is not None
        stats = board["stats"]
        assert stats["traderCount"] == board["totalCount"] == row[0]
        assert (Decimal(stats["volume"]), Decimal(stats["realizedPnl"])) == (row[1], row[2])
        assert Decimal(stats["netPnl"]) == row[3]
        assert stats["avgWinRate"] == pytest.approx(row[4])
        assert stats["avgLeverage"] == pytest.approx(row[5])
    # and leaving the whales out removed some traders, only them
    assert 0 < rest["totalCount"] < whole["totalCount"]

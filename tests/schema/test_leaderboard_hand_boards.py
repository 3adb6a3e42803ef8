"""Small boards built by hand: the ``tier`` filter (FEATURED and ADVANCED select entry tiers,
ACTIVE the traders with a fill in the 7 days before the board's end, so an ADVANCED trader who
stopped trading is not in it; ALL the whole board), and ordering and filtering by the venue's
account value."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

from psycopg import AsyncConnection

from db.pool import connect, open_pool
from ingest.scoring import recompute_leaderboards
from ingest.writer import MarketSpec, update_marks, upsert_markets, write_fills
from tests.ingest.factories import BUY, SELL, fill, one_buy
from tests.schema.helpers import data_of

AS_OF = datetime(2026, 11, 10, tzinfo=UTC)
QUERY = """
query($tier: LeaderboardTier!) {
  leaderboard(timeframe: MONTH, tier: $tier, first: 10) {
    totalCount nodes { tier trader { address } }
  }
}"""


async def _board(url: str, ages: Mapping[str, float]) -> AsyncConnection:
    """Boards as of AS_OF of one fill per trader, ``ages`` days before it; a connection to it."""
    connection = await connect(url)
    await upsert_markets(connection, [MarketSpec("BTC", "test", 5, 40, Decimal(100))])
    fills = [one_buy(name, AS_OF - timedelta(days=days)) for name, days in ages.items()]
    await write_fills(connection, fills, source="unit", checkpoint="1")
    await recompute_leaderboards(connection, as_of=AS_OF)
    return connection


async def test_active_is_who_traded_in_the_last_7_days_whatever_the_entry_tier(
    empty_url: str,
) -> None:
    # given a MONTH board of four traders whose last fills are 1, 2, 5 and 12 days old
    ages = {"featured": 1, "advanced-recent": 2, "active": 5, "advanced-stale": 12}
    connection = await _board(empty_url, ages)
    # and entry tiers as scoring would give them for such figures (set here: only the
    # filter's reading of stored boards is under test; tests/ingest checks the tiering)
    tiers = {
        "featured": "FEATURED",
        "advanced-recent": "ADVANCED",
        "active": "ACTIVE",
        "advanced-stale": "ADVANCED",
    }
    for address, tier in tiers.items():
        await connection.execute(
            "UPDATE trader_stats SET tier = %s WHERE timeframe = 'MONTH' "
            "AND trader_id = (SELECT id FROM trader WHERE address = %s)",
            (tier, address),
        )
    await connection.close()
    pool = await open_pool(empty_url, min_size=1, max_size=2)
    try:
        # when the board is asked for by tier
        chosen: dict[str, set[str]] = {}
        for tier in ("FEATURED", "ADVANCED", "ACTIVE", "ALL"):
            board = (await data_of(pool, QUERY, {"tier": tier}))["leaderboard"]
            chosen[tier] = {node["trader"]["address"] for node in board["nodes"]}
            assert board["totalCount"] == len(chosen[tier])
    finally:
        await pool.close()
    # then FEATURED and ADVANCED are entry tiers, ACTIVE leaves out the stale ADVANCED trader
    assert chosen["FEATURED"] == {"featured"}
    assert chosen["ADVANCED"] == {"advanced-recent", "advanced-stale"}
    assert chosen["ACTIVE"] == {"featured", "advanced-recent", "active"}
    assert chosen["ALL"] == set(ages)


BY_ACCOUNT_VALUE = """
query($filter: LeaderboardFilter, $after: String) {
  leaderboard(timeframe: MONTH, filter: $filter, first: 2, after: $after,
              orderBy: {field: ACCOUNT_VALUE, direction: DESC}) {
    totalCount
    pageInfo { hasNextPage endCursor }
    nodes { trader { address accountValue accountValueAt displayName } }
  }
}"""


async def test_the_board_orders_and_filters_by_the_venues_account_value(empty_url: str) -> None:
    # given a MONTH board of four traders, three with account values (one dated) and a name
    connection = await _board(empty_url, {"a": 1, "b": 2, "c": 3, "unknown": 4})
    taken = AS_OF - timedelta(hours=1)
    for address, value, at, name in (
        ("a", "500", None, None),
        ("b", "20000.5", taken, "Whale B"),
        ("c", "7000", None, None),
    ):
        await connection.execute(
            "UPDATE trader SET account_value = %s, account_value_at = %s, display_name = %s "
            "WHERE address = %s",
            (Decimal(value), at, name, address),
        )
    await connection.close()
    pool = await open_pool(empty_url, min_size=1, max_size=2)
    try:
        # when it is paged by account value, largest first, two at a time
        first = (await data_of(pool, BY_ACCOUNT_VALUE, {}))["leaderboard"]
        cursor = first["pageInfo"]["endCursor"]
        second = (await data_of(pool, BY_ACCOUNT_VALUE, {"after": cursor}))["leaderboard"]
        # and filtered to values from 1,000 USD
        rich = {"filter": {"accountValue": {"min": "1000"}}}
        filtered = (await data_of(pool, BY_ACCOUNT_VALUE, rich))["leaderboard"]
    finally:
        await pool.close()
    # then the pages run b, c, a, then the trader whose value is unknown
    traders = [n["trader"] for n in first["nodes"] + second["nodes"]]
    assert [t["address"] for t in traders] == ["b", "c", "a", "unknown"]
    assert first["pageInfo"]["hasNextPage"]
    assert not second["pageInfo"]["hasNextPage"]
    assert traders[0] == {
        "address": "b",
        "accountValue": "20000.5",
        "accountValueAt": taken.isoformat(),
        "displayName": "Whale B",
    }
    assert traders[3]["accountValue"] is None
    # and the filter keeps b and c only, and counts them
    assert [n["trader"]["address"] for n in filtered["nodes"]] == ["b", "c"]
    assert filtered["totalCount"] == 2


COIN_BOARD = """
query($filter: CoinPnlFilter, $order: CoinPnlOrder, $first: Int!, $after: String) {
  coinPnlLeaderboard(coin: "BTC", timeframe: ALL_TIME, filter: $filter, orderBy: $order,
                     first: $first, after: $after) {
    totalCount pageInfo { hasNextPage endCursor }
    nodes {
      rank trader { address } realizedPnl fees netPnl unrealizedPnl totalPnl volume tradeCount
      side positionSize positionValue maxSizeHeld stillHoldingRatio capital roi realizedRoi
      unrealizedRoi netflow netflowUsd
    }
  }
}"""


async def test_a_coins_pnl_board_by_hand(empty_url: str) -> None:
    # given, in BTC marked at 120:
    # alice buys 2 at 100 (10x), sells 1 at 110: realized 10, fees 2, long 1 open (+20 at 120)
    # bob sells 1 at 100 (leverage unknown), buys back at 90: realized 10, fees 2, flat
    # carol buys 1 at 100 (5x): fee 1, long 1 open (+20); carol is labelled FUND
    connection = await connect(empty_url)
    await upsert_markets(connection, [MarketSpec("BTC", "test", 5, 40, Decimal(100))])
    fills = [
        fill("a1", BUY, "2", "100", address="alice", minutes=0, leverage=10),
        fill("a2", SELL, "1", "110", address="alice", minutes=1, leverage=10),
        fill("b1", SELL, "1", "100", address="bob", minutes=2, leverage=None),
        fill("b2", BUY, "1", "90", address="bob", minutes=3, leverage=None),
        fill("c1", BUY, "1", "100", address="carol", minutes=4, leverage=5),
    ]
    await write_fills(connection, fills, source="unit", checkpoint="1")
    await update_marks(connection, {"BTC": Decimal(120)})
    await connection.execute("UPDATE trader SET label = 'FUND' WHERE address = 'carol'")
    await connection.close()
    pool = await open_pool(empty_url, min_size=1, max_size=2)

    async def board(first: int = 10, **variables: object) -> dict[str, Any]:
        query_variables = {"first": first, **variables}
        found: dict[str, Any] = (await data_of(pool, COIN_BOARD, query_variables))[
            "coinPnlLeaderboard"
        ]
        return found

    try:
        by_total = await board()
        by_roi = await board(order={"field": "ROI"})
        first_page = await board(first=2)
        second_page = await board(first=2, after=first_page["pageInfo"]["endCursor"])
        past_the_end = await board(first=2, after=second_page["pageInfo"]["endCursor"])
        open_only = await board(filter={"positionValue": {"min": "1"}})
        trimmed = await board(filter={"stillHoldingRatio": {"max": 0.6}})
        funds = await board(filter={"labels": ["FUND"]})
        not_funds = await board(filter={"excludeLabels": ["FUND"]})
        netflow_asc = await board(order={"field": "NETFLOW_USD", "direction": "ASC"})
    finally:
        await pool.close()
    # then every figure is the hand-computed one
    alice, carol, bob = by_total["nodes"]
    capitals = [Decimal(entry.pop("capital")) for entry in (alice, carol, bob)]
    assert capitals == [20, 20, 100]  # 2 x 100 / 10, 1 x 100 / 5, and bob's 1 x 100 at 1x
    assert alice == {
        "rank": 1,
        "trader": {"address": "alice"},
        "realizedPnl": "10",
        "fees": "2",
        "netPnl": "8",
        "unrealizedPnl": "20",
        "totalPnl": "28",
        "volume": "310",
        "tradeCount": 2,
        "side": "LONG",
        "positionSize": "1",
        "positionValue": "120",
        "maxSizeHeld": "2",
        "stillHoldingRatio": 0.5,
        "roi": 1.4,  # 28 / 20
        "realizedRoi": 0.4,
        "unrealizedRoi": 1.0,
        "netflow": "1",  # bought 2, sold 1
        "netflowUsd": "90",  # 200 - 110
    }
    assert (carol["rank"], carol["totalPnl"], carol["roi"]) == (2, "19", 0.95)
    assert (bob["rank"], bob["totalPnl"], bob["side"], bob["positionValue"]) == (
        3,
        "8",
        None,
        "0",
    )
    assert (bob["roi"], bob["stillHoldingRatio"], bob["netflowUsd"]) == (0.08, 0.0, "-10")
    assert by_total["totalCount"] == 3
    # and orderings, pages and filters follow
    assert [n["trader"]["address"] for n in by_roi["nodes"]] == ["alice", "carol", "bob"]
    assert [n["trader"]["address"] for n in netflow_asc["nodes"]] == ["bob", "alice", "carol"]
    assert [n["rank"] for n in first_page["nodes"] + second_page["nodes"]] == [1, 2, 3]
    assert first_page["pageInfo"]["hasNextPage"]
    assert not second_page["pageInfo"]["hasNextPage"]
    assert second_page["nodes"][0]["trader"]["address"] == "bob"
    assert (past_the_end["nodes"], past_the_end["totalCount"]) == ([], 3)

    def addresses(page: dict[str, Any]) -> list[str]:
        return [n["trader"]["address"] for n in page["nodes"]]

    assert (addresses(open_only), open_only["totalCount"]) == (["alice", "carol"], 2)
    assert addresses(trimmed) == ["alice", "bob"]
    assert [n["rank"] for n in trimmed["nodes"]] == [1, 2]
    assert addresses(funds) == ["carol"]
    assert addresses(not_funds) == ["alice", "bob"]

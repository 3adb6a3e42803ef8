"""Small boards built by hand: the ``tier`` filter (FEATURED and ADVANCED select entry tiers,
ACTIVE the traders with a fill in the 7 days before the board's end, so an ADVANCED trader who
stopped trading is not in it; ALL the whole board), and ordering and filtering by the venue's
account value."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from decimal import Decimal

from psycopg import AsyncConnection

from db.pool import connect, open_pool
from ingest.scoring import recompute_leaderboards
from ingest.writer import MarketSpec, upsert_markets, write_fills
from tests.ingest.factories import one_buy
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

"""`positions`, `trades`, `markets`, `market` and `node` at the root."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from psycopg_pool import AsyncConnectionPool

from tests.schema.helpers import data_of, execute

POSITIONS = """
query($filter: PositionFilter, $orderBy: PositionOrder, $after: String) {
  positions(filter: $filter, orderBy: $orderBy, first: 50, after: $after) {
    totalCount
    pageInfo { hasNextPage endCursor }
    nodes { id coin side notional unrealizedPnl isOpen trader { publicId } }
  }
}
"""

TRADES = """
query($filter: TradeFilter, $after: String) {
  trades(filter: $filter, first: 100, after: $after) {
    totalCount
    pageInfo { hasNextPage endCursor }
    nodes { id coin side action notional isLiquidation timestamp trader { publicId } }
  }
}
"""


async def _all_pages(
    pool: AsyncConnectionPool, query: str, field: str, variables: dict[str, Any]
) -> tuple[list[dict[str, Any]], int]:
    nodes: list[dict[str, Any]] = []
    after = None
    total = 0
    for _ in range(500):
        connection = (await data_of(pool, query, {**variables, "after": after}))[field]
        total = connection["totalCount"]
        nodes += connection["nodes"]
        if not connection["pageInfo"]["hasNextPage"]:
            break
        after = connection["pageInfo"]["endCursor"]
    return nodes, total


async def test_open_positions_largest_first_across_pages(seeded_pool: AsyncConnectionPool) -> None:
    nodes, total = await _all_pages(seeded_pool, POSITIONS, "positions", {})
    assert len(nodes) == total > 0
    assert len({n["id"] for n in nodes}) == total
    assert all(n["isOpen"] for n in nodes)
    notionals = [Decimal(n["notional"]) for n in nodes]
    assert notionals == sorted(notionals, reverse=True)


async def test_positions_filtered_and_ordered(seeded_pool: AsyncConnectionPool) -> None:
    variables = {
        "filter": {"coins": ["btc", "ETH"], "sides": ["SHORT"], "minNotional": "100"},
        "orderBy": {"field": "UNREALIZED_PNL", "direction": "ASC"},
    }
    nodes, total = await _all_pages(seeded_pool, POSITIONS, "positions", variables)
    assert len(nodes) == total > 0
    assert {n["coin"] for n in nodes} <= {"BTC", "ETH"}
    assert {n["side"] for n in nodes} == {"SHORT"}
    assert all(Decimal(n["notional"]) >= 100 for n in nodes)
    pnls = [Decimal(n["unrealizedPnl"]) for n in nodes]
    assert pnls == sorted(pnls)


async def test_closed_positions_of_named_traders(seeded_pool: AsyncConnectionPool) -> None:
    some = await data_of(
        seeded_pool, "{ leaderboard(first: 2) { nodes { trader { publicId address } } } }"
    )
    traders = [n["trader"] for n in some["leaderboard"]["nodes"]]
    variables = {
        "filter": {"status": "CLOSED", "traders": [traders[0]["publicId"], traders[1]["address"]]},
        "orderBy": {"field": "CLOSED_AT"},
    }
    nodes, total = await _all_pages(seeded_pool, POSITIONS, "positions", variables)
    assert len(nodes) == total > 0
    assert {n["trader"]["publicId"] for n in nodes} <= {t["publicId"] for t in traders}
    assert not any(n["isOpen"] for n in nodes)


async def test_trades_filtered_newest_first(seeded_pool: AsyncConnectionPool) -> None:
    variables = {"filter": {"actions": ["CLOSE", "FLIP"], "coins": ["SOL"], "minNotional": "10"}}
    nodes, total = await _all_pages(seeded_pool, TRADES, "trades", variables)
    assert len(nodes) == total > 0
    assert {n["action"] for n in nodes} <= {"CLOSE", "FLIP"}
    assert {n["coin"] for n in nodes} == {"SOL"}
    times = [n["timestamp"] for n in nodes]
    assert times == sorted(times, reverse=True)


async def test_liquidations_window(seeded_pool: AsyncConnectionPool) -> None:
    data = await data_of(
        seeded_pool,
        TRADES,
        {
            "filter": {
                "isLiquidation": True,
                "since": "2026-10-25T00:00:00Z",
                "until": "2026-11-01T00:00:00Z",
            }
        },
    )
    nodes = data["trades"]["nodes"]
    assert data["trades"]["totalCount"] > 0
    assert all(n["isLiquidation"] for n in nodes)
    assert all("2026-10-25" <= n["timestamp"] < "2026-11-01" for n in nodes)


async def test_markets_and_node_round_trip(seeded_pool: AsyncConnectionPool) -> None:
    data = await data_of(
        seeded_pool,
        """{ markets { id coin markPrice sizeDecimals maxLeverage }
             market(coin: "btc") { coin }
             trades(first: 1) { nodes { id position { id } trader { id } } } }""",
    )
    coins = [m["coin"] for m in data["markets"]]
    assert {"BTC", "ETH", "SOL", "HYPE"} <= set(coins)
    assert all(Decimal(m["markPrice"]) > 0 for m in data["markets"])
    assert data["market"] == {"coin": "BTC"}
    trade = data["trades"]["nodes"][0]
    ids = [data["markets"][0]["id"], trade["id"], trade["position"]["id"], trade["trader"]["id"]]
    for node_id in ids:
        node = await data_of(
            seeded_pool, "query($id: ID!) { node(id: $id) { id } }", {"id": node_id}
        )
        assert node["node"] == {"id": node_id}


MARKETS = """
query($first: Int!) {
  markets {
    coin
    positions(first: $first) { totalCount nodes { coin notional isOpen } }
    trades(first: $first) { totalCount nodes { coin market { coin } } }
  }
}
"""


async def test_markets_link_to_their_positions_and_trades_in_bounded_statements(
    seeded_pool: AsyncConnectionPool,
) -> None:
    # when every market is asked for its largest positions and newest fills
    _, small_errors, small = await execute(seeded_pool, MARKETS, {"first": 2})
    data, errors, large = await execute(seeded_pool, MARKETS, {"first": 50})
    assert small_errors == errors == []
    assert data is not None
    # then each market's pages hold only its own coin, largest notional first
    for market in data["markets"]:
        positions = market["positions"]["nodes"]
        assert all(p["coin"] == market["coin"] and p["isOpen"] for p in positions)
        notionals = [Decimal(p["notional"]) for p in positions]
        assert notionals == sorted(notionals, reverse=True)
        assert len(positions) == min(50, market["positions"]["totalCount"])
        assert all(
            t["coin"] == t["market"]["coin"] == market["coin"] for t in market["trades"]["nodes"]
        )
    # and the statement count does not depend on page size or number of markets
    assert len(small) == len(large) <= 5

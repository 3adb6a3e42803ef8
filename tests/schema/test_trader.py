"""`trader(address|publicId)` and everything under it."""

from __future__ import annotations

from decimal import Decimal

import psycopg
import pytest
from psycopg_pool import AsyncConnectionPool

from tests.schema.helpers import data_of

TRADER = """
query Trader($address: String, $publicId: String, $after: String) {
  trader(address: $address, publicId: $publicId) {
    id publicId address venue firstSeenAt lastTradeAt
    week: stats(timeframe: WEEK) { rank netPnl realizedPnl fees tradeCount wins losses
                                   closedPositionCount winRate tier }
    positions { id coin side size trader { publicId } market { coin markPrice } }
    closedPositions(first: 5) {
      totalCount
      nodes { id closedAt realizedPnl exitPrice size maxSize isOpen
              trades(first: 100) { totalCount nodes { action position { id } } } }
    }
    trades(first: 20, after: $after) {
      totalCount
      pageInfo { hasNextPage endCursor }
      nodes { id action timestamp trader { publicId } position { id } }
    }
    liquidations: trades(filter: {isLiquidation: true}, first: 100) {
      totalCount nodes { isLiquidation }
    }
  }
}
"""


@pytest.fixture(scope="module")
def busy_trader(seeded_url: str) -> tuple[int, str, str]:
    """(id, address, public id) of the trader with the most fills."""
    with psycopg.connect(seeded_url) as connection:
        row = connection.execute(
            "SELECT t.id, t.address, t.public_id FROM trader AS t "
            "JOIN trade ON trade.trader_id = t.id GROUP BY t.id ORDER BY count(*) DESC LIMIT 1"
        ).fetchone()
    assert row is not None
    return row[0], row[1], row[2]


async def test_found_by_address_and_by_public_id_alike(
    seeded_pool: AsyncConnectionPool, busy_trader: tuple[int, str, str]
) -> None:
    _, address, public_id = busy_trader
    by_address = await data_of(seeded_pool, TRADER, {"address": address.upper()})
    by_public_id = await data_of(seeded_pool, TRADER, {"publicId": public_id})
    by_digits = await data_of(seeded_pool, TRADER, {"publicId": public_id.lstrip("#")})
    assert by_address == by_public_id == by_digits
    assert by_address["trader"]["publicId"] == public_id


async def test_the_trader_graph_is_consistent(
    seeded_pool: AsyncConnectionPool, seeded_url: str, busy_trader: tuple[int, str, str]
) -> None:
    trader_id, address, public_id = busy_trader
    trader = (await data_of(seeded_pool, TRADER, {"address": address}))["trader"]
    with psycopg.connect(seeded_url) as connection:
        counts = connection.execute(
            "SELECT count(*), count(*) FILTER (WHERE is_liquidation) FROM trade "
            "WHERE trader_id = %s",
            (trader_id,),
        ).fetchone()
        closed = connection.execute(
            "SELECT count(*) FROM position WHERE trader_id = %s AND closed_at IS NOT NULL",
            (trader_id,),
        ).fetchone()
    assert counts is not None
    assert closed is not None
    assert trader["trades"]["totalCount"] == counts[0]
    assert trader["liquidations"]["totalCount"] == counts[1]
    assert all(t["isLiquidation"] for t in trader["liquidations"]["nodes"])
    assert trader["closedPositions"]["totalCount"] == closed[0]
    for position in trader["positions"]:
        assert position["trader"]["publicId"] == public_id
        assert position["market"]["coin"] == position["coin"]
        assert Decimal(position["size"]) > 0
    closed_times = [p["closedAt"] for p in trader["closedPositions"]["nodes"]]
    assert closed_times == sorted(closed_times, reverse=True)
    for position in trader["closedPositions"]["nodes"]:
        assert position["isOpen"] is False
        assert Decimal(position["size"]) == 0
        assert Decimal(position["maxSize"]) > 0
        actions = [t["action"] for t in position["trades"]["nodes"]]
        assert position["trades"]["totalCount"] == len(actions)
        assert actions[-1] in {"OPEN", "FLIP"}  # oldest fill opened it
        assert actions[0] in {"CLOSE", "FLIP"} or actions[0] == "REDUCE"
    for trade in trader["trades"]["nodes"]:
        assert trade["trader"]["publicId"] == public_id
    stats = trader["week"]
    if stats is not None:
        assert stats["wins"] + stats["losses"] == stats["closedPositionCount"]
        assert Decimal(stats["netPnl"]) == Decimal(stats["realizedPnl"]) - Decimal(stats["fees"])


async def test_trade_pages_walk_the_whole_history_newest_first(
    seeded_pool: AsyncConnectionPool, busy_trader: tuple[int, str, str]
) -> None:
    _, address, _ = busy_trader
    seen: list[str] = []
    times: list[str] = []
    after = None
    total = 0
    for _ in range(200):
        trader = (await data_of(seeded_pool, TRADER, {"address": address, "after": after}))[
            "trader"
        ]
        total = trader["trades"]["totalCount"]
        seen += [t["id"] for t in trader["trades"]["nodes"]]
        times += [t["timestamp"] for t in trader["trades"]["nodes"]]
        if not trader["trades"]["pageInfo"]["hasNextPage"]:
            break
        after = trader["trades"]["pageInfo"]["endCursor"]
    assert len(seen) == len(set(seen)) == total
    assert times == sorted(times, reverse=True)

"""The leaderboard's ``tier`` filter over stored boards: FEATURED and ADVANCED select entry
tiers, ACTIVE the traders with a fill in the 7 days before the board's end (so an ADVANCED
trader who stopped trading is not in it), ALL the whole board."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

from db.pool import connect, open_pool
from ingest.fills import Direction, Fill
from ingest.scoring import recompute_leaderboards
from ingest.writer import MarketSpec, upsert_markets, write_fills
from tests.schema.helpers import data_of

AS_OF = datetime(2026, 11, 10, tzinfo=UTC)
QUERY = """
query($tier: LeaderboardTier!) {
  leaderboard(timeframe: MONTH, tier: $tier, first: 10) {
    totalCount nodes { tier trader { address } }
  }
}"""


def _fill(fill_id: str, address: str, days_ago: float) -> Fill:
    return Fill(
        venue="test",
        fill_id=fill_id,
        address=address,
        coin="BTC",
        direction=Direction.BUY,
        size=Decimal(1),
        price=Decimal(100),
        timestamp=AS_OF - timedelta(days=days_ago),
        fee=Decimal(0),
    )


async def test_active_is_who_traded_in_the_last_7_days_whatever_the_entry_tier(
    empty_url: str,
) -> None:
    # given a MONTH board of four traders whose last fills are 1, 2, 5 and 12 days old
    connection = await connect(empty_url)
    await upsert_markets(connection, [MarketSpec("BTC", "test", 5, 40, Decimal(100))])
    ages = {"featured": 1, "advanced-recent": 2, "active": 5, "advanced-stale": 12}
    fills = [_fill(name, name, days) for name, days in ages.items()]
    await write_fills(connection, fills, source="unit", checkpoint="1")
    await recompute_leaderboards(connection, as_of=AS_OF)
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

"""Bad arguments get BAD_USER_INPUT and a message that says what to fix; nothing else breaks."""

from __future__ import annotations

import base64
import json

import pytest
from psycopg_pool import AsyncConnectionPool

from tests.schema.helpers import data_of, execute

FOREIGN_CURSOR = base64.urlsafe_b64encode(json.dumps(["trades", "x", 1]).encode()).decode()


@pytest.mark.parametrize(
    ("query", "message_part"),
    [
        ("{ leaderboard(first: 101) { totalCount } }", "between 1 and 100"),
        ("{ leaderboard(first: 0) { totalCount } }", "between 1 and 100"),
        ("{ leaderboard(first: -5) { totalCount } }", "between 1 and 100"),
        ("{ trades(first: 1000) { totalCount } }", "between 1 and 100"),
        ("{ positions(first: 101) { totalCount } }", "between 1 and 100"),
        ('{ leaderboard(after: "garbage") { totalCount } }', "malformed cursor"),
        ('{ leaderboard(after: "") { totalCount } }', "malformed cursor"),
        (f'{{ leaderboard(after: "{FOREIGN_CURSOR}") {{ totalCount }} }}', "malformed cursor"),
        ('{ trades(after: "%%%") { totalCount } }', "malformed cursor"),
        ('{ positions(after: "e30") { totalCount } }', "malformed cursor"),
        ("{ leaderboard(timeframe: WEEKLY) { totalCount } }", "Did you mean the enum value 'WEEK'"),
        ("{ leaderboard(tier: GOLD) { totalCount } }", "LeaderboardTier"),
        ("{ trades(filter: {actions: [BUY]}) { totalCount } }", "TradeAction"),
        ("{ leaderboard { nope } }", "Cannot query field 'nope'"),
        ('{ leaderboard(first: "ten") { totalCount } }', "Int cannot represent"),
        ("{ leaderboard(", "Syntax Error"),
        ("{ trader { publicId } }", "exactly one of `address` and `publicId`"),
        ('{ trader(address: "0x1", publicId: "#1") { publicId } }', "exactly one"),
        ('{ trader(publicId: "abc") { publicId } }', "must look like #38291"),
        ('{ trader(address: "") { publicId } }', "non-empty"),
        (f'{{ trader(address: "{"a" * 500}") {{ publicId }} }}', "at most 100 characters"),
        ('{ node(id: "not base64!") { id } }', "malformed node id"),
        (
            "{ leaderboard(filter: {netPnl: {min: 10, max: 1}}) { totalCount } }",
            "min (10) is greater than max (1)",
        ),
        ("{ trades(filter: {minNotional: -1}) { totalCount } }", "must be a number >= 0"),
        (
            "{ positions(filter: {unrealizedPnl: {min: 10, max: 1}}) { totalCount } }",
            "`filter.unrealizedPnl`: min (10) is greater than max (1)",
        ),
        (
            '{ positions(filter: {unrealizedPnl: {max: "NaN"}}) { stats { notional } } }',
            "bounds must be finite",
        ),
        (
            '{ positionsSummary(unrealizedPnl: {min: "-Infinity"}) { total { notional } } }',
            "bounds must be finite",
        ),
        (
            '{ coinPnlLeaderboard(coin: "BTC", filter: {totalPnl: {min: 5, max: 1}}) '
            "{ totalCount } }",
            "`filter.totalPnl`: min (5) is greater than max (1)",
        ),
        (
            '{ coinPnlLeaderboard(coin: "BTC", filter: {roi: {min: 2, max: 1}}) { totalCount } }',
            "`filter.roi`: min (2.0) is greater than max (1.0)",
        ),
        (
            '{ coinPnlLeaderboard(coin: "BTC", filter: {netflowUsd: {max: "NaN"}}) '
            "{ totalCount } }",
            "bounds must be finite",
        ),
        ('{ coinPnlLeaderboard(coin: "BTC", after: "e30") { totalCount } }', "malformed cursor"),
        (
            '{ coinPnlLeaderboard(coin: "BTC", orderBy: {field: PNL}) { totalCount } }',
            "CoinPnlOrderField",
        ),
        ('{ coinPnlLeaderboard(coin: "BTC", first: 0) { totalCount } }', "between 1 and 100"),
        (
            "{ marketScreener(filter: {smartMoneyVolume: {min: 9, max: 1}}) { markPrice } }",
            "`filter.smartMoneyVolume`: min (9) is greater than max (1)",
        ),
        (
            "{ marketScreener(filter: {fundingRate: {min: 1, max: 0}}) { markPrice } }",
            "`filter.fundingRate`: min (1.0) is greater than max (0.0)",
        ),
        ("{ marketScreener(orderBy: SIZE) { markPrice } }", "ScreenerOrderField"),
        (
            "{ positionsSummary(unrealizedPnl: {min: 10, max: 1}) { total { notional } } }",
            "`unrealizedPnl`: min (10) is greater than max (1)",
        ),
        (
            '{ leaderboard(filter: {netPnl: {min: "NaN"}}) { totalCount } }',
            "`filter.netPnl` bounds must be finite",
        ),
        (
            '{ trades(filter: {since: "2026-01-02T00:00:00Z", until: "2026-01-01T00:00:00Z"}) '
            "{ totalCount } }",
            "must be before",
        ),
        ('{ trades(filter: {since: "yesterday"}) { totalCount } }', "DateTime"),
        ('{ trades(filter: {minNotional: "lots"}) { totalCount } }', "Decimal"),
        (
            '{ trader(address: "0x1") { trades(first: 500) { totalCount } } }',
            None,  # unknown trader: null, the nested argument is never reached
        ),
    ],
)
async def test_bad_input_is_a_coded_error(
    seeded_pool: AsyncConnectionPool, query: str, message_part: str | None
) -> None:
    _data, errors, _ = await execute(seeded_pool, query)
    if message_part is None:
        assert errors == []
        return
    assert len(errors) == 1, errors
    assert errors[0]["extensions"]["code"] == "BAD_USER_INPUT"
    assert message_part in errors[0]["message"]


async def test_a_too_long_trader_list_is_refused(seeded_pool: AsyncConnectionPool) -> None:
    traders = [f"0x{i:040x}" for i in range(101)]
    _, errors, statements = await execute(
        seeded_pool,
        "query($t: [String!]) { trades(filter: {traders: $t}) { totalCount } }",
        {"t": traders},
    )
    assert errors[0]["extensions"]["code"] == "BAD_USER_INPUT"
    assert "at most 100" in errors[0]["message"]
    assert statements == []


async def test_unknown_objects_are_null_not_errors(seeded_pool: AsyncConnectionPool) -> None:
    data = await data_of(
        seeded_pool,
        """{
          byAddress: trader(address: "0x0000000000000000000000000000000000000000") { publicId }
          byPublicId: trader(publicId: "#1") { publicId }
          market(coin: "NOPE") { coin }
          node(id: "VHJhZGVyOjk5OTk5OTk5") { id }
          unknownType: node(id: "Rm9vOjE=") { id }
        }""",
    )
    assert data == {
        "byAddress": None,
        "byPublicId": None,
        "market": None,
        "node": None,
        "unknownType": None,
    }


async def test_hostile_strings_are_data_not_sql(seeded_pool: AsyncConnectionPool) -> None:
    data = await data_of(
        seeded_pool,
        """query($a: String!, $c: [String!]) {
          trader(address: $a) { publicId }
          trades(filter: {coins: $c}) { totalCount }
          coinPnlLeaderboard(coin: "BTC", filter: {labels: $c, traders: [$a]}) { totalCount }
          byLabel: coinPnlLeaderboard(coin: "BTC'--", filter: {excludeLabels: $c}) {
            totalCount }
        }""",
        {"a": "0x' OR '1'='1", "c": ["BTC'; DROP TABLE trade; --"]},
    )
    assert data == {
        "trader": None,
        "trades": {"totalCount": 0},
        "coinPnlLeaderboard": {"totalCount": 0},
        "byLabel": {"totalCount": 0},
    }
    still_there = await data_of(seeded_pool, "{ trades(first: 1) { totalCount } }")
    assert still_there["trades"]["totalCount"] > 0

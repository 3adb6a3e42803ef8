"""The analytics views on the seeded market: each checked against the tables it summarises."""

from __future__ import annotations

from collections.abc import Iterable
from decimal import Decimal, localcontext
from typing import Any

import psycopg
import pytest
from psycopg_pool import AsyncConnectionPool

from resolvers.cursors import decode_node_id
from tests.schema.helpers import data_of, execute


def exact(*terms: str | Decimal, minus: Iterable[str | Decimal] = ()) -> Decimal:
    """The exact sum of decimal strings (amounts can carry more than 28 digits)."""
    with localcontext() as context:
        context.prec = 100
        return sum((Decimal(t) for t in terms), Decimal(0)) - sum(
            (Decimal(t) for t in minus), Decimal(0)
        )


MARKET_OVERVIEW = """
query MarketOverview($timeframe: Timeframe!) {
  marketOverview(timeframe: $timeframe, topCoins: 100) {
    volume netPnl realizedPnl fees tradeCount activeTraders avgLeverage longVolume shortVolume
    longShare sentiment liquidationCount updatedAt
    topCoins { coin volume volumeShare buyVolume sellVolume tradeCount traderCount netPnl }
    tradersByTimeframe { day week month year allTime }
  }
}
"""


@pytest.mark.parametrize("timeframe", ["DAY", "WEEK", "ALL_TIME"])
async def test_market_overview_adds_up(
    seeded_pool: AsyncConnectionPool, seeded_url: str, timeframe: str
) -> None:
    overview = (await data_of(seeded_pool, MARKET_OVERVIEW, {"timeframe": timeframe}))[
        "marketOverview"
    ]
    coins = overview["topCoins"]
    # the coins add up to the totals, and to the traders' figures on the same board
    assert exact(*(c["volume"] for c in coins)) == Decimal(overview["volume"])
    assert sum(c["tradeCount"] for c in coins) == overview["tradeCount"]
    assert sum(c["volumeShare"] for c in coins) == pytest.approx(1.0)
    assert Decimal(overview["longVolume"]) + Decimal(overview["shortVolume"]) == Decimal(
        overview["volume"]
    )
    for coin in coins:
        assert Decimal(coin["buyVolume"]) + Decimal(coin["sellVolume"]) == Decimal(coin["volume"])
    with psycopg.connect(seeded_url) as connection:
        row = connection.execute(
            "SELECT sum(volume), sum(trade_count), count(*), sum(realized_pnl - fees) "
            "FROM trader_stats WHERE timeframe = %s",
            (timeframe,),
        ).fetchone()
        assert row is not None
        assert (Decimal(overview["volume"]), overview["tradeCount"]) == (row[0], row[1])
        assert overview["activeTraders"] == row[2]
        assert Decimal(overview["netPnl"]) == row[3]
        coin_traders = connection.execute(
            "SELECT count(DISTINCT trader_id) FROM trade WHERE coin = %s AND timestamp > "
            "(SELECT computed_at FROM leaderboard_state WHERE timeframe = 'WEEK') - interval "
            "'7 days'",
            (coins[0]["coin"],),
        ).fetchone()
    if timeframe == "WEEK":
        assert coin_traders is not None
        assert coins[0]["traderCount"] == coin_traders[0]
    boards = overview["tradersByTimeframe"]
    assert boards["day"] <= boards["week"] <= boards["month"] <= boards["allTime"]
    assert overview["sentiment"] in ("BULLISH", "NEUTRAL", "BEARISH")


SCREENER = """
query Screener($order: ScreenerOrderField!) {
  marketScreener(timeframe: WEEK, orderBy: $order) {
    activity { coin volume traderCount } markPrice openInterest longAccounts shortAccounts
    longNotional shortNotional smartMoneyNetFlow
  }
}
"""


async def test_screener_lists_every_coin_with_its_open_book(
    seeded_pool: AsyncConnectionPool, seeded_url: str
) -> None:
    entries = (await data_of(seeded_pool, SCREENER, {"order": "VOLUME"}))["marketScreener"]
    volumes = [Decimal(e["activity"]["volume"]) for e in entries]
    assert volumes == sorted(volumes, reverse=True)
    with psycopg.connect(seeded_url) as connection:
        book: dict[str, Decimal] = dict(
            connection.execute(
                "SELECT coin, sum(notional) FROM position WHERE closed_at IS NULL GROUP BY coin"
            ).fetchall()
        )
    for entry in entries:
        coin = entry["activity"]["coin"]
        total = Decimal(entry["longNotional"]) + Decimal(entry["shortNotional"])
        assert total == book.get(coin, Decimal(0))
    by_smart = (await data_of(seeded_pool, SCREENER, {"order": "SMART_MONEY_NET_FLOW"}))[
        "marketScreener"
    ]
    flows = [Decimal(e["smartMoneyNetFlow"]) for e in by_smart]
    assert flows == sorted(flows, reverse=True)
    assert any(flow != 0 for flow in flows)


COIN_BOARD = """
query CoinBoard($coin: String!, $after: String) {
  coinPnlLeaderboard(coin: $coin, timeframe: ALL_TIME, first: 25, after: $after) {
    totalCount pageInfo { hasNextPage endCursor }
    nodes { rank trader { publicId } realizedPnl fees netPnl unrealizedPnl totalPnl volume
            tradeCount }
  }
}
"""


async def test_coin_pnl_leaderboard_ranks_total_pnl_across_pages(
    seeded_pool: AsyncConnectionPool, seeded_url: str
) -> None:
    # given the seeded market's busiest coin
    with psycopg.connect(seeded_url) as connection:
        top = connection.execute(
            "SELECT coin, sum(coalesce(realized_pnl, 0) - coalesce(fee, 0)), count(*), "
            "count(DISTINCT trader_id) FROM trade GROUP BY coin ORDER BY count(*) DESC LIMIT 1"
        ).fetchone()
    assert top is not None
    # when its whole board is read, a page of 25 at a time
    entries: list[dict[str, Any]] = []
    after = None
    while True:
        variables = {"coin": top[0].lower(), "after": after}
        board = (await data_of(seeded_pool, COIN_BOARD, variables))["coinPnlLeaderboard"]
        entries += board["nodes"]
        if not board["pageInfo"]["hasNextPage"]:
            break
        after = board["pageInfo"]["endCursor"]
    # then the pages follow each other by total PnL, ranks 1..n without a gap
    assert len(entries) > 50
    assert [e["rank"] for e in entries] == list(range(1, len(entries) + 1))
    assert board["totalCount"] == len(entries) >= top[3]
    totals = [Decimal(e["totalPnl"]) for e in entries]
    assert totals == sorted(totals, reverse=True)
    for entry in entries:
        assert Decimal(entry["netPnl"]) == Decimal(entry["realizedPnl"]) - Decimal(entry["fees"])
        assert Decimal(entry["totalPnl"]) == exact(entry["netPnl"], entry["unrealizedPnl"])
    # and they add up to the coin's fills
    assert exact(*(e["netPnl"] for e in entries)) == top[1]
    assert sum(e["tradeCount"] for e in entries) == top[2]


POSITIONS_SUMMARY = """
query Summary($side: Side) {
  positionsSummary(side: $side, top: 3) {
    total { positionCount traderCount notional unrealizedPnl longCount shortCount
            longNotional shortNotional profitableCount losingCount winRate longShortRatio }
    byMarket { coin positionCount notional unrealizedPnl }
    largest { notional } mostProfitable { unrealizedPnl } leastProfitable { unrealizedPnl }
    topTraders { trader { publicId } positionCount notional }
  }
}
"""


async def test_positions_summary_adds_up(seeded_pool: AsyncConnectionPool, seeded_url: str) -> None:
    summary = (await data_of(seeded_pool, POSITIONS_SUMMARY, {}))["positionsSummary"]
    total = summary["total"]
    with psycopg.connect(seeded_url) as connection:
        row = connection.execute(
            "SELECT count(*), sum(notional), max(notional) FROM position WHERE closed_at IS NULL"
        ).fetchone()
    assert row is not None
    assert (total["positionCount"], Decimal(total["notional"])) == (row[0], row[1])
    assert total["longCount"] + total["shortCount"] == total["positionCount"]
    markets = summary["byMarket"]
    assert sum(m["positionCount"] for m in markets) == total["positionCount"]
    assert exact(*(m["notional"] for m in markets)) == Decimal(total["notional"])
    assert exact(*(m["unrealizedPnl"] for m in markets)) == Decimal(total["unrealizedPnl"])
    assert Decimal(summary["largest"][0]["notional"]) == row[2]
    assert len(summary["largest"]) == 3
    best = [Decimal(p["unrealizedPnl"]) for p in summary["mostProfitable"]]
    assert best == sorted(best, reverse=True)
    assert best[0] >= Decimal(summary["leastProfitable"][0]["unrealizedPnl"])
    longs = (await data_of(seeded_pool, POSITIONS_SUMMARY, {"side": "LONG"}))["positionsSummary"]
    assert longs["total"]["positionCount"] == total["longCount"]
    assert longs["total"]["shortCount"] == 0
    winners = (await data_of(seeded_pool, WINNERS))["positionsSummary"]["total"]
    assert winners["positionCount"] == winners["profitableCount"] == total["profitableCount"]


ALL_POSITIONS = """
query($filter: PositionFilter) {
  positions(filter: $filter, first: 100) {
    totalCount
    nodes { coin notional collateral leverage unrealizedPnl }
    stats { positionCount traderCount notional collateral unrealizedPnl longCount shortCount
            longRatio longPnl shortPnl profitableCount losingCount winningPnl losingPnl winRate }
    byMarket { coin positionCount notional collateral unrealizedPnl winningPnl losingPnl }
  }
}"""


async def test_positions_across_traders_carry_their_stats_and_market_breakdown(
    seeded_pool: AsyncConnectionPool, seeded_url: str
) -> None:
    # given the open BTC and ETH positions in profit, asked for as one connection
    winning = {"coins": ["BTC", "ETH"], "profitable": True}
    page = (await data_of(seeded_pool, ALL_POSITIONS, {"filter": winning}))["positions"]
    stats, markets = page["stats"], page["byMarket"]
    with psycopg.connect(seeded_url) as connection:
        row = connection.execute(
            "SELECT count(*), count(DISTINCT trader_id), sum(notional), "
            "sum(notional / leverage::numeric) FILTER (WHERE leverage > 0), sum(unrealized_pnl), "
            "count(*) FILTER (WHERE side = 'LONG') FROM position "
            "WHERE closed_at IS NULL AND coin IN ('BTC', 'ETH') AND unrealized_pnl > 0"
        ).fetchone()
    assert row is not None
    assert row[0] > 0
    # then the stats are those of the whole selection, not of the page
    assert (stats["positionCount"], stats["traderCount"]) == (row[0], row[1])
    assert (Decimal(stats["notional"]), Decimal(stats["collateral"])) == (row[2], row[3])
    assert Decimal(stats["unrealizedPnl"]) == Decimal(stats["winningPnl"]) == row[4]
    assert (stats["losingCount"], Decimal(stats["losingPnl"])) == (0, Decimal(0))
    assert stats["profitableCount"] == page["totalCount"] == row[0]
    assert stats["winRate"] == 1.0
    assert stats["longRatio"] == pytest.approx(row[5] / row[0])
    assert exact(stats["longPnl"], stats["shortPnl"]) == row[4]
    # and the markets break them down and add up to them
    assert {m["coin"] for m in markets} <= {"BTC", "ETH"}
    assert sum(m["positionCount"] for m in markets) == stats["positionCount"]
    for field in ("notional", "collateral", "unrealizedPnl", "winningPnl"):
        assert exact(*(m[field] for m in markets)) == Decimal(stats[field])
    # and every position on the page matches the filter; its collateral is notional / leverage
    for node in page["nodes"]:
        assert node["coin"] in ("BTC", "ETH")
        assert Decimal(node["unrealizedPnl"]) > 0
        if node["leverage"]:
            expected = Decimal(node["notional"]) / Decimal(node["leverage"])
            assert Decimal(node["collateral"]) == pytest.approx(expected, rel=Decimal("1e-12"))
        else:
            assert node["collateral"] is None
    # when the losers within 1,000 USD of even are asked for instead
    losing = {"profitable": False, "unrealizedPnl": {"min": "-1000"}}
    page = (await data_of(seeded_pool, ALL_POSITIONS, {"filter": losing}))["positions"]
    # then only they are counted
    assert page["nodes"]
    assert all(-1000 <= Decimal(n["unrealizedPnl"]) < 0 for n in page["nodes"])
    stats = page["stats"]
    assert (stats["profitableCount"], Decimal(stats["winningPnl"])) == (0, Decimal(0))
    assert stats["losingCount"] == stats["positionCount"] == page["totalCount"]
    assert (
        Decimal(stats["losingPnl"])
        == Decimal(stats["unrealizedPnl"])
        >= -1000 * stats["positionCount"]
    )


WINNERS = """
{ positionsSummary(unrealizedPnl: {min: "0.000001"}) {
    total { positionCount profitableCount } } }
"""

WHALES = """
query Whales($min: Decimal!) {
  whaleTrades(minNotional: $min, first: 100) { totalCount nodes { notional timestamp } }
}
"""

LIQUIDATIONS = """
{ liquidations(first: 100) { stats24h { count volume losses traderCount }
                             trades { totalCount nodes { isLiquidation notional } } } }
"""


async def test_whale_trades_and_liquidations(
    seeded_pool: AsyncConnectionPool, seeded_url: str
) -> None:
    whales = (await data_of(seeded_pool, WHALES, {"min": "50000"}))["whaleTrades"]
    assert whales["nodes"]
    assert all(Decimal(t["notional"]) >= 50_000 for t in whales["nodes"])
    with psycopg.connect(seeded_url) as connection:
        counts = connection.execute(
            "SELECT count(*) FILTER (WHERE notional >= 50000), "
            "count(*) FILTER (WHERE is_liquidation), "
            "count(*) FILTER (WHERE is_liquidation AND timestamp > "
            "(SELECT max(timestamp) FROM trade) - interval '24 hours') FROM trade"
        ).fetchone()
    assert counts is not None
    assert whales["totalCount"] == counts[0]
    liquidations = (await data_of(seeded_pool, LIQUIDATIONS))["liquidations"]
    assert liquidations["trades"]["totalCount"] == counts[1]
    assert all(t["isLiquidation"] for t in liquidations["trades"]["nodes"])
    assert liquidations["stats24h"]["count"] == counts[2]
    assert Decimal(liquidations["stats24h"]["losses"]) >= 0


COMPARE = """
query Compare($traders: [String!]!) {
  compareTraders(traders: $traders, timeframe: WEEK) {
    asked trader { publicId } stats { rank netPnl score } }
  leaderboardUpdatedAt(timeframe: WEEK)
}
"""


async def test_compare_keeps_the_order_asked(
    seeded_pool: AsyncConnectionPool, seeded_url: str
) -> None:
    with psycopg.connect(seeded_url) as connection:
        rows = connection.execute(
            "SELECT t.public_id, s.rank FROM trader_stats s JOIN trader t ON t.id = s.trader_id "
            "WHERE s.timeframe = 'WEEK' ORDER BY s.rank DESC LIMIT 3"
        ).fetchall()
    asked = [r[0] for r in rows] + ["#99999999"]
    data = await data_of(seeded_pool, COMPARE, {"traders": asked})
    compared = data["compareTraders"]
    assert [c["asked"] for c in compared] == asked
    assert [c["stats"]["rank"] if c["stats"] else None for c in compared] == [
        r[1] for r in rows
    ] + [None]
    assert [c["trader"]["publicId"] if c["trader"] else None for c in compared] == [
        *asked[:3],
        None,
    ]
    assert data["leaderboardUpdatedAt"] == "2026-11-01T00:00:00+00:00"


CONSISTENT = """
{ consistentTraders(top: 60, first: 100) {
    averageRank averageScore trader { publicId } boards { timeframe rank } } }
"""


async def test_consistent_traders_rank_on_every_window(seeded_pool: AsyncConnectionPool) -> None:
    data, errors, statements = await execute(seeded_pool, CONSISTENT)
    assert errors == []
    assert data is not None
    traders = data["consistentTraders"]
    assert len(traders) > 3
    # one statement for the boards, one batch for the traders, whatever the number of rows
    assert len(statements) == 2
    for trader in traders:
        boards = trader["boards"]
        assert [b["timeframe"] for b in boards] == ["DAY", "WEEK", "MONTH", "YEAR"]
        assert all(b["rank"] <= 60 for b in boards)
        assert trader["averageRank"] == pytest.approx(sum(b["rank"] for b in boards) / 4)
    averages = [t["averageRank"] for t in traders]
    assert averages == sorted(averages)


PERIODS = """
{ leaderboardPeriods(type: DAILY) { name startsAt endsAt traderCount }
  monthly: leaderboardPeriods(type: MONTHLY) { name traderCount }
  periodLeaderboard(type: MONTHLY, period: "2026-10", first: 5) {
    totalCount updatedAt nodes { rank stats { period timeframe } } }
  missing: periodLeaderboard(type: WEEKLY, period: "2020-W01") { totalCount updatedAt }
  newEntrants(type: DAILY, top: 10) { period periodsCompared entries { rank } }
  snapshotFrequency(top: 10, minAppearances: 2) { total daily weekly monthly bestRank }
}
"""


async def test_fixed_periods_in_the_graph(seeded_pool: AsyncConnectionPool) -> None:
    data = await data_of(seeded_pool, PERIODS)
    daily = data["leaderboardPeriods"]
    assert [p["name"] for p in daily] == [f"2026-10-{d}" for d in range(31, 21, -1)]
    assert data["monthly"][0]["name"] == "2026-10"
    board = data["periodLeaderboard"]
    assert board["totalCount"] == data["monthly"][0]["traderCount"]
    assert [n["rank"] for n in board["nodes"]] == [1, 2, 3, 4, 5]
    assert board["nodes"][0]["stats"] == {"period": "2026-10", "timeframe": "MONTH"}
    assert data["missing"] == {"totalCount": 0, "updatedAt": None}
    entrants = data["newEntrants"]
    assert entrants["period"] == "DAILY:2026-10-31"
    assert entrants["periodsCompared"] == 9
    assert all(e["rank"] <= 10 for e in entrants["entries"])
    for trader in data["snapshotFrequency"]:
        assert trader["total"] == trader["daily"] + trader["weekly"] + trader["monthly"] >= 2
        assert trader["bestRank"] <= 10


ENTRANTS = """
query($period: String, $minNetPnl: Decimal, $order: LeaderboardOrder) {
  newEntrants(type: DAILY, period: $period, top: 20, minNetPnl: $minNetPnl, orderBy: $order,
              first: 100) {
    period periodsCompared entries { rank trader { id } stats { netPnl volume } }
  }
}"""


async def test_new_entrants_of_any_period_filtered_and_ordered(
    seeded_pool: AsyncConnectionPool, seeded_url: str
) -> None:
    # given the seeded daily boards (22 to 31 October)
    async def entrants(**variables: object) -> dict[str, Any]:
        found: dict[str, Any] = (await data_of(seeded_pool, ENTRANTS, variables))["newEntrants"]
        return found

    # when the entrants of 25 October are asked for, by volume, from 0 net PnL up
    order = {"field": "VOLUME", "direction": "DESC"}
    chosen = await entrants(period="2026-10-25", minNetPnl="0", order=order)
    # then they are compared with the three days before it only
    assert (chosen["period"], chosen["periodsCompared"]) == ("DAILY:2026-10-25", 3)
    volumes = [Decimal(e["stats"]["volume"]) for e in chosen["entries"]]
    assert volumes == sorted(volumes, reverse=True)
    assert all(Decimal(e["stats"]["netPnl"]) >= 0 for e in chosen["entries"])
    # and they are exactly the day's top 20 with PnL >= 0 never in an earlier day's top 20
    with psycopg.connect(seeded_url) as connection:
        expected = {
            row[0]
            for row in connection.execute(
                "SELECT s.trader_id FROM trader_stats AS s WHERE s.timeframe = "
                "'DAILY:2026-10-25' AND s.rank <= 20 AND s.net_pnl >= 0 AND NOT EXISTS ("
                "SELECT 1 FROM trader_stats AS e WHERE e.trader_id = s.trader_id AND "
                "e.timeframe IN ('DAILY:2026-10-22', 'DAILY:2026-10-23', 'DAILY:2026-10-24') "
                "AND e.rank <= 20)"
            )
        }
    assert expected
    assert {int(decode_node_id(e["trader"]["id"])[1]) for e in chosen["entries"]} == expected
    # and the first day's entrants are its whole top 20, compared with nothing
    first_day = await entrants(period="2026-10-22")
    assert first_day["periodsCompared"] == 0
    assert [e["rank"] for e in first_day["entries"]] == list(range(1, 21))
    # and a period not snapshotted has none; a malformed one is refused
    assert (await entrants(period="2020-01-01"))["entries"] == []
    _, errors, _ = await execute(seeded_pool, ENTRANTS, {"period": "yesterday"})
    assert errors[0]["extensions"]["code"] == "BAD_USER_INPUT"


SNAPSHOTS = """
query($address: String!) {
  trader(address: $address) {
    latest: periodStats(type: DAILY) { period rank netPnl }
    named: periodStats(type: DAILY, period: "2026-10-25") { period rank }
    monthly: periodStats(type: MONTHLY) { period }
    never: periodStats(type: WEEKLY, period: "2020-W01") { rank }
  }
}"""


async def test_a_traders_period_snapshots(
    seeded_pool: AsyncConnectionPool, seeded_url: str
) -> None:
    # given a trader ranked on both the last daily board and 25 October's
    with psycopg.connect(seeded_url) as connection:
        row = connection.execute(
            "SELECT t.address, a.rank, b.rank, a.net_pnl FROM trader AS t "
            "JOIN trader_stats AS a ON a.trader_id = t.id AND a.timeframe = 'DAILY:2026-10-31' "
            "JOIN trader_stats AS b ON b.trader_id = t.id AND b.timeframe = 'DAILY:2026-10-25' "
            "ORDER BY a.rank LIMIT 1"
        ).fetchone()
    assert row is not None
    # when its period figures are asked for
    data = (await data_of(seeded_pool, SNAPSHOTS, {"address": row[0]}))["trader"]
    # then the latest daily board is 31 October's, the named one 25 October's
    assert data["latest"] == {"period": "2026-10-31", "rank": row[1], "netPnl": str(row[3])}
    assert data["named"] == {"period": "2026-10-25", "rank": row[2]}
    assert data["monthly"] == {"period": "2026-10"}
    assert data["never"] is None


CONSISTENT_ON = """
{ consistentTraders(top: 50, timeframes: [WEEK, DAY], first: 100) {
    averageRank boards { timeframe rank } } }
"""


async def test_consistent_traders_on_the_windows_asked(seeded_pool: AsyncConnectionPool) -> None:
    traders = (await data_of(seeded_pool, CONSISTENT_ON))["consistentTraders"]
    assert traders
    for trader in traders:
        assert [b["timeframe"] for b in trader["boards"]] == ["WEEK", "DAY"]
        assert all(b["rank"] <= 50 for b in trader["boards"])
    _, errors, _ = await execute(
        seeded_pool, "{ consistentTraders(timeframes: []) { averageRank } }"
    )
    assert "at least one board" in errors[0]["message"]


SMART_SCREENER = """
query($filter: ScreenerFilter, $order: ScreenerOrderField!, $direction: OrderDirection!) {
  marketScreener(timeframe: WEEK, filter: $filter, orderBy: $order, direction: $direction) {
    activity { coin volume volumeShare } markPrice previousPrice priceChange openInterest
    openInterestUsd smartMoneyVolume smartMoneyBuyVolume smartMoneySellVolume
    smartMoneyNetFlow smartMoneyTraders smartMoneyLongAccounts smartMoneyShortAccounts
    smartMoneyLongNotional smartMoneyShortNotional
  }
}"""


async def test_screener_smart_money_figures_filters_and_orders(
    seeded_pool: AsyncConnectionPool, seeded_url: str
) -> None:
    # given the seeded market's WEEK board and its SMART_MONEY traders
    async def screen(**variables: object) -> list[dict[str, Any]]:
        variables = {"order": "VOLUME", "direction": "DESC", **variables}
        found: list[dict[str, Any]] = (await data_of(seeded_pool, SMART_SCREENER, variables))[
            "marketScreener"
        ]
        return found

    everything = await screen()
    with psycopg.connect(seeded_url) as connection:
        since = connection.execute(
            "SELECT computed_at - interval '7 days' FROM leaderboard_state WHERE timeframe = 'WEEK'"
        ).fetchone()
        assert since is not None
        flows = {
            row[0]: row[1:]
            for row in connection.execute(
                "SELECT t.coin, sum(t.notional), "
                "coalesce(sum(t.notional) FILTER (WHERE t.direction = 'BUY'), 0), "
                "coalesce(sum(t.notional) FILTER (WHERE t.direction = 'SELL'), 0), "
                "count(DISTINCT t.trader_id) FROM trade AS t JOIN trader_label AS l "
                "ON l.trader_id = t.trader_id AND l.label = 'SMART_MONEY' "
                "WHERE t.timestamp > %s GROUP BY t.coin",
                since,
            )
        }
        books = {
            row[0]: row[1:]
            for row in connection.execute(
                "SELECT p.coin, count(*) FILTER (WHERE p.side = 'LONG'), "
                "count(*) FILTER (WHERE p.side = 'SHORT'), "
                "coalesce(sum(p.notional) FILTER (WHERE p.side = 'LONG'), 0), "
                "coalesce(sum(p.notional) FILTER (WHERE p.side = 'SHORT'), 0) "
                "FROM position AS p JOIN trader_label AS l ON l.trader_id = p.trader_id "
                "AND l.label = 'SMART_MONEY' WHERE p.closed_at IS NULL GROUP BY p.coin"
            )
        }
        first_prices: dict[str, Decimal] = dict(
            connection.execute(
                "SELECT DISTINCT ON (coin) coin, price FROM trade WHERE timestamp > %s "
                "ORDER BY coin, timestamp, id",
                since,
            ).fetchall()
        )
    # then each coin's smart-money figures are those of its labelled traders
    assert flows
    assert sum(float(e["activity"]["volumeShare"]) for e in everything) == pytest.approx(1.0)
    for entry in everything:
        coin = entry["activity"]["coin"]
        volume, bought, sold, traders = flows.get(coin, (0, 0, 0, 0))
        assert Decimal(entry["smartMoneyVolume"]) == volume
        assert (Decimal(entry["smartMoneyBuyVolume"]), Decimal(entry["smartMoneySellVolume"])) == (
            bought,
            sold,
        )
        assert Decimal(entry["smartMoneyNetFlow"]) == bought - sold
        assert entry["smartMoneyTraders"] == traders
        longs, shorts, long_notional, short_notional = books.get(coin, (0, 0, 0, 0))
        assert (entry["smartMoneyLongAccounts"], entry["smartMoneyShortAccounts"]) == (
            longs,
            shorts,
        )
        assert Decimal(entry["smartMoneyLongNotional"]) == long_notional
        assert Decimal(entry["smartMoneyShortNotional"]) == short_notional
        assert Decimal(entry["previousPrice"]) == first_prices[coin]
        mark, previous = Decimal(entry["markPrice"]), Decimal(entry["previousPrice"])
        assert entry["priceChange"] == pytest.approx(float(mark / previous - 1))
        if entry["openInterest"] is None:  # the simulator's markets report none
            assert entry["openInterestUsd"] is None
        else:
            assert Decimal(entry["openInterestUsd"]) == Decimal(entry["openInterest"]) * mark
    # and filters keep the coins in range, orders order them
    threshold = sorted(Decimal(e["smartMoneyVolume"]) for e in everything)[len(everything) // 2]
    busy = await screen(filter={"smartMoneyVolume": {"min": str(threshold)}})
    assert {e["activity"]["coin"] for e in busy} == {
        e["activity"]["coin"] for e in everything if Decimal(e["smartMoneyVolume"]) >= threshold
    }
    by_coin = await screen(order="COIN", direction="ASC", filter={"coins": ["eth", "BTC"]})
    assert [e["activity"]["coin"] for e in by_coin] == ["BTC", "ETH"]
    smart_only = await screen(filter={"onlySmartMoney": True})
    assert {e["activity"]["coin"] for e in smart_only} == set(flows)
    changes = [e["priceChange"] for e in await screen(order="PRICE_CHANGE")]
    assert changes == sorted(changes, reverse=True)


CHART = """
query Chart($coin: String!) {
  chartPositions(coin: $coin, timeframe: WEEK, maxRank: 150) {
    rank position { coin closedAt trader { publicId } } }
}
"""

ACTIVE = """
{ mostActiveTraders(timeframe: WEEK, minTrades: 5, first: 20) {
    nodes { stats { tradeCount } } } }
"""


async def test_chart_positions_and_most_active(
    seeded_pool: AsyncConnectionPool, seeded_url: str
) -> None:
    with psycopg.connect(seeded_url) as connection:
        row = connection.execute(
            "SELECT coin, count(*) FROM position WHERE closed_at IS NULL "
            "GROUP BY coin ORDER BY 2 DESC LIMIT 1"
        ).fetchone()
    assert row is not None
    chart = (await data_of(seeded_pool, CHART, {"coin": row[0]}))["chartPositions"]
    # every trader is within rank 150 of a 150-trader board: every open position shows
    assert len(chart) == row[1]
    assert all(p["position"]["coin"] == row[0] and p["position"]["closedAt"] is None for p in chart)
    ranks = [p["rank"] for p in chart]
    assert ranks == sorted(ranks)
    active = (await data_of(seeded_pool, ACTIVE))["mostActiveTraders"]["nodes"]
    counts = [n["stats"]["tradeCount"] for n in active]
    assert counts == sorted(counts, reverse=True)
    assert min(counts) >= 5


CLOSED_SUMMARY = """
query Closed($trader: String!) {
  closedPositionSummary(trader: $trader) {
    closedPositionCount wins losses winRate realizedPnl fees funding netPnl }
}
"""


async def test_closed_position_summary(seeded_pool: AsyncConnectionPool, seeded_url: str) -> None:
    with psycopg.connect(seeded_url) as connection:
        row = connection.execute(
            "SELECT t.public_id, s.closed_position_count, s.wins, s.losses, s.net_pnl "
            "FROM trader_stats s JOIN trader t ON t.id = s.trader_id "
            "WHERE s.timeframe = 'ALL_TIME' ORDER BY s.rank LIMIT 1"
        ).fetchone()
    assert row is not None
    summary = (await data_of(seeded_pool, CLOSED_SUMMARY, {"trader": row[0]}))[
        "closedPositionSummary"
    ]
    assert (summary["closedPositionCount"], summary["wins"], summary["losses"]) == row[1:4]
    assert summary["wins"] + summary["losses"] == summary["closedPositionCount"]
    assert Decimal(summary["netPnl"]) == Decimal(summary["realizedPnl"]) - Decimal(
        summary["fees"]
    ) + Decimal(summary["funding"])
    unknown = await data_of(seeded_pool, CLOSED_SUMMARY, {"trader": "#99999999"})
    assert unknown["closedPositionSummary"] is None


@pytest.mark.parametrize(
    ("query", "message_part"),
    [
        ("{ compareTraders(traders: []) { asked } }", "1 to 5"),
        (
            '{ compareTraders(traders: ["#1", "#2", "#3", "#4", "#5", "#6"]) { asked } }',
            "1 to 5",
        ),
        ("{ whaleTrades(minNotional: 5) { totalCount } }", "at least 10000"),
        ("{ whaleTrades(first: 101) { totalCount } }", "between 1 and 100"),
        ('{ periodLeaderboard(type: WEEKLY, period: "2026-44") { totalCount } }', "YYYY-Www"),
        ('{ periodLeaderboard(type: MONTHLY, period: "2026-13") { totalCount } }', "YYYY-MM"),
        ("{ positionsSummary(top: 50) { total { positionCount } } }", "between 1 and 20"),
        (
            "{ positionsSummary(unrealizedPnl: {min: 5, max: 1}) { total { positionCount } } }",
            "greater than",
        ),
        ('{ chartPositions(coin: "BTC", maxRank: 0) { rank } }', "between 1 and 500"),
        ("{ consistentTraders(top: 0) { averageRank } }", "between 1 and 1000"),
        ("{ marketOverview(topCoins: 0) { volume } }", "between 1 and 100"),
        ("{ recentActivity(first: 51) { recentlyOpened { id } } }", "between 1 and 50"),
        ('{ leaderboardUpdatedAt(period: "2026-10") }', "give both"),
        ("{ topTraderTrades(maxRank: 101) { totalCount } }", "between 1 and 100"),
        ("{ leaderboard(filter: {sharpe: {min: 2, max: 1}}) { totalCount } }", "greater than"),
        ("{ leaderboard(filter: {maxDrawdown: {min: 5, max: 1}}) { totalCount } }", "greater"),
        ("{ leaderboard(filter: {nope: {min: 1}}) { totalCount } }", "nope"),
    ],
)
async def test_bad_analytics_input(
    seeded_pool: AsyncConnectionPool, query: str, message_part: str
) -> None:
    _, errors, _ = await execute(seeded_pool, query)
    assert len(errors) == 1, errors
    assert message_part in errors[0]["message"]
    if "nope" not in query:
        assert errors[0]["extensions"]["code"] == "BAD_USER_INPUT"


LABELLED = """
query Labelled($labels: [String!]!, $coins: [String!]) {
  leaderboard(timeframe: ALL_TIME, first: 100, filter: {labels: $labels, coins: $coins}) {
    totalCount nodes { trader { labels } stats { score netPnl closedPositionCount coins } }
  }
}
"""


async def test_derived_labels_follow_their_rules(
    seeded_pool: AsyncConnectionPool, seeded_url: str
) -> None:
    board = (await data_of(seeded_pool, LABELLED, {"labels": ["SMART_MONEY"]}))["leaderboard"]
    with psycopg.connect(seeded_url) as connection:
        smart = connection.execute(
            "SELECT count(*) FROM trader_stats WHERE timeframe = 'ALL_TIME' AND score >= 70 "
            "AND net_pnl > 0 AND closed_position_count >= 10"
        ).fetchone()
        coin = connection.execute("SELECT min(coin) FROM trade").fetchone()
    assert smart is not None
    assert coin is not None
    assert board["totalCount"] == smart[0] > 0
    for node in board["nodes"]:
        assert "SMART_MONEY" in node["trader"]["labels"]
        assert node["stats"]["score"] >= 70
        assert Decimal(node["stats"]["netPnl"]) > 0
        assert node["stats"]["closedPositionCount"] >= 10
    # and the coin filter keeps only traders of that coin
    by_coin = await data_of(seeded_pool, LABELLED, {"labels": ["SMART_MONEY"], "coins": [coin[0]]})
    for node in by_coin["leaderboard"]["nodes"]:
        assert coin[0] in node["stats"]["coins"]


FILTERED = """
query Filtered($filter: LeaderboardFilter!, $order: LeaderboardOrder!, $after: String) {
  leaderboard(timeframe: WEEK, filter: $filter, orderBy: $order, first: 7, after: $after) {
    totalCount pageInfo { hasNextPage endCursor }
    nodes { rank stats { sharpe maxDrawdownPct riskLevel riskScore avgLeverage } }
  }
}
"""


async def test_order_by_a_nullable_statistic_and_filter_ranges(
    seeded_pool: AsyncConnectionPool, seeded_url: str
) -> None:
    # given a range on one statistic, a level on another, ordered by a third that can be null
    variables = {
        "filter": {"maxDrawdownPct": {"min": 0, "max": 0.5}, "riskLevels": ["CONSERVATIVE"]},
        "order": {"field": "SHARPE", "direction": "DESC"},
    }
    seen: list[dict[str, object]] = []
    while True:
        board = (await data_of(seeded_pool, FILTERED, variables))["leaderboard"]
        seen.extend(board["nodes"])
        if not board["pageInfo"]["hasNextPage"]:
            break
        variables["after"] = board["pageInfo"]["endCursor"]
    with psycopg.connect(seeded_url) as connection:
        expected = connection.execute(
            "SELECT rank FROM trader_stats WHERE timeframe = 'WEEK' AND max_drawdown_pct "
            "BETWEEN 0 AND 0.5 AND risk_level = 'CONSERVATIVE' "
            "ORDER BY coalesce(sharpe, -1e300) DESC, rank"
        ).fetchall()
    # then keyset pages walk exactly the filtered board, nulls last
    assert [n["rank"] for n in seen] == [r[0] for r in expected]
    assert len(seen) == board["totalCount"] > 7


RECENT = """
{ recentActivity(first: 5) { recentlyOpened { openedAt closedAt } recentlyClosed { closedAt } } }
"""


async def test_recent_activity(seeded_pool: AsyncConnectionPool) -> None:
    recent = (await data_of(seeded_pool, RECENT))["recentActivity"]
    opened = [p["openedAt"] for p in recent["recentlyOpened"]]
    closed = [p["closedAt"] for p in recent["recentlyClosed"]]
    assert len(opened) == len(closed) == 5
    assert opened == sorted(opened, reverse=True)
    assert closed == sorted(closed, reverse=True)
    assert all(p["closedAt"] is None for p in recent["recentlyOpened"])


TOP_TRADES = """
{ topTraderTrades(timeframe: WEEK, maxRank: 3, first: 100) {
    totalCount nodes { timestamp trader { stats(timeframe: WEEK) { rank } } } } }
"""


async def test_top_trader_trades(seeded_pool: AsyncConnectionPool, seeded_url: str) -> None:
    trades = (await data_of(seeded_pool, TOP_TRADES))["topTraderTrades"]
    assert trades["nodes"]
    assert all(t["trader"]["stats"]["rank"] <= 3 for t in trades["nodes"])
    times = [t["timestamp"] for t in trades["nodes"]]
    assert times == sorted(times, reverse=True)
    with psycopg.connect(seeded_url) as connection:
        row = connection.execute(
            "SELECT count(*) FROM trade WHERE trader_id IN (SELECT trader_id FROM trader_stats "
            "WHERE timeframe = 'WEEK' AND rank <= 3)"
        ).fetchone()
    assert row is not None
    assert trades["totalCount"] == row[0]

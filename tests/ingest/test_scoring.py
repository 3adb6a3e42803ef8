"""Leaderboards: ranks 1..n without gaps, figures that add up, windows that cut where they say."""

from __future__ import annotations

from collections import Counter, defaultdict
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import psycopg
import pytest

from db.pool import connect
from ingest.fills import Direction, Fill
from ingest.metrics import (
    SCORE_WEIGHTS,
    Standing,
    capital_base,
    composite_score,
    derived_labels,
    max_drawdown,
    percentile,
    profit_factor,
    rank_key,
    ratio,
    risk_level,
    risk_score,
    sharpe,
    sortino,
    tier,
    zero_filled_days,
)
from ingest.scoring import recompute_leaderboards
from ingest.writer import MarketSpec, upsert_markets, write_fills

AS_OF = datetime(2026, 11, 10, tzinfo=UTC)


def test_every_board_ranks_one_to_n_and_adds_up(seeded_url: str) -> None:
    with psycopg.connect(seeded_url) as connection:
        for timeframe in ("DAY", "WEEK", "MONTH", "YEAR", "ALL_TIME"):
            rows = connection.execute(
                "SELECT rank, score, net_pnl, realized_pnl, fees, funding, wins, losses, "
                "closed_position_count, win_rate, long_pnl, short_pnl, long_volume, "
                "short_volume, volume, risk_score, tier FROM trader_stats "
                "WHERE timeframe = %s ORDER BY rank",
                (timeframe,),
            ).fetchall()
            assert rows, timeframe
            assert [r[0] for r in rows] == list(range(1, len(rows) + 1))
            keys = [(r[1], r[2]) for r in rows]
            assert keys == sorted(keys, reverse=True)
            assert all(0 <= r[1] <= 100 and 0 <= r[15] <= 100 for r in rows)
            for (
                _,
                _,
                net_pnl,
                realized,
                fees,
                funding,
                wins,
                losses,
                closed,
                win_rate,
                long_pnl,
                short_pnl,
                long_volume,
                short_volume,
                volume,
                _,
                _,
            ) in rows:
                assert net_pnl == realized - fees + funding
                assert long_pnl + short_pnl == realized - fees
                assert long_volume + short_volume == volume
                assert wins + losses == closed
                assert (win_rate is None) == (closed == 0)
            traders_with_fills = connection.execute(
                "SELECT count(DISTINCT trader_id) FROM trade WHERE timestamp > "
                "(SELECT computed_at FROM leaderboard_state WHERE timeframe = %s) - %s",
                (timeframe, _length(timeframe)),
            ).fetchone()
            assert traders_with_fills is not None
            assert len(rows) == traders_with_fills[0]
            # and the markets' figures add up to the traders'
            markets = connection.execute(
                "SELECT sum(volume), sum(trade_count), sum(realized_pnl), sum(fees), "
                "sum(buy_volume + sell_volume), sum(long_volume + short_volume) "
                "FROM market_stats WHERE board = %s",
                (timeframe,),
            ).fetchone()
            traders = connection.execute(
                "SELECT sum(volume), sum(trade_count), sum(realized_pnl), sum(fees), "
                "sum(volume), sum(volume) FROM trader_stats WHERE timeframe = %s",
                (timeframe,),
            ).fetchone()
            assert markets == traders


_STANDING = (
    "score, closed_position_count, volume, win_rate, max_drawdown_pct, roi, net_pnl, "
    "open_notional, last_trade_at"
)


@pytest.mark.parametrize("timeframe", ["DAY", "WEEK", "MONTH", "YEAR", "ALL_TIME"])
def test_tiers_and_ranks_follow_the_pure_rules(seeded_url: str, timeframe: str) -> None:
    # given one of the simulated market's boards, every entry
    with psycopg.connect(seeded_url) as connection:
        rows = connection.execute(
            f"SELECT trader_id, tier, rank, computed_at, {_STANDING} FROM trader_stats "
            "WHERE timeframe = %s",
            (timeframe,),
        ).fetchall()
    # then each entry's tier is the one ingest/metrics.py gives its figures
    tiers: Counter[str] = Counter()
    for trader_id, stored_tier, _, as_of, *standing in rows:
        expected = tier(Standing(*standing), as_of)
        assert stored_tier == expected, (trader_id, standing)
        tiers[expected] += 1
    assert tiers["FEATURED"] + tiers["ADVANCED"] > 0 or timeframe == "DAY"
    # and the ranks are the order of (score, net PnL, first seen)
    by_key = sorted(rows, key=lambda r: rank_key(r[4], r[10], r[0]))
    assert [r[2] for r in by_key] == list(range(1, len(rows) + 1))


def test_derived_labels_follow_the_pure_rules(seeded_url: str) -> None:
    # given the simulated market's ALL_TIME board and the labels the last recompute derived
    with psycopg.connect(seeded_url) as connection:
        rows = connection.execute(
            f"SELECT trader_id, {_STANDING} FROM trader_stats WHERE timeframe = 'ALL_TIME'"
        ).fetchall()
        stored = set(connection.execute("SELECT trader_id, label FROM trader_label").fetchall())
    # then they are exactly the ones ingest/metrics.py derives
    expected = {
        (trader_id, label)
        for trader_id, *standing in rows
        for label in derived_labels(Standing(*standing))
    }
    assert stored == expected
    assert {label for _, label in expected} == {"WHALE", "SMART_MONEY"}


@pytest.mark.parametrize("timeframe", ["DAY", "WEEK", "ALL_TIME"])
def test_the_sql_agrees_with_the_pure_formulas(seeded_url: str, timeframe: str) -> None:
    # given one of the simulated market's boards, recompute every seventh trader's figures in
    # Python from the raw trades and positions with ingest/metrics.py
    with psycopg.connect(seeded_url) as connection:
        as_of = connection.execute(
            "SELECT computed_at FROM leaderboard_state WHERE timeframe = %s", (timeframe,)
        ).fetchone()
        assert as_of is not None
        since = as_of[0] - _length(timeframe)
        board = connection.execute(
            "SELECT trader_id, net_pnl, sharpe, sortino, max_drawdown, max_drawdown_pct, "
            "profit_factor, capital, roi, avg_leverage, liquidation_count, "
            "closed_position_count, risk_score, score, score_pnl, score_roi, score_sharpe, "
            "score_win_rate, score_drawdown, days_in_series, risk_level, avg_win, avg_loss, "
            "largest_win, largest_loss FROM trader_stats WHERE timeframe = %s",
            (timeframe,),
        ).fetchall()
        nets = [float(row[1]) for row in board]
        checked = 0
        for row in board[::7]:
            trader_id = row[0]
            days: dict[int, Decimal] = defaultdict(Decimal)
            for timestamp, realized, fee in connection.execute(
                "SELECT timestamp, coalesce(realized_pnl, 0), coalesce(fee, 0) FROM trade "
                "WHERE trader_id = %s AND timestamp > %s AND timestamp <= %s",
                (trader_id, since, as_of[0]),
            ):
                days[int((as_of[0] - timestamp).total_seconds() // 86400)] += realized - fee
            daily = zero_filled_days(dict(days))
            positions = connection.execute(
                "SELECT max_size, entry_price, leverage FROM position WHERE trader_id = %s "
                "AND opened_at <= %s AND (closed_at IS NULL OR closed_at > %s)",
                (trader_id, as_of[0], since),
            ).fetchall()
            capital = capital_base(positions)
            closed_pnls = [
                r[0]
                for r in connection.execute(
                    "SELECT realized_pnl - fees + funding FROM position WHERE trader_id = %s "
                    "AND closed_at > %s AND closed_at <= %s",
                    (trader_id, since, as_of[0]),
                )
            ]
            drawdown = max_drawdown(daily, capital)
            # then the SQL's figures are the formulas' figures
            assert row[19] == len(daily)
            assert row[2] == _approx(sharpe(daily))
            assert row[3] == _approx(sortino(daily))
            assert row[4] == drawdown.amount
            assert row[5] == _approx(drawdown.fraction)
            assert row[6] == _approx(profit_factor(closed_pnls))
            wins = [p for p in closed_pnls if p > 0]
            losses = [p for p in closed_pnls if p <= 0]
            assert row[21] == (pytest.approx(sum(wins) / len(wins)) if wins else None)
            assert row[22] == (pytest.approx(sum(losses) / len(losses)) if losses else None)
            assert row[23] == max(wins, default=None)
            assert row[24] == min((p for p in losses if p < 0), default=None)
            assert row[7] == capital
            assert row[8] == _approx(ratio(row[1], capital))
            risk = risk_score(row[9], row[5], row[10], row[11])
            assert row[12] == pytest.approx(risk)
            assert row[20] == risk_level(risk)
            assert row[14] == pytest.approx(percentile(nets, float(row[1])))
            components = dict(zip(SCORE_WEIGHTS, row[14:19], strict=True))
            assert row[13] == pytest.approx(composite_score(components, row[11]))
            checked += 1
        assert checked > 10 if timeframe != "DAY" else checked > 5


def _approx(value: float | None) -> object:
    return None if value is None else pytest.approx(value, rel=1e-9, abs=1e-9)


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
        "s.win_rate, s.score_pnl, s.score_roi, s.score_sharpe, s.score_win_rate, "
        "s.score_drawdown, s.score_evidence, s.score, s.roi, s.capital, s.max_drawdown, "
        "s.max_drawdown_pct, s.days_in_series, s.dominant_coin, s.tier "
        "FROM trader_stats s JOIN trader t ON t.id = s.trader_id "
        "WHERE timeframe = 'WEEK' ORDER BY rank"
    )
    alice, bob = await cursor.fetchall()
    # alice: +10 realized, 2 fees, one win; capital 1 x 100 at unknown leverage (1x) = 100.
    # Her daily series (days 2, 1, 0) is [8, 0, 0]: a Sharpe; bob's is one day: none.
    assert alice[:8] == ("alice", 1, Decimal(8), Decimal(10), Decimal(2), 1, 0, 1.0)
    assert alice[8:14] == (100.0, 100.0, 100.0, 100.0, 100.0, 0.2)
    assert alice[14] == pytest.approx(20.0)  # 0.2 x 100
    assert alice[15:20] == (0.08, Decimal(100), Decimal(0), 0.0, 3)
    # bob: -5 realized, 2 fees, one loss, drawdown 7 from the 0 peak against 100 of capital
    assert bob[:8] == ("bob", 2, Decimal(-7), Decimal(-5), Decimal(2), 0, 1, 0.0)
    assert bob[8:14] == (0.0, 0.0, 0.0, 0.0, pytest.approx(93.0), 0.2)
    assert bob[14] == pytest.approx(0.2 * 0.15 * 93.0)
    assert bob[15:20] == (-0.07, Decimal(100), Decimal(7), pytest.approx(0.07), 1)
    assert (alice[20], bob[20]) == ("BTC", "BTC")
    # too few closed positions to be FEATURED, too low a score for ADVANCED
    assert (alice[21], bob[21]) == ("ACTIVE", "ACTIVE")
    # and BTC's market figures for the week: alice bought at 100 and sold at 110 (her long),
    # bob sold at 100 and bought back at 105 (his short)
    cursor = await connection.execute(
        "SELECT volume, buy_volume, sell_volume, long_volume, short_volume, trade_count, "
        "trader_count, realized_pnl, fees, net_pnl FROM market_stats "
        "WHERE board = 'WEEK' AND coin = 'BTC'"
    )
    assert await cursor.fetchone() == (
        Decimal(415),
        Decimal(205),
        Decimal(210),
        Decimal(210),
        Decimal(205),
        4,
        2,
        Decimal(5),
        Decimal(4),
        Decimal(1),
    )
    await connection.close()

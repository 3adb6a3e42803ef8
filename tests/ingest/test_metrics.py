"""The metric formulas, table-driven, with expectations worked out by hand in the comments."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from ingest.metrics import (
    Drawdown,
    Standing,
    capital_base,
    composite_score,
    derived_labels,
    evidence,
    max_drawdown,
    percentile,
    profit_factor,
    rank_key,
    risk_level,
    risk_score,
    sharpe,
    sortino,
    tier,
    win_rate,
    zero_filled_days,
)

D = Decimal


@pytest.mark.parametrize(
    ("wins", "closed", "expected"),
    [(3, 4, 0.75), (0, 2, 0.0), (0, 0, None)],
)
def test_win_rate(wins: int, closed: int, expected: float | None) -> None:
    assert win_rate(wins, closed) == expected


@pytest.mark.parametrize(
    ("pnls", "expected"),
    [
        ([D(10), D(-5), D(20), D(-15), D(0)], 1.5),  # (10 + 20) / (5 + 15)
        ([D(10)], None),  # nothing lost: infinite, reported as null
        ([], None),  # nothing closed
        ([D(-4)], 0.0),  # nothing won
    ],
)
def test_profit_factor(pnls: list[Decimal], expected: float | None) -> None:
    assert profit_factor(pnls) == expected


def test_idle_days_count_as_zero() -> None:
    # day 2 (two days ago) lost 3, day 0 (last 24 h) made 5, day 1 was idle
    assert zero_filled_days({0: D(5), 2: D(-3)}) == [D(-3), D(0), D(5)]
    assert zero_filled_days({}) == []


@pytest.mark.parametrize(
    ("daily", "expected"),
    [
        # mean 25/3; sample variance ((5/3)^2 + (40/3)^2 + (35/3)^2) / 2 = 158.33;
        # 8.3333 / 12.5831 x sqrt(365) = 12.6526
        ([D(10), D(-5), D(20)], 12.652577575270804),
        ([D(10)], None),  # one day of history
        ([D(4), D(4)], None),  # no variation
    ],
)
def test_sharpe(daily: list[Decimal], expected: float | None) -> None:
    result = sharpe(daily)
    assert result == (pytest.approx(expected) if expected is not None else None)


@pytest.mark.parametrize(
    ("daily", "expected"),
    [
        # downside deviation sqrt(25 / 3) = 2.8868; 8.3333 / 2.8868 x sqrt(365) = 55.1513
        ([D(10), D(-5), D(20)], 55.15130702591432),
        ([D(10), D(20)], None),  # no losing day
        ([D(-1)], None),  # one day
    ],
)
def test_sortino(daily: list[Decimal], expected: float | None) -> None:
    result = sortino(daily)
    assert result == (pytest.approx(expected) if expected is not None else None)


@pytest.mark.parametrize(
    ("daily", "capital", "expected"),
    [
        # cumulative 100, 50, -50, 30, 230; peak 100 until the last day; worst fall 150 on
        # day 3; the highest equity reached is 1000 + 230
        ([D(100), D(-50), D(-100), D(80), D(200)], D(1000), Drawdown(D(150), 150 / 1230)),
        # losing from the first day: the peak is the starting 0
        ([D(-30), D(10)], D(100), Drawdown(D(30), 0.3)),
        # without capital there is no equity to divide by
        ([D(-30), D(10)], D(0), Drawdown(D(30), None)),
        ([D(5), D(6)], D(10), Drawdown(D(0), 0.0)),
    ],
)
def test_max_drawdown(daily: list[Decimal], capital: Decimal, expected: Drawdown) -> None:
    result = max_drawdown(daily, capital)
    assert result.amount == expected.amount
    if expected.fraction is None:
        assert result.fraction is None
    else:
        assert result.fraction == pytest.approx(expected.fraction)


def test_capital_base_is_the_largest_margin() -> None:
    # 2 x 100 / 10x = 20; 1 x 50 at unknown leverage (1x) = 50
    assert capital_base([(D(2), D(100), 10.0), (D(1), D(50), None)]) == D(50)
    assert capital_base([]) == D(0)


def test_composite_score_blends_and_scales_by_evidence() -> None:
    components = {"pnl": 100.0, "roi": 50.0, "sharpe": 0.0, "win_rate": 60.0, "drawdown": 80.0}
    # 0.30 x 100 + 0.20 x 50 + 0.20 x 0 + 0.15 x 60 + 0.15 x 80 = 61; 3 closed of 5: x 0.6
    assert composite_score(components, 3) == pytest.approx(36.6)
    assert composite_score(components, 12) == pytest.approx(61.0)
    assert evidence(0) == 0.0


@pytest.mark.parametrize(
    ("leverage", "drawdown", "liquidations", "closed", "score", "level"),
    [
        # 40 x 12.5/25 + 35 x 0.2 + 25 x 1/4 = 20 + 7 + 6.25
        (12.5, 0.2, 1, 4, 33.25, "CONSERVATIVE"),
        (50.0, 1.5, 9, 3, 100.0, "AGGRESSIVE"),  # every part capped at 1
        (None, None, 0, 0, 0.0, "CONSERVATIVE"),  # unknown leverage, no history
        (25.0, 0.0, 0, 5, 40.0, "MODERATE"),
    ],
)
def test_risk(
    leverage: float | None,
    drawdown: float | None,
    liquidations: int,
    closed: int,
    score: float,
    level: str,
) -> None:
    result = risk_score(leverage, drawdown, liquidations, closed)
    assert result == pytest.approx(score)
    assert risk_level(result) == level


def test_risk_level_bounds() -> None:
    assert [risk_level(s) for s in (33.99, 34.0, 66.99, 67.0)] == [
        "CONSERVATIVE",
        "MODERATE",
        "MODERATE",
        "AGGRESSIVE",
    ]


@pytest.mark.parametrize(
    ("values", "value", "expected"),
    [([1.0, 2.0, 3.0], 3.0, 100.0), ([1.0, 2.0, 3.0], 1.0, 0.0), ([5.0], 5.0, 100.0)],
)
def test_percentile(values: list[float], value: float, expected: float) -> None:
    assert percentile(values, value) == expected
    assert percentile([1.0, 1.0, 2.0], 1.0) == 0.0  # ties share the lower place


AS_OF = datetime(2026, 11, 10, tzinfo=UTC)
#: A trader passing every FEATURED gate with room to spare; each case below breaks one thing.
EXEMPLARY = Standing(
    score=75.0,
    closed_positions=12,
    volume=D(50_000),
    win_rate=0.6,
    max_drawdown_pct=0.2,
    roi=0.3,
    net_pnl=D(1_500),
    open_notional=D(0),
    last_trade_at=AS_OF - timedelta(days=1),
)


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        ({}, "FEATURED"),
        # each gate at its bound still passes ...
        ({"score": 60.0}, "FEATURED"),
        ({"closed_positions": 5}, "FEATURED"),
        ({"volume": D(10_000)}, "FEATURED"),
        ({"win_rate": 0.30}, "FEATURED"),
        ({"win_rate": 0.90}, "FEATURED"),
        ({"max_drawdown_pct": 0.50}, "FEATURED"),
        # ... and one step past it fails; with a score under 80 the trader falls to ACTIVE
        ({"score": 59.9}, "ACTIVE"),
        ({"closed_positions": 4}, "ACTIVE"),
        ({"volume": D("9999.99")}, "ACTIVE"),
        ({"win_rate": 0.29}, "ACTIVE"),
        ({"win_rate": 0.91}, "ACTIVE"),  # martingale-like: too many wins
        ({"win_rate": None}, "ACTIVE"),
        ({"max_drawdown_pct": 0.51}, "ACTIVE"),
        ({"max_drawdown_pct": None}, "ACTIVE"),  # no capital: drawdown unknown
        ({"roi": 0.0}, "ACTIVE"),
        ({"roi": None}, "ACTIVE"),
        ({"last_trade_at": AS_OF - timedelta(days=3)}, "ACTIVE"),  # 3 days: not within 3
        # a high score with a gate failed is ADVANCED, however long ago it traded
        ({"score": 85.0, "roi": -0.1}, "ADVANCED"),
        ({"score": 80.0, "last_trade_at": AS_OF - timedelta(days=20)}, "ADVANCED"),
        ({"score": 79.9, "last_trade_at": AS_OF - timedelta(days=20)}, "ALL"),
        # no narrower tier: ACTIVE with a fill within 7 days, else ALL
        ({"score": 10.0, "last_trade_at": AS_OF - timedelta(days=6, hours=23)}, "ACTIVE"),
        ({"score": 10.0, "last_trade_at": AS_OF - timedelta(days=7)}, "ALL"),
    ],
)
def test_tier_gates(change: dict[str, object], expected: str) -> None:
    assert tier(replace(EXEMPLARY, **change), AS_OF) == expected  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        ({}, {"SMART_MONEY"}),  # score 75 >= 70, net PnL 1,500 > 0, 12 closed >= 10
        ({"open_notional": D(1_000_000)}, {"SMART_MONEY", "WHALE"}),
        ({"open_notional": D("999999.99"), "volume": D("9999999.99")}, {"SMART_MONEY"}),
        ({"volume": D(10_000_000), "score": 10.0}, {"WHALE"}),
        ({"score": 69.9}, set()),
        ({"net_pnl": D(0)}, set()),
        ({"closed_positions": 9}, set()),
        ({"score": 70.0, "net_pnl": D("0.01"), "closed_positions": 10}, {"SMART_MONEY"}),
    ],
)
def test_derived_labels(change: dict[str, object], expected: set[str]) -> None:
    assert derived_labels(replace(EXEMPLARY, **change)) == expected  # type: ignore[arg-type]


def test_ranks_order_by_score_then_net_pnl_then_first_seen() -> None:
    # (trader id, score, net PnL): 7 and 3 tie on score, 7 has more PnL; 3 and 9 tie on both,
    # so the trader seen first (lower id) goes first
    entries = [(9, 50.0, D(10)), (3, 50.0, D(10)), (7, 50.0, D(20)), (1, 40.0, D(99))]
    ordered = sorted(entries, key=lambda e: rank_key(e[1], e[2], e[0]))
    assert [trader_id for trader_id, _, _ in ordered] == [7, 3, 9, 1]

"""The metric formulas, as pure functions: the reference the set-wise SQL in ``ingest/scoring.py``
reproduces, and what docs/methodology.md defines. Tests compare the two on simulated data.

Amounts are ``Decimal`` (exact); ratios and statistics are ``float``. ``None`` means "not
defined" (no closed position, one day of history, zero capital), never zero.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal

from db.timeframes import ACTIVE_RECENCY

CENT_MILLIONTH = Decimal("1e-8")

#: Daily statistics are annualised with sqrt(365): crypto trades every day of the year.
DAYS_PER_YEAR = 365

#: Composite score weights (they sum to 1); docs/methodology.md explains the choice.
SCORE_WEIGHTS: dict[str, float] = {
    "pnl": 0.30,
    "roi": 0.20,
    "sharpe": 0.20,
    "win_rate": 0.15,
    "drawdown": 0.15,
}
#: Closed positions needed before a score counts in full; fewer scale it down linearly.
FULL_EVIDENCE_CLOSED_POSITIONS = 5

#: Risk score: average leverage at or above this counts as fully risky.
RISK_FULL_LEVERAGE = 25.0
RISK_WEIGHTS: dict[str, float] = {"leverage": 0.40, "drawdown": 0.35, "liquidations": 0.25}
#: Risk levels: below the first bound CONSERVATIVE, below the second MODERATE, else AGGRESSIVE.
RISK_LEVEL_BOUNDS = (34.0, 67.0)

#: ADVANCED: a score at or above this (and not FEATURED).
HIGH_SCORE = 80.0
#: FEATURED: the eligibility gates (MillionScan's six criteria, made explicit) ...
FEATURED_MIN_SCORE = 60.0
FEATURED_MIN_CLOSED_POSITIONS = 5
FEATURED_MIN_VOLUME = 10_000
FEATURED_WIN_RATE_BAND = (0.30, 0.90)
FEATURED_MAX_DRAWDOWN = 0.50
#: ... and a trade this recently. (ACTIVE needs one within ``ACTIVE_RECENCY``.)
FEATURED_RECENCY = timedelta(days=3)

#: Derived labels, from the ALL_TIME board.
WHALE_OPEN_NOTIONAL = 1_000_000
WHALE_VOLUME = 10_000_000
SMART_MONEY_MIN_SCORE = 70.0
SMART_MONEY_MIN_CLOSED_POSITIONS = 10


def ratio(numerator: Decimal, denominator: Decimal) -> float | None:
    """numerator / denominator, or None when the denominator is not positive."""
    if denominator <= 0:
        return None
    return float(numerator / denominator)


def win_rate(wins: int, closed_positions: int) -> float | None:
    """Share of closed positions that won, 0-1; None when none closed."""
    return wins / closed_positions if closed_positions > 0 else None


def profit_factor(position_pnls: Sequence[Decimal]) -> float | None:
    """Gross profit / gross loss over closed positions' net PnL; None when nothing lost
    (the ratio would be infinite) or nothing closed."""
    gross_profit = sum((p for p in position_pnls if p > 0), Decimal(0))
    gross_loss = -sum((p for p in position_pnls if p < 0), Decimal(0))
    return ratio(gross_profit, gross_loss)


def zero_filled_days(active_days: dict[int, Decimal]) -> list[Decimal]:
    """Daily net PnL from the oldest active day to day 0 (the last 24 hours), oldest first.

    ``active_days`` maps "days before the computation" (0 = the last 24 h) to that day's net
    PnL; days without a fill count as 0 so that idle days dilute the mean.
    """
    if not active_days:
        return []
    return [active_days.get(day, Decimal(0)) for day in range(max(active_days), -1, -1)]


def sharpe(daily: Sequence[Decimal]) -> float | None:
    """Annualised Sharpe ratio of daily net PnL (risk-free rate 0): mean / sample standard
    deviation x sqrt(365). None with fewer than 2 days or no variation."""
    n = len(daily)
    if n < 2:
        return None
    values = [float(d) for d in daily]
    mean = sum(values) / n
    variance = sum((v - mean) ** 2 for v in values) / (n - 1)
    if variance <= 1e-18:
        return None
    return mean / math.sqrt(variance) * math.sqrt(DAYS_PER_YEAR)


def sortino(daily: Sequence[Decimal]) -> float | None:
    """Annualised Sortino ratio: mean / downside deviation x sqrt(365), the downside deviation
    being sqrt(sum(min(day, 0)^2) / n). None with fewer than 2 days or no losing day."""
    n = len(daily)
    if n < 2:
        return None
    values = [float(d) for d in daily]
    downside = sum(min(v, 0.0) ** 2 for v in values) / n
    if downside <= 1e-18:
        return None
    return (sum(values) / n) / math.sqrt(downside) * math.sqrt(DAYS_PER_YEAR)


@dataclass(frozen=True, slots=True)
class Drawdown:
    amount: Decimal
    """Largest fall of cumulative net PnL from its running peak (the peak starts at 0), USD."""
    fraction: float | None
    """amount / (capital + the highest peak), 0-1; None without capital."""


def max_drawdown(daily: Sequence[Decimal], capital: Decimal) -> Drawdown:
    """Peak-to-trough of the cumulative daily net PnL curve, in USD and as a share of the
    highest equity reached (capital + the highest cumulative PnL, at least capital)."""
    cumulative = Decimal(0)
    peak = Decimal(0)
    amount = Decimal(0)
    for day in daily:
        cumulative += day
        peak = max(peak, cumulative)
        amount = max(amount, peak - cumulative)
    fraction = float(amount / (capital + peak)) if capital > 0 else None
    return Drawdown(amount, fraction)


def capital_base(positions: Sequence[tuple[Decimal, Decimal, float | None]]) -> Decimal:
    """ROI's capital base: the largest margin one position needed, ``max size x entry price /
    leverage`` over (max size, entry price, leverage) of the positions active in the window;
    leverage 1 when unknown."""
    margins = [
        (size * entry / Decimal(str(leverage if leverage and leverage > 0 else 1))).quantize(
            CENT_MILLIONTH, rounding=ROUND_HALF_UP
        )
        for size, entry, leverage in positions
    ]
    return max(margins, default=Decimal(0))


def evidence(closed_positions: int) -> float:
    """How much of the score counts: closed positions / 5, at most 1."""
    return min(1.0, closed_positions / FULL_EVIDENCE_CLOSED_POSITIONS)


def drawdown_component(fraction: float | None) -> float:
    """100 for no drawdown, 0 for a drawdown of the whole equity (or an unknown one)."""
    return 100.0 * (1.0 - min(fraction, 1.0)) if fraction is not None else 0.0


def composite_score(components: dict[str, float], closed_positions: int) -> float:
    """The 0-100 score: the weighted blend of its 0-100 components, times the evidence factor."""
    blend = sum(SCORE_WEIGHTS[name] * components[name] for name in SCORE_WEIGHTS)
    return evidence(closed_positions) * blend


def risk_score(
    avg_leverage: float | None, drawdown_fraction: float | None, liquidations: int, closed: int
) -> float:
    """0-100, lower is safer: leverage (avg / 25, capped), drawdown fraction (capped at 1) and
    liquidation rate (liquidation fills per closed position, capped at 1), weighted 40/35/25."""
    leverage_part = min((avg_leverage or 0.0) / RISK_FULL_LEVERAGE, 1.0)
    drawdown_part = min(drawdown_fraction or 0.0, 1.0)
    liquidation_part = min(liquidations / max(closed, 1), 1.0)
    return 100.0 * (
        RISK_WEIGHTS["leverage"] * leverage_part
        + RISK_WEIGHTS["drawdown"] * drawdown_part
        + RISK_WEIGHTS["liquidations"] * liquidation_part
    )


def risk_level(score: float) -> str:
    """CONSERVATIVE below 34, MODERATE below 67, AGGRESSIVE from 67."""
    if score < RISK_LEVEL_BOUNDS[0]:
        return "CONSERVATIVE"
    if score < RISK_LEVEL_BOUNDS[1]:
        return "MODERATE"
    return "AGGRESSIVE"


def percentile(values: Sequence[float], value: float) -> float:
    """100 x percent_rank: the share of the other entries strictly below ``value``; a board of
    one scores 100 (as Postgres' percent_rank, except for that case)."""
    if len(values) <= 1:
        return 100.0
    below = sum(1 for v in values if v < value)
    return 100.0 * below / (len(values) - 1)


@dataclass(frozen=True, slots=True)
class Standing:
    """What a trader's tier and derived labels depend on, from one board."""

    score: float
    closed_positions: int
    volume: Decimal
    win_rate: float | None
    max_drawdown_pct: float | None
    roi: float | None
    net_pnl: Decimal
    open_notional: Decimal
    last_trade_at: datetime


def is_featured(standing: Standing, as_of: datetime) -> bool:
    """Every eligibility gate passed, and a fill in the last 3 days. An unknown drawdown
    (no capital) fails the drawdown gate, an unknown win rate or ROI fails theirs."""
    s = standing
    low, high = FEATURED_WIN_RATE_BAND
    drawdown = s.max_drawdown_pct if s.max_drawdown_pct is not None else 1.0
    return (
        s.score >= FEATURED_MIN_SCORE
        and s.closed_positions >= FEATURED_MIN_CLOSED_POSITIONS
        and s.volume >= FEATURED_MIN_VOLUME
        and s.win_rate is not None
        and low <= s.win_rate <= high
        and drawdown <= FEATURED_MAX_DRAWDOWN
        and s.roi is not None
        and s.roi > 0
        and s.last_trade_at > as_of - FEATURED_RECENCY
    )


def is_active(last_trade_at: datetime, as_of: datetime) -> bool:
    """A fill in the 7 days before the board's end: the ACTIVE pool a filter asks for."""
    return last_trade_at > as_of - ACTIVE_RECENCY


def tier(standing: Standing, as_of: datetime) -> str:
    """The narrowest tier: FEATURED, else ADVANCED (score >= 80), else ACTIVE, else ALL."""
    if is_featured(standing, as_of):
        return "FEATURED"
    if standing.score >= HIGH_SCORE:
        return "ADVANCED"
    if is_active(standing.last_trade_at, as_of):
        return "ACTIVE"
    return "ALL"


def derived_labels(all_time: Standing) -> set[str]:
    """WHALE: open notional >= 1,000,000 or volume >= 10,000,000 USD. SMART_MONEY: score >= 70,
    net PnL > 0 and at least 10 closed positions. Both from the ALL_TIME board."""
    labels: set[str] = set()
    if all_time.open_notional >= WHALE_OPEN_NOTIONAL or all_time.volume >= WHALE_VOLUME:
        labels.add("WHALE")
    if (
        all_time.score >= SMART_MONEY_MIN_SCORE
        and all_time.net_pnl > 0
        and all_time.closed_positions >= SMART_MONEY_MIN_CLOSED_POSITIONS
    ):
        labels.add("SMART_MONEY")
    return labels


def rank_key(score: float, net_pnl: Decimal, trader_id: int) -> tuple[float, Decimal, int]:
    """Ranks sort on this, ascending: score, then net PnL (both highest first), then the
    trader perpgraph saw first (lower id)."""
    return (-score, -net_pnl, trader_id)

"""TraderStats: one trader's figures over one window, as the scoring job last computed them."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

import strawberry

from loaders.rows import TraderStatsRow
from schema.enums import LeaderboardTier, RiskLevel, Side, Timeframe


@strawberry.type(
    description="Why a trader scores what it scores: the 0-100 components of `score`. "
    "score = evidence x (0.30 pnl + 0.20 roi + 0.20 sharpe + 0.15 winRate + 0.15 drawdown)."
)
class ScoreComponents:
    pnl: float = strawberry.field(
        description="Percentile of net PnL on this board, 0-100 (weight 0.30)."
    )
    roi: float = strawberry.field(description="Percentile of ROI on this board (weight 0.20).")
    sharpe: float = strawberry.field(
        description="Percentile of the Sharpe ratio on this board; no Sharpe ranks lowest "
        "(weight 0.20)."
    )
    win_rate: float = strawberry.field(
        description="100 x win rate; 0 when nothing closed (weight 0.15)."
    )
    drawdown: float = strawberry.field(
        description="100 x (1 - maxDrawdownPct), 0 when the drawdown took the whole equity "
        "(weight 0.15)."
    )
    evidence: float = strawberry.field(
        description="Multiplier 0-1: closed positions / 5, at most 1. Few closed positions "
        "prove little, so they scale the score down."
    )


@strawberry.type(
    description="A trader's statistics over one rolling window (or fixed period). Amounts are "
    "USD decimal strings; ratios are floats. docs/methodology.md defines each figure."
)
class TraderStats:
    timeframe: Timeframe = strawberry.field(
        description="The window these figures cover (for a fixed period's board, the window "
        "of the same length: DAY, WEEK or MONTH)."
    )
    period: str | None = strawberry.field(
        description="The fixed period these figures cover (e.g. 2026-W44); null for a "
        "rolling window."
    )
    realized_pnl: Decimal = strawberry.field(
        description="PnL realized by fills in the window, gross of fees."
    )
    unrealized_pnl: Decimal = strawberry.field(
        description="Unrealized PnL of the positions open now, at the latest marks."
    )
    fees: Decimal = strawberry.field(description="Fees paid in the window.")
    funding: Decimal = strawberry.field(
        description="Funding received (positive) or paid (negative) by positions closed in "
        "the window."
    )
    net_pnl: Decimal = strawberry.field(description="realizedPnl - fees + funding.")
    roi: float | None = strawberry.field(
        description="netPnl / capital, as a fraction (0.12 = 12%); null when capital is 0."
    )
    capital: Decimal = strawberry.field(
        description="ROI's capital base: the largest margin one position active in the window "
        "needed (max size x entry / leverage), USD."
    )
    volume: Decimal = strawberry.field(description="Traded notional in the window.")
    long_volume: Decimal = strawberry.field(description="Notional of fills on long positions.")
    short_volume: Decimal = strawberry.field(description="Notional of fills on short positions.")
    long_pnl: Decimal = strawberry.field(
        description="Realized PnL minus fees of fills that reduced long positions (plus the "
        "fees of fills that added to them)."
    )
    short_pnl: Decimal = strawberry.field(
        description="The same for short positions; longPnl + shortPnl = realizedPnl - fees."
    )
    dominant_side: Side = strawberry.field(
        description="The side with more volume in the window (LONG on a tie)."
    )
    dominant_coin: str | None = strawberry.field(
        description="The coin with the most volume in the window (alphabetical on a tie)."
    )
    coins: list[str] = strawberry.field(
        description="Coins traded in the window, most volume first."
    )
    trade_count: int = strawberry.field(description="Fills in the window.")
    closed_position_count: int = strawberry.field(description="Positions closed in the window.")
    wins: int = strawberry.field(
        description="Positions closed in the window with positive net PnL (after fees)."
    )
    losses: int = strawberry.field(
        description="Positions closed in the window with zero or negative net PnL."
    )
    win_rate: float | None = strawberry.field(
        description="wins / closedPositionCount, 0-1; null when nothing closed."
    )
    profit_factor: float | None = strawberry.field(
        description="Gross profit / gross loss of positions closed in the window; null when "
        "none lost (it would be infinite) or none closed."
    )
    avg_win: Decimal | None = strawberry.field(
        description="Mean net PnL of the winning positions; null without one."
    )
    avg_loss: Decimal | None = strawberry.field(
        description="Mean net PnL of the losing positions (<= 0); null without one."
    )
    largest_win: Decimal | None = strawberry.field(
        description="Best net PnL of a position closed in the window; null without a win."
    )
    largest_loss: Decimal | None = strawberry.field(
        description="Worst (most negative) net PnL of a position closed in the window; null "
        "without a negative one."
    )
    sharpe: float | None = strawberry.field(
        description="Annualised Sharpe ratio of daily trading PnL (realized - fees; idle days "
        "count as 0); null with fewer than 2 days of history or no variation."
    )
    sortino: float | None = strawberry.field(
        description="Annualised Sortino ratio of daily trading PnL (realized - fees); null with "
        "fewer than 2 days or no losing day."
    )
    days_in_series: int = strawberry.field(
        description="Days in the daily PnL series behind Sharpe, Sortino and drawdown."
    )
    max_drawdown: Decimal = strawberry.field(
        description="Largest fall of cumulative daily trading PnL from its running peak, USD "
        "(>= 0)."
    )
    max_drawdown_pct: float | None = strawberry.field(
        description="Largest (peak - trough) / (capital + peak), 0-1; null without capital."
    )
    avg_leverage: float | None = strawberry.field(
        description="Mean leverage of positions active in the window; null when unknown."
    )
    max_leverage: float | None = strawberry.field(
        description="Highest leverage of positions active in the window; null when unknown."
    )
    avg_hold_seconds: float | None = strawberry.field(
        description="Mean time from open to close of positions closed in the window, seconds."
    )
    liquidation_count: int = strawberry.field(description="Liquidation fills in the window.")
    open_position_count: int = strawberry.field(description="Positions open now.")
    open_notional: Decimal = strawberry.field(
        description="Notional of the positions open now, USD."
    )
    risk_score: float = strawberry.field(
        description="0-100, lower is safer: 40% leverage (average / 25x), 35% drawdown, 25% "
        "liquidation rate."
    )
    risk_level: RiskLevel = strawberry.field(description="riskScore in three bands.")
    score: float = strawberry.field(
        description="Composite score 0-100; `scoreComponents` shows how it was made."
    )
    score_components: ScoreComponents = strawberry.field(
        description="The components of `score`, each 0-100, and the evidence multiplier."
    )
    rank: int = strawberry.field(
        description="Place on this board, 1 is best: by score, then net PnL, then the trader "
        "seen first."
    )
    tier: LeaderboardTier = strawberry.field(description="The narrowest tier the trader is in.")
    last_trade_at: datetime | None = strawberry.field(description="Time of the last fill.")
    computed_at: datetime = strawberry.field(
        description="When these figures were computed (the end of the window)."
    )

    @classmethod
    def from_row(cls, row: TraderStatsRow) -> TraderStats:
        timeframe, period = board_of(row.timeframe)
        return cls(
            timeframe=timeframe,
            period=period,
            realized_pnl=row.realized_pnl,
            unrealized_pnl=row.unrealized_pnl,
            fees=row.fees,
            funding=row.funding,
            net_pnl=row.net_pnl,
            roi=row.roi,
            capital=row.capital,
            volume=row.volume,
            long_volume=row.long_volume,
            short_volume=row.short_volume,
            long_pnl=row.long_pnl,
            short_pnl=row.short_pnl,
            dominant_side=Side(row.dominant_side),
            dominant_coin=row.dominant_coin,
            coins=list(row.coins),
            trade_count=row.trade_count,
            closed_position_count=row.closed_position_count,
            wins=row.wins,
            losses=row.losses,
            win_rate=row.win_rate,
            profit_factor=row.profit_factor,
            avg_win=row.avg_win,
            avg_loss=row.avg_loss,
            largest_win=row.largest_win,
            largest_loss=row.largest_loss,
            sharpe=row.sharpe,
            sortino=row.sortino,
            days_in_series=row.days_in_series,
            max_drawdown=row.max_drawdown,
            max_drawdown_pct=row.max_drawdown_pct,
            avg_leverage=row.avg_leverage,
            max_leverage=row.max_leverage,
            avg_hold_seconds=row.avg_hold_seconds,
            liquidation_count=row.liquidation_count,
            open_position_count=row.open_position_count,
            open_notional=row.open_notional,
            risk_score=row.risk_score,
            risk_level=RiskLevel(row.risk_level),
            score=row.score,
            score_components=ScoreComponents(
                pnl=row.score_pnl,
                roi=row.score_roi,
                sharpe=row.score_sharpe,
                win_rate=row.score_win_rate,
                drawdown=row.score_drawdown,
                evidence=row.score_evidence,
            ),
            rank=row.rank,
            tier=LeaderboardTier(row.tier),
            last_trade_at=row.last_trade_at,
            computed_at=row.computed_at,
        )


_PERIOD_TIMEFRAMES = {"DAILY": Timeframe.DAY, "WEEKLY": Timeframe.WEEK, "MONTHLY": Timeframe.MONTH}


def board_of(key: str) -> tuple[Timeframe, str | None]:
    """A board key's window, and its period when it is a fixed period ('WEEKLY:2026-W44')."""
    if ":" in key:
        period_type, period = key.split(":", 1)
        return _PERIOD_TIMEFRAMES[period_type], period
    return Timeframe[key], None

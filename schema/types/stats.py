"""TraderStats: one trader's figures over one window, as the scoring job last computed them."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

import strawberry

from loaders.rows import TraderStatsRow
from schema.enums import LeaderboardTier, Timeframe


@strawberry.type(
    description="A trader's statistics over one rolling window. Amounts are USD decimal "
    "strings; ratios are floats. docs/methodology.md defines each figure."
)
class TraderStats:
    timeframe: Timeframe = strawberry.field(description="The window these figures cover.")
    realized_pnl: Decimal = strawberry.field(
        description="PnL realized by fills in the window, gross of fees."
    )
    unrealized_pnl: Decimal = strawberry.field(
        description="Unrealized PnL of the positions open now, at the latest marks."
    )
    fees: Decimal = strawberry.field(description="Fees paid in the window.")
    funding: Decimal = strawberry.field(
        description="Funding received (positive) or paid (negative) in the window."
    )
    net_pnl: Decimal = strawberry.field(description="realizedPnl - fees + funding.")
    volume: Decimal = strawberry.field(description="Traded notional in the window.")
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
    liquidation_count: int = strawberry.field(description="Liquidation fills in the window.")
    open_position_count: int = strawberry.field(description="Positions open now.")
    score: float = strawberry.field(
        description="0-100: the trader's percentile of net PnL on this window's board."
    )
    rank: int = strawberry.field(
        description="Place on this window's board by net PnL, 1 is best; ties go to the "
        "trader seen first."
    )
    tier: LeaderboardTier = strawberry.field(description="The narrowest tier the trader is in.")
    last_trade_at: datetime | None = strawberry.field(description="Time of the last fill.")
    computed_at: datetime = strawberry.field(description="When these figures were computed.")

    @classmethod
    def from_row(cls, row: TraderStatsRow) -> TraderStats:
        return cls(
            timeframe=Timeframe(row.timeframe),
            realized_pnl=row.realized_pnl,
            unrealized_pnl=row.unrealized_pnl,
            fees=row.fees,
            funding=row.funding,
            net_pnl=row.net_pnl,
            volume=row.volume,
            trade_count=row.trade_count,
            closed_position_count=row.closed_position_count,
            wins=row.wins,
            losses=row.losses,
            win_rate=row.win_rate,
            liquidation_count=row.liquidation_count,
            open_position_count=row.open_position_count,
            score=row.score,
            rank=row.rank,
            tier=LeaderboardTier(row.tier),
            last_trade_at=row.last_trade_at,
            computed_at=row.computed_at,
        )

"""Positions in aggregate, and the page of positions across all traders that carries them
(PerpsTracker's positions/all: the positions, their stats and a per-market breakdown)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from decimal import Decimal

import strawberry

from resolvers.positions import PositionsAggregateRow
from schema.connection import Connection
from schema.types.position import Position


@strawberry.type(description="Positions in aggregate (open ones unless a filter says otherwise).")
class PositionsAggregate:
    coin: str | None = strawberry.field(description="The market; null for all markets.")
    position_count: int = strawberry.field(description="Positions.")
    trader_count: int = strawberry.field(description="Traders holding them.")
    notional: Decimal = strawberry.field(description="Their notional, USD.")
    collateral: Decimal = strawberry.field(
        description="Their margin, USD: notional / leverage, summed over the positions whose "
        "leverage is known."
    )
    unrealized_pnl: Decimal = strawberry.field(description="Their unrealized PnL, USD.")
    avg_leverage: float | None = strawberry.field(description="Mean leverage, when known.")
    long_count: int = strawberry.field(description="Longs.")
    short_count: int = strawberry.field(description="Shorts.")
    long_ratio: float | None = strawberry.field(
        description="longCount / positionCount, 0-1; null without positions."
    )
    long_notional: Decimal = strawberry.field(description="Notional of longs, USD.")
    short_notional: Decimal = strawberry.field(description="Notional of shorts, USD.")
    long_short_ratio: float | None = strawberry.field(
        description="longNotional / shortNotional; null without shorts."
    )
    long_pnl: Decimal = strawberry.field(description="Unrealized PnL of longs, USD.")
    short_pnl: Decimal = strawberry.field(description="Unrealized PnL of shorts, USD.")
    profitable_count: int = strawberry.field(description="Positions in profit now.")
    losing_count: int = strawberry.field(description="Positions at a loss now.")
    winning_pnl: Decimal = strawberry.field(
        description="Unrealized PnL of the positions in profit, USD (>= 0)."
    )
    losing_pnl: Decimal = strawberry.field(
        description="Unrealized PnL of the positions at a loss, USD (<= 0)."
    )
    win_rate: float | None = strawberry.field(
        description="profitableCount / positionCount, 0-1; null without positions."
    )

    @classmethod
    def from_row(cls, row: PositionsAggregateRow) -> PositionsAggregate:
        count = row.position_count
        return cls(
            coin=row.coin,
            position_count=count,
            trader_count=row.trader_count,
            notional=row.notional,
            collateral=row.collateral,
            unrealized_pnl=row.unrealized_pnl,
            avg_leverage=row.avg_leverage,
            long_count=row.long_count,
            short_count=row.short_count,
            long_ratio=row.long_count / count if count else None,
            long_notional=row.long_notional,
            short_notional=row.short_notional,
            long_short_ratio=float(row.long_notional / row.short_notional)
            if row.short_notional > 0
            else None,
            long_pnl=row.long_pnl,
            short_pnl=row.short_pnl,
            profitable_count=row.profitable_count,
            losing_count=row.losing_count,
            winning_pnl=row.winning_pnl,
            losing_pnl=row.losing_pnl,
            win_rate=row.profitable_count / count if count else None,
        )


@strawberry.type(
    description="One page of positions across all traders, with the whole selection's stats "
    "and per-market breakdown (PerpsTracker's positions/all)."
)
class AllPositionsConnection(Connection[Position]):
    _total: strawberry.Private[Callable[[], Awaitable[PositionsAggregateRow]]]
    _by_market: strawberry.Private[Callable[[], Awaitable[list[PositionsAggregateRow]]]]

    @strawberry.field(
        description="Every position the filter selects (all pages) in aggregate. One extra "
        "query, run only when asked."
    )
    async def stats(self) -> PositionsAggregate:
        return PositionsAggregate.from_row(await self._total())

    @strawberry.field(
        description="The same per market, largest notional first; they add up to `stats`. "
        "One extra query, run only when asked."
    )
    async def by_market(self) -> list[PositionsAggregate]:
        return [PositionsAggregate.from_row(row) for row in await self._by_market()]

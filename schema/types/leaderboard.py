"""LeaderboardEntry and its connection."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import datetime
from decimal import Decimal

import strawberry

from resolvers.context import Context
from resolvers.leaderboard import (
    BoardTotalsRow,
    LeaderboardQuery,
    LeaderboardRow,
    leaderboard_count,
    leaderboard_page,
    leaderboard_totals,
    leaderboard_updated_at,
)
from schema.connection import Connection, to_connection
from schema.enums import LeaderboardOrderField, LeaderboardTier, OrderDirection, Timeframe
from schema.inputs import LeaderboardFilter, LeaderboardOrder
from schema.types.stats import TraderStats
from schema.types.trader import Trader


@strawberry.type(description="A trader's place on one window's board.")
class LeaderboardEntry:
    rank: int = strawberry.field(description="Place on the board, 1 is best.")
    score: float = strawberry.field(description="Score, 0-100.")
    tier: LeaderboardTier = strawberry.field(description="The narrowest tier the trader is in.")
    trader: Trader = strawberry.field(description="The trader.")
    stats: TraderStats = strawberry.field(description="The trader's figures in this window.")

    @classmethod
    def from_row(cls, row: LeaderboardRow) -> LeaderboardEntry:
        return cls(
            rank=row.stats.rank,
            score=row.stats.score,
            tier=LeaderboardTier(row.stats.tier),
            trader=Trader.from_row(row.trader),
            stats=TraderStats.from_row(row.stats),
        )


@strawberry.type(
    description="Every entry a leaderboard's filter selects (all pages) in aggregate "
    "(PerpsTracker's board stats)."
)
class BoardTotals:
    trader_count: int = strawberry.field(description="Traders.")
    volume: Decimal = strawberry.field(description="Their volume in the window, USD.")
    realized_pnl: Decimal = strawberry.field(description="Their realized PnL, USD.")
    net_pnl: Decimal = strawberry.field(description="Their net PnL, USD.")
    avg_win_rate: float | None = strawberry.field(
        description="Mean of their win rates, 0-1 (traders without a closed position left out)."
    )
    avg_leverage: float | None = strawberry.field(
        description="Mean of their average leverage, where known."
    )


@strawberry.type(description="One page of a window's leaderboard.")
class LeaderboardConnection(Connection[LeaderboardEntry]):
    timeframe: Timeframe = strawberry.field(description="The window this board ranks.")
    _updated_at: strawberry.Private[Callable[[], Awaitable[datetime | None]]]
    _totals: strawberry.Private[Callable[[], Awaitable[BoardTotalsRow]]]

    @strawberry.field(
        description="Every entry the filter selects (all pages) in aggregate: traders, volume, "
        "PnL, mean win rate and leverage. One extra query, run only when asked."
    )
    async def stats(self) -> BoardTotals:
        row = await self._totals()
        return BoardTotals(
            trader_count=row.trader_count,
            volume=row.volume,
            realized_pnl=row.realized_pnl,
            net_pnl=row.net_pnl,
            avg_win_rate=row.avg_win_rate,
            avg_leverage=row.avg_leverage,
        )

    @strawberry.field(
        description="When the board was last recomputed (UTC); null before the first time. "
        "Boards are recomputed on a schedule, not per request."
    )
    async def updated_at(self) -> datetime | None:
        return await self._updated_at()


async def board_connection(
    context: Context,
    board: str,
    timeframe: Timeframe,
    tier: LeaderboardTier,
    filter: LeaderboardFilter | None,
    order_by: LeaderboardOrder | None,
    first: int,
    after: str | None,
) -> LeaderboardConnection:
    """One page of board ``board`` (a timeframe name or a fixed period key), filtered and
    ordered; by rank when no order is given."""
    order = order_by or LeaderboardOrder(
        field=LeaderboardOrderField.RANK, direction=OrderDirection.ASC
    )
    query = LeaderboardQuery(
        timeframe=board,
        tier=tier.name,
        order_field=order.field.name,
        descending=order.direction is OrderDirection.DESC,
        first=first,
        after=after,
    )
    if filter is not None:
        query = filter.apply(query)
    page = await leaderboard_page(context, query)
    connection = to_connection(
        page, LeaderboardEntry.from_row, lambda: leaderboard_count(context, query)
    )
    return LeaderboardConnection(
        edges=connection.edges,
        page_info=connection.page_info,
        nodes=connection.nodes,
        _count=connection._count,
        timeframe=timeframe,
        _updated_at=lambda: leaderboard_updated_at(context, board),
        _totals=lambda: leaderboard_totals(context, query),
    )

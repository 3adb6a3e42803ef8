"""Trader: an account, its statistics, open and closed positions, and trades."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Annotated

import strawberry

from loaders.rows import TraderRow
from resolvers.analytics import period_key
from resolvers.context import Context
from resolvers.cursors import encode_node_id
from resolvers.positions import closed_positions_of_trader
from resolvers.trades import trades_of_trader
from schema.connection import After, Connection, PageSize, to_connection
from schema.enums import PeriodType, Timeframe
from schema.inputs import TradeFilter
from schema.node import Node
from schema.types.stats import TraderStats

if TYPE_CHECKING:
    from schema.types.position import Position
    from schema.types.trade import Trade

PositionType = Annotated["Position", strawberry.lazy("schema.types.position")]
TradeType = Annotated["Trade", strawberry.lazy("schema.types.trade")]


@strawberry.type(description="A trading account on a venue, known by a pseudonymous public id.")
class Trader(Node):
    public_id: str = strawberry.field(
        description="Stable pseudonymous id, e.g. #38291: random, so it reveals nothing of "
        "when the trader was first seen."
    )
    address: str = strawberry.field(description="The account address on the venue.")
    venue: str = strawberry.field(description="The venue, e.g. hyperliquid.")
    label: str | None = strawberry.field(description="A human label, when one is known.")
    first_seen_at: datetime = strawberry.field(
        description="When perpgraph first saw the trader: its first fill ingested, or the "
        "venue snapshot or leaderboard that named it first."
    )
    last_trade_at: datetime | None = strawberry.field(description="Time of the latest fill.")
    display_name: str | None = strawberry.field(
        description="The name the venue's leaderboard shows for the account, when it has one."
    )
    account_value: Decimal | None = strawberry.field(
        description="Account value (equity, USD) from the venue's latest account snapshot or "
        "leaderboard; null until one is ingested."
    )
    account_value_at: datetime | None = strawberry.field(
        description="When the venue took `accountValue`; null when its source does not say "
        "(a recorded leaderboard)."
    )
    _row: strawberry.Private[TraderRow]

    @classmethod
    def from_row(cls, row: TraderRow) -> Trader:
        return cls(
            id=strawberry.ID(encode_node_id("Trader", row.id)),
            public_id=row.public_id,
            address=row.address,
            venue=row.venue,
            label=row.label,
            first_seen_at=row.first_seen_at,
            last_trade_at=row.last_trade_at,
            display_name=row.display_name,
            account_value=row.account_value,
            account_value_at=row.account_value_at,
            _row=row,
        )

    @strawberry.field(
        description="Every label: the human `label` when known, then the derived ones "
        "(WHALE, SMART_MONEY; docs/methodology.md gives the rules), recomputed with the boards."
    )
    async def labels(self, info: strawberry.Info[Context, None]) -> list[str]:
        derived = await info.context.loaders.labels_by_trader.load(self._row.id)
        return ([self._row.label] if self._row.label else []) + derived

    @strawberry.field(
        description="Statistics over one window; null when the trader has no fill in it."
    )
    async def stats(
        self,
        info: strawberry.Info[Context, None],
        timeframe: Annotated[Timeframe, strawberry.argument(description="The window.")],
    ) -> TraderStats | None:
        row = await info.context.loaders.stats_by_trader.load((self._row.id, timeframe.name))
        return None if row is None else TraderStats.from_row(row)

    @strawberry.field(
        description="Figures on a fixed-period board (PerpsTracker's trader snapshots): the "
        "latest snapshotted period of the type unless `period` names one; null when the "
        "trader is not on that board."
    )
    async def period_stats(
        self,
        info: strawberry.Info[Context, None],
        type: Annotated[PeriodType, strawberry.argument(description="Daily, weekly, monthly.")],
        period: Annotated[
            str | None,
            strawberry.argument(description="The period, e.g. 2026-10-31, 2026-W44 or 2026-10."),
        ] = None,
    ) -> TraderStats | None:
        loaders = info.context.loaders
        if period is not None:
            key: str | None = period_key(type.name, period)
        else:
            key = await loaders.latest_period.load(type.name)
        if key is None:
            return None
        row = await loaders.stats_by_trader.load((self._row.id, key))
        return None if row is None else TraderStats.from_row(row)

    @strawberry.field(description="Positions open now, largest notional first.")
    async def positions(self, info: strawberry.Info[Context, None]) -> list[PositionType]:
        from schema.types.position import Position

        rows = await info.context.loaders.open_positions_by_trader.load(self._row.id)
        return [Position.from_row(row) for row in rows]

    @strawberry.field(description="Closed positions, most recently closed first.")
    async def closed_positions(
        self,
        info: strawberry.Info[Context, None],
        first: PageSize = 50,
        after: After = None,
    ) -> Connection[PositionType]:
        from schema.types.position import Position

        loaders = info.context.loaders
        page = await closed_positions_of_trader(info.context, self._row.id, first, after)
        return to_connection(
            page,
            Position.from_row,
            lambda: loaders.closed_position_count_by_trader.load(self._row.id),
        )

    @strawberry.field(description="Fills, newest first.")
    async def trades(
        self,
        info: strawberry.Info[Context, None],
        filter: Annotated[
            TradeFilter | None, strawberry.argument(description="Narrow the trades.")
        ] = None,
        first: PageSize = 50,
        after: After = None,
    ) -> Connection[TradeType]:
        from schema.types.trade import Trade

        spec = await (filter or TradeFilter()).to_spec(info.context, with_traders=False)
        page = await trades_of_trader(info.context, self._row.id, spec, first, after)
        loaders = info.context.loaders
        return to_connection(
            page,
            Trade.from_row,
            lambda: loaders.trade_count_by_trader.load((self._row.id, spec)),
        )

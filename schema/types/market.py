"""Market: one perpetual contract and its latest venue context."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Annotated

import strawberry

from loaders.rows import MarketRow
from resolvers.context import Context
from resolvers.cursors import encode_node_id
from resolvers.positions import open_positions_of_market
from resolvers.trades import trades_of_market
from schema.connection import After, Connection, PageSize, to_connection
from schema.inputs import TradeFilter
from schema.node import Node

if TYPE_CHECKING:
    from schema.types.position import Position
    from schema.types.trade import Trade

PositionType = Annotated["Position", strawberry.lazy("schema.types.position")]
TradeType = Annotated["Trade", strawberry.lazy("schema.types.trade")]


@strawberry.type(description="A perpetual market (one coin) and its latest context.")
class Market(Node):
    coin: str = strawberry.field(description="The coin's ticker, e.g. BTC.")
    venue: str = strawberry.field(description="The venue the market trades on.")
    mark_price: Decimal | None = strawberry.field(
        description="Latest mark price, USD (decimal string); positions are valued at it."
    )
    oracle_price: Decimal | None = strawberry.field(description="Latest oracle price, USD.")
    mid_price: Decimal | None = strawberry.field(description="Latest order-book mid, USD.")
    previous_day_price: Decimal | None = strawberry.field(
        description="Mark price 24 hours ago, USD."
    )
    funding_rate: float | None = strawberry.field(
        description="Current hourly funding rate, as a fraction (0.0001 = 0.01 %)."
    )
    open_interest: Decimal | None = strawberry.field(
        description="Open interest in coin units, as the venue reports it."
    )
    day_volume: Decimal | None = strawberry.field(
        description="Traded notional over the last 24 hours, USD, as the venue reports it."
    )
    size_decimals: int = strawberry.field(
        description="Decimals of the smallest size step (e.g. 5 means 0.00001)."
    )
    max_leverage: int = strawberry.field(description="Highest leverage the venue allows.")
    updated_at: datetime | None = strawberry.field(
        description="When the mark price was last updated (UTC)."
    )

    @strawberry.field(description="Positions open now in this market, largest notional first.")
    async def positions(
        self,
        info: strawberry.Info[Context, None],
        first: PageSize = 50,
        after: After = None,
    ) -> Connection[PositionType]:
        from schema.types.position import Position

        loaders = info.context.loaders
        page = await open_positions_of_market(info.context, self.coin, first, after)
        return to_connection(
            page, Position.from_row, lambda: loaders.open_position_count_by_coin.load(self.coin)
        )

    @strawberry.field(description="Fills in this market, newest first.")
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

        spec = await (filter or TradeFilter()).to_spec(info.context)
        page = await trades_of_market(info.context, self.coin, spec, first, after)
        loaders = info.context.loaders
        return to_connection(
            page, Trade.from_row, lambda: loaders.trade_count_by_coin.load((self.coin, spec))
        )

    @classmethod
    def from_row(cls, row: MarketRow) -> Market:
        return cls(
            id=strawberry.ID(encode_node_id("Market", row.coin)),
            coin=row.coin,
            venue=row.venue,
            mark_price=row.mark_price,
            oracle_price=row.oracle_price,
            mid_price=row.mid_price,
            previous_day_price=row.previous_day_price,
            funding_rate=row.funding_rate,
            open_interest=row.open_interest,
            day_volume=row.day_volume,
            size_decimals=row.size_decimals,
            max_leverage=row.max_leverage,
            updated_at=row.updated_at,
        )

"""Position: from its opening fill to its closing one."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Annotated

import strawberry

from loaders.rows import PositionRow
from resolvers.context import Context
from resolvers.cursors import encode_node_id
from resolvers.errors import NotFoundError
from resolvers.trades import trades_of_position
from schema.connection import After, Connection, PageSize, to_connection
from schema.enums import Side
from schema.node import Node
from schema.types.market import Market

if TYPE_CHECKING:
    from schema.types.trade import Trade
    from schema.types.trader import Trader

TraderType = Annotated["Trader", strawberry.lazy("schema.types.trader")]
TradeType = Annotated["Trade", strawberry.lazy("schema.types.trade")]


@strawberry.type(
    description="A position in one coin, open or closed. Amounts are USD decimal strings, "
    "sizes are in coin units."
)
class Position(Node):
    coin: str = strawberry.field(description="The coin, e.g. BTC.")
    side: Side = strawberry.field(description="LONG or SHORT.")
    size: Decimal = strawberry.field(description="Size open now, coin units; 0 once closed.")
    max_size: Decimal = strawberry.field(description="The largest size the position reached.")
    notional: Decimal = strawberry.field(
        description="size x markPrice (x entryPrice when no mark is known); 0 once closed."
    )
    entry_price: Decimal = strawberry.field(
        description="Average entry price (average cost of the size open; the last one before "
        "closing for a closed position)."
    )
    exit_price: Decimal | None = strawberry.field(
        description="Average price of everything closed so far; null before the first close."
    )
    mark_price: Decimal | None = strawberry.field(
        description="Mark price the position was last valued at; null once closed."
    )
    liquidation_price: Decimal | None = strawberry.field(
        description="Estimated liquidation price (isolated margin at `leverage`); null when "
        "leverage is unknown or the position is closed."
    )
    leverage: float | None = strawberry.field(
        description="Leverage the trader chose, when the venue reports it."
    )
    collateral: Decimal | None = strawberry.field(
        description="Margin the open size needs: notional / leverage, USD; null when leverage "
        "is unknown, 0 once closed."
    )
    unrealized_pnl: Decimal | None = strawberry.field(
        description="PnL of the open size at the mark price; null when closed or unmarked."
    )
    realized_pnl: Decimal = strawberry.field(
        description="PnL realized by reducing and closing fills so far, gross of fees."
    )
    fees: Decimal = strawberry.field(description="Fees paid on this position's fills.")
    funding: Decimal = strawberry.field(description="Funding received (+) or paid (-).")
    trade_count: int = strawberry.field(description="Fills that made up this position.")
    opened_at: datetime = strawberry.field(description="Time of the opening fill.")
    last_fill_at: datetime = strawberry.field(
        description="Time of the latest fill: the opening one, or the last that added to, "
        "reduced or closed the position."
    )
    closed_at: datetime | None = strawberry.field(
        description="Time of the closing fill; null while open."
    )
    is_open: bool = strawberry.field(description="Whether the position is open now.")
    _row: strawberry.Private[PositionRow]

    @classmethod
    def from_row(cls, row: PositionRow) -> Position:
        is_open = row.closed_at is None
        return cls(
            id=strawberry.ID(encode_node_id("Position", row.id)),
            coin=row.coin,
            side=Side(row.side),
            size=row.size,
            max_size=row.max_size,
            notional=row.notional,
            entry_price=row.entry_price,
            exit_price=row.exit_notional / row.closed_size if row.closed_size else None,
            mark_price=row.mark_price if is_open else None,
            liquidation_price=row.liquidation_price if is_open else None,
            leverage=row.leverage,
            collateral=row.notional / Decimal(row.leverage)
            if row.leverage is not None and row.leverage > 0
            else None,
            unrealized_pnl=row.unrealized_pnl if is_open else None,
            realized_pnl=row.realized_pnl,
            fees=row.fees,
            funding=row.funding,
            trade_count=row.trade_count,
            opened_at=row.opened_at,
            last_fill_at=row.last_fill_at,
            closed_at=row.closed_at,
            is_open=is_open,
            _row=row,
        )

    @strawberry.field(description="The trader holding the position.")
    async def trader(self, info: strawberry.Info[Context, None]) -> TraderType:
        from schema.types.trader import Trader

        row = await info.context.loaders.trader_by_id.load(self._row.trader_id)
        if row is None:
            raise NotFoundError(f"trader {self._row.trader_id} of position is missing")
        return Trader.from_row(row)

    @strawberry.field(description="The market the position is in.")
    async def market(self, info: strawberry.Info[Context, None]) -> Market | None:
        row = await info.context.loaders.market_by_coin.load(self._row.coin)
        return None if row is None else Market.from_row(row)

    @strawberry.field(description="The fills of this position, newest first.")
    async def trades(
        self,
        info: strawberry.Info[Context, None],
        first: PageSize = 50,
        after: After = None,
    ) -> Connection[TradeType]:
        from loaders.trade_filter import NO_TRADE_FILTER
        from schema.types.trade import Trade

        page = await trades_of_position(info.context, self._row.id, first, after)
        loaders = info.context.loaders
        return to_connection(
            page,
            Trade.from_row,
            lambda: loaders.trade_count_by_position.load((self._row.id, NO_TRADE_FILTER)),
        )

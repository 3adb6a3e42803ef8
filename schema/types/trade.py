"""Trade: one fill and what it did to the trader's position."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Annotated

import strawberry

from loaders.rows import TradeRow
from resolvers.context import Context
from resolvers.cursors import encode_node_id
from resolvers.errors import NotFoundError
from schema.enums import Side, TradeAction, TradeDirection
from schema.node import Node

if TYPE_CHECKING:
    from schema.types.market import Market
    from schema.types.position import Position
    from schema.types.trader import Trader

TraderType = Annotated["Trader", strawberry.lazy("schema.types.trader")]
PositionType = Annotated["Position", strawberry.lazy("schema.types.position")]
MarketType = Annotated["Market", strawberry.lazy("schema.types.market")]


# Members by stored value: a dict lookup, where calling the enum costs several times more
# (a thousand fills per leaderboard page).
_SIDES = {str(member.value): member for member in Side}
_DIRECTIONS = {str(member.value): member for member in TradeDirection}
_ACTIONS = {str(member.value): member for member in TradeAction}


@strawberry.type(
    description="One fill: the event log every position and statistic is derived from."
)
class Trade(Node):
    timestamp: datetime = strawberry.field(description="When the fill executed (UTC).")
    coin: str = strawberry.field(description="The coin, e.g. BTC.")
    side: Side = strawberry.field(
        description="Side of the position the fill acted on; for a FLIP, the new side."
    )
    direction: TradeDirection = strawberry.field(description="BUY or SELL.")
    action: TradeAction = strawberry.field(description="What the fill did to the position.")
    size: Decimal = strawberry.field(description="Filled size, coin units (positive).")
    price: Decimal = strawberry.field(description="Fill price, USD.")
    notional: Decimal = strawberry.field(description="size x price, USD.")
    start_position: Decimal = strawberry.field(
        description="Signed position size before the fill (negative = short)."
    )
    realized_pnl: Decimal | None = strawberry.field(
        description="PnL this fill realized, gross of fees; null for OPEN and ADD."
    )
    fee: Decimal | None = strawberry.field(
        description="Fee paid for this fill, USD (negative for a rebate)."
    )
    is_liquidation: bool = strawberry.field(
        description="Whether this fill was the trader's own liquidation."
    )
    tx_hash: str | None = strawberry.field(description="The venue's transaction hash.")
    venue: str = strawberry.field(description="The venue, e.g. hyperliquid.")
    venue_fill_id: str = strawberry.field(description="The venue's id of this fill.")
    position_id: strawberry.ID | None = strawberry.field(
        description="Global id of `position`, without loading it; null when the fill has none."
    )
    _row: strawberry.Private[TradeRow]

    @classmethod
    def from_row(cls, row: TradeRow) -> Trade:
        return cls(
            id=strawberry.ID(encode_node_id("Trade", row.id)),
            timestamp=row.timestamp,
            coin=row.coin,
            side=_SIDES[row.side],
            direction=_DIRECTIONS[row.direction],
            action=_ACTIONS[row.action],
            size=row.size,
            price=row.price,
            notional=row.notional,
            start_position=row.start_position,
            realized_pnl=row.realized_pnl,
            fee=row.fee,
            is_liquidation=row.is_liquidation,
            tx_hash=row.tx_hash,
            venue=row.venue,
            venue_fill_id=row.venue_fill_id,
            position_id=None
            if row.position_id is None
            else strawberry.ID(encode_node_id("Position", row.position_id)),
            _row=row,
        )

    @strawberry.field(description="The trader who traded.")
    async def trader(self, info: strawberry.Info[Context, None]) -> TraderType:
        from schema.types.trader import Trader

        row = await info.context.loaders.trader_by_id.load(self._row.trader_id)
        if row is None:
            raise NotFoundError(f"trader {self._row.trader_id} of trade is missing")
        return Trader.from_row(row)

    @strawberry.field(
        description="The position this fill belongs to: the one it left open, or for a "
        "CLOSE the one it closed."
    )
    async def position(self, info: strawberry.Info[Context, None]) -> PositionType | None:
        from schema.types.position import Position

        if self._row.position_id is None:
            return None
        row = await info.context.loaders.position_by_id.load(self._row.position_id)
        return None if row is None else Position.from_row(row)

    @strawberry.field(description="The market the fill traded in.")
    async def market(self, info: strawberry.Info[Context, None]) -> MarketType | None:
        from schema.types.market import Market

        row = await info.context.loaders.market_by_coin.load(self._row.coin)
        return None if row is None else Market.from_row(row)

    @strawberry.field(description="For a FLIP: the position it closed. Null otherwise.")
    async def closed_position(self, info: strawberry.Info[Context, None]) -> PositionType | None:
        from schema.types.position import Position

        if self._row.closed_position_id is None:
            return None
        row = await info.context.loaders.position_by_id.load(self._row.closed_position_id)
        return None if row is None else Position.from_row(row)

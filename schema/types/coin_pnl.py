"""One coin's traders by PnL (Nansen's per-coin perp PnL leaderboard), a page at a time."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

import strawberry

from resolvers.coin_pnl import CoinPnlQuery, CoinPnlRow, coin_pnl_page
from resolvers.context import Context
from schema.connection import Connection, to_connection
from schema.enums import CoinPnlOrderField, OrderDirection, Side
from schema.inputs import CoinPnlFilter, CoinPnlOrder
from schema.types.trader import Trader


@strawberry.type(
    description="A trader's PnL in one coin over a window (Nansen's per-coin PnL leaderboard); "
    "docs/methodology.md defines every figure."
)
class CoinPnlEntry:
    rank: int = strawberry.field(
        description="Place in the order asked among the traders the filter keeps, 1 first."
    )
    trader: Trader = strawberry.field(description="The trader.")
    realized_pnl: Decimal = strawberry.field(description="Realized in the window, USD.")
    fees: Decimal = strawberry.field(description="Fees in the window, USD.")
    net_pnl: Decimal = strawberry.field(description="realizedPnl - fees, USD.")
    unrealized_pnl: Decimal = strawberry.field(description="Of the open position now, USD.")
    total_pnl: Decimal = strawberry.field(description="netPnl + unrealizedPnl, USD.")
    volume: Decimal = strawberry.field(description="Traded notional in the window, USD.")
    trade_count: int = strawberry.field(description="Fills in the window.")
    side: Side | None = strawberry.field(description="Side of the open position; null when flat.")
    position_size: Decimal = strawberry.field(description="Size open now, coin units.")
    position_value: Decimal = strawberry.field(
        description="Notional open now, USD: + long, - short, 0 when flat."
    )
    max_size_held: Decimal = strawberry.field(
        description="The largest size a position active in the window reached, coin units."
    )
    still_holding_ratio: float | None = strawberry.field(
        description="positionSize / maxSizeHeld, 0-1; null without a position in the window."
    )
    capital: Decimal = strawberry.field(
        description="The largest margin a position active in the window needed (maxSize x "
        "entry / leverage), USD: the base of the ROIs."
    )
    roi: float | None = strawberry.field(
        description="totalPnl / capital, a fraction; null without capital."
    )
    realized_roi: float | None = strawberry.field(
        description="netPnl / capital, a fraction; null without capital."
    )
    unrealized_roi: float | None = strawberry.field(
        description="unrealizedPnl / capital, a fraction; null without capital."
    )
    netflow: Decimal = strawberry.field(description="Bought - sold in the window, coin units.")
    netflow_usd: Decimal = strawberry.field(
        description="Notional bought - notional sold in the window, USD."
    )

    @classmethod
    def from_row(cls, row: CoinPnlRow) -> CoinPnlEntry:
        return cls(
            rank=row.rank,
            trader=Trader.from_row(row.trader),
            realized_pnl=row.realized_pnl,
            fees=row.fees,
            net_pnl=row.net_pnl,
            unrealized_pnl=row.unrealized_pnl,
            total_pnl=row.total_pnl,
            volume=row.volume,
            trade_count=row.trade_count,
            side=Side(row.side) if row.side is not None else None,
            position_size=row.position_size,
            position_value=row.position_value,
            max_size_held=row.max_size_held,
            still_holding_ratio=row.still_holding_ratio,
            capital=row.capital,
            roi=row.roi,
            realized_roi=row.realized_roi,
            unrealized_roi=row.unrealized_roi,
            netflow=row.netflow,
            netflow_usd=row.netflow_usd,
        )


@strawberry.type(description="One page of a coin's PnL board.")
class CoinPnlConnection(Connection[CoinPnlEntry]):
    coin: str = strawberry.field(description="The coin ranked.")


async def coin_pnl_connection(
    context: Context,
    coin: str,
    since: datetime | None,
    filter: CoinPnlFilter | None,
    order_by: CoinPnlOrder | None,
    first: int,
    after: str | None,
) -> CoinPnlConnection:
    """One page of ``coin``'s board over the fills after ``since``, filtered and ordered."""
    order = order_by or CoinPnlOrder(field=CoinPnlOrderField.TOTAL_PNL)
    query = CoinPnlQuery(
        coin=coin,
        since=since,
        order_field=order.field.name.lower(),
        descending=order.direction is OrderDirection.DESC,
        first=first,
        after=after,
    )
    if filter is not None:
        query = await filter.apply(context, query)
    page, matching = await coin_pnl_page(context, query)
    connection = to_connection(page, CoinPnlEntry.from_row, matching)
    return CoinPnlConnection(
        edges=connection.edges,
        page_info=connection.page_info,
        nodes=connection.nodes,
        _count=connection._count,
        coin=coin,
    )

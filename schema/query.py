"""The root ``Query``."""

from __future__ import annotations

from typing import Annotated

import strawberry

from resolvers.context import Context
from resolvers.cursors import decode_node_id
from resolvers.lookups import find_trader
from resolvers.markets import all_markets
from resolvers.positions import (
    positions_by_market,
    positions_count,
    positions_page,
    positions_total,
)
from resolvers.trades import trades_count, trades_page
from schema.access import LeaderboardPlanGate
from schema.connection import After, Connection, PageSize, to_connection
from schema.enums import (
    LeaderboardTier,
    PositionOrderField,
    Timeframe,
)
from schema.inputs import (
    LeaderboardFilter,
    LeaderboardOrder,
    PositionFilter,
    PositionOrder,
    TradeFilter,
)
from schema.node import Node
from schema.types.leaderboard import LeaderboardConnection, board_connection
from schema.types.market import Market
from schema.types.position import Position
from schema.types.position_stats import AllPositionsConnection
from schema.types.trade import Trade
from schema.types.trader import Trader

Info = strawberry.Info[Context, None]


@strawberry.type(description="Everything perpgraph serves, starting points of the graph.")
class Query:
    @strawberry.field(description="Any object by its global id; null when it does not exist.")
    async def node(
        self,
        info: Info,
        id: Annotated[strawberry.ID, strawberry.argument(description="A global id.")],
    ) -> Node | None:
        type_name, key = decode_node_id(id)
        loaders = info.context.loaders
        if type_name == "Market":
            market = await loaders.market_by_coin.load(key)
            return None if market is None else Market.from_row(market)
        if not key.isdigit():
            return None
        if type_name == "Trader":
            trader = await loaders.trader_by_id.load(int(key))
            return None if trader is None else Trader.from_row(trader)
        if type_name == "Position":
            position = await loaders.position_by_id.load(int(key))
            return None if position is None else Position.from_row(position)
        if type_name == "Trade":
            trade = await loaders.trade_by_id.load(int(key))
            return None if trade is None else Trade.from_row(trade)
        return None

    @strawberry.field(
        description="One trader by address or public id (pass exactly one); null when unknown."
    )
    async def trader(
        self,
        info: Info,
        address: Annotated[
            str | None, strawberry.argument(description="Account address (any case).")
        ] = None,
        public_id: Annotated[
            str | None, strawberry.argument(description="Public id, e.g. #38291.")
        ] = None,
    ) -> Trader | None:
        row = await find_trader(info.context, address=address, public_id=public_id)
        return None if row is None else Trader.from_row(row)

    @strawberry.field(
        description="Traders ranked over a rolling window. Boards are precomputed by the "
        "scoring job; see `updatedAt`. Plans may limit windows and depth (FORBIDDEN).",
        extensions=[LeaderboardPlanGate()],
    )
    async def leaderboard(
        self,
        info: Info,
        timeframe: Annotated[Timeframe, strawberry.argument(description="The window.")] = (
            Timeframe.MONTH
        ),
        tier: Annotated[
            LeaderboardTier, strawberry.argument(description="Only entries of this tier.")
        ] = LeaderboardTier.ALL,
        filter: Annotated[
            LeaderboardFilter | None,
            strawberry.argument(description="Range filters on every statistic, coins, labels."),
        ] = None,
        order_by: Annotated[
            LeaderboardOrder | None,
            strawberry.argument(description="Ordering; by rank (best first) when omitted."),
        ] = None,
        first: PageSize = 50,
        after: After = None,
    ) -> LeaderboardConnection:
        return await board_connection(
            info.context, timeframe.name, timeframe, tier, filter, order_by, first, after
        )

    @strawberry.field(
        description="Positions across all traders; open ones by default. The connection also "
        "gives the whole selection's `stats` and `byMarket` breakdown."
    )
    async def positions(
        self,
        info: Info,
        filter: Annotated[
            PositionFilter | None, strawberry.argument(description="Narrow the positions.")
        ] = None,
        order_by: Annotated[
            PositionOrder | None,
            strawberry.argument(description="Ordering; largest notional first when omitted."),
        ] = None,
        first: PageSize = 50,
        after: After = None,
    ) -> AllPositionsConnection:
        query = await (filter or PositionFilter()).to_query(
            info.context, order_by or PositionOrder(field=PositionOrderField.NOTIONAL), first, after
        )
        context = info.context
        page = await positions_page(context, query)
        connection = to_connection(page, Position.from_row, lambda: positions_count(context, query))
        return AllPositionsConnection(
            edges=connection.edges,
            page_info=connection.page_info,
            nodes=connection.nodes,
            _count=connection._count,
            _total=lambda: positions_total(context, query),
            _by_market=lambda: positions_by_market(context, query),
        )

    @strawberry.field(description="Fills across all traders, newest first.")
    async def trades(
        self,
        info: Info,
        filter: Annotated[
            TradeFilter | None, strawberry.argument(description="Narrow the trades.")
        ] = None,
        first: PageSize = 50,
        after: After = None,
    ) -> Connection[Trade]:
        context = info.context
        spec = await (filter or TradeFilter()).to_spec(context)
        page = await trades_page(context, spec, first, after)
        return to_connection(page, Trade.from_row, lambda: trades_count(context, spec))

    @strawberry.field(description="Every market, by coin.")
    async def markets(self, info: Info) -> list[Market]:
        return [Market.from_row(row) for row in await all_markets(info.context)]

    @strawberry.field(description="One market by coin (e.g. BTC); null when unknown.")
    async def market(
        self,
        info: Info,
        coin: Annotated[str, strawberry.argument(description="The coin's ticker.")],
    ) -> Market | None:
        row = await info.context.loaders.market_by_coin.load(coin.strip().upper()[:40])
        return None if row is None else Market.from_row(row)

"""Loaders: one aiodataloader class per access pattern, bundled per request in :class:`Loaders`."""

from __future__ import annotations

from psycopg_pool import AsyncConnectionPool

from loaders.labels import LabelsByTraderLoader
from loaders.markets import MarketByCoinLoader
from loaders.positions import (
    ClosedPositionCountByTraderLoader,
    ClosedPositionsByTraderLoader,
    OpenPositionCountByCoinLoader,
    OpenPositionsByCoinLoader,
    OpenPositionsByTraderLoader,
    PositionByIdLoader,
)
from loaders.stats import LatestPeriodLoader, TraderStatsByTraderLoader
from loaders.traders import TraderByAddressLoader, TraderByIdLoader, TraderByPublicIdLoader
from loaders.trades import (
    TradeByIdLoader,
    TradeCountByCoinLoader,
    TradeCountByPositionLoader,
    TradeCountByTraderLoader,
    TradesByCoinLoader,
    TradesByPositionLoader,
    TradesByTraderLoader,
)


class Loaders:
    """Every loader, made fresh for one request (or one subscription event) so none is stale."""

    def __init__(self, pool: AsyncConnectionPool) -> None:
        self.pool = pool
        self.trader_by_id = TraderByIdLoader(pool)
        self.trader_by_address = TraderByAddressLoader(pool)
        self.trader_by_public_id = TraderByPublicIdLoader(pool)
        self.market_by_coin = MarketByCoinLoader(pool)
        self.position_by_id = PositionByIdLoader(pool)
        self.open_positions_by_trader = OpenPositionsByTraderLoader(pool)
        self.closed_positions_by_trader = ClosedPositionsByTraderLoader(pool)
        self.closed_position_count_by_trader = ClosedPositionCountByTraderLoader(pool)
        self.trade_by_id = TradeByIdLoader(pool)
        self.trades_by_trader = TradesByTraderLoader(pool)
        self.trades_by_position = TradesByPositionLoader(pool)
        self.trade_count_by_trader = TradeCountByTraderLoader(pool)
        self.trade_count_by_position = TradeCountByPositionLoader(pool)
        self.trades_by_coin = TradesByCoinLoader(pool)
        self.trade_count_by_coin = TradeCountByCoinLoader(pool)
        self.open_positions_by_coin = OpenPositionsByCoinLoader(pool)
        self.open_position_count_by_coin = OpenPositionCountByCoinLoader(pool)
        self.stats_by_trader = TraderStatsByTraderLoader(pool)
        self.latest_period = LatestPeriodLoader(pool)
        self.labels_by_trader = LabelsByTraderLoader(pool)

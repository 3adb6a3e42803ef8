"""The market screener (Nansen's perp screener): every coin traded in a window with its market
context, open-position book and SMART_MONEY activity, filtered on any figure and ordered.

The window's activity per coin is precomputed with the boards (``market_stats``); the market
context is the venue's latest; the open book, the window's first price and the SMART_MONEY
figures are read at request time (the label set changes with every recompute).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

from psycopg import sql

from db.query import fetch_rows
from resolvers.analytics import CoinFigures
from resolvers.context import Context
from resolvers.ranges import combine, figure_order, figure_ranges

#: Every figure a coin can be filtered on (inclusive range) and ordered by, as its column.
FIGURES: tuple[str, ...] = (
    "volume",
    "buy_volume",
    "sell_volume",
    "net_flow",
    "trade_count",
    "trader_count",
    "net_pnl",
    "liquidation_count",
    "mark_price",
    "previous_price",
    "price_change",
    "funding_rate",
    "open_interest",
    "open_interest_usd",
    "long_accounts",
    "short_accounts",
    "long_notional",
    "short_notional",
    "smart_money_volume",
    "smart_money_buy_volume",
    "smart_money_sell_volume",
    "smart_money_net_flow",
    "smart_money_traders",
    "smart_money_long_accounts",
    "smart_money_short_accounts",
    "smart_money_long_notional",
    "smart_money_short_notional",
)

_SCREEN = """
WITH smart AS (SELECT trader_id FROM trader_label WHERE label = 'SMART_MONEY'),
smart_flow AS (
    SELECT t.coin, sum(t.notional) AS volume,
           coalesce(sum(t.notional) FILTER (WHERE t.direction = 'BUY'), 0) AS buy_volume,
           coalesce(sum(t.notional) FILTER (WHERE t.direction = 'SELL'), 0) AS sell_volume,
           count(DISTINCT t.trader_id) AS traders
    FROM smart JOIN trade AS t USING (trader_id)
    WHERE %s::timestamptz IS NULL OR t.timestamp > %s
    GROUP BY t.coin
),
book AS (
    SELECT p.coin,
           count(DISTINCT p.trader_id) FILTER (WHERE p.side = 'LONG') AS long_accounts,
           count(DISTINCT p.trader_id) FILTER (WHERE p.side = 'SHORT') AS short_accounts,
           coalesce(sum(p.notional) FILTER (WHERE p.side = 'LONG'), 0) AS long_notional,
           coalesce(sum(p.notional) FILTER (WHERE p.side = 'SHORT'), 0) AS short_notional,
           count(DISTINCT p.trader_id) FILTER (WHERE p.side = 'LONG' AND s.trader_id IS NOT NULL)
               AS smart_long_accounts,
           count(DISTINCT p.trader_id) FILTER (WHERE p.side = 'SHORT' AND s.trader_id IS NOT NULL)
               AS smart_short_accounts,
           coalesce(sum(p.notional) FILTER (WHERE p.side = 'LONG' AND s.trader_id IS NOT NULL),
                    0) AS smart_long_notional,
           coalesce(sum(p.notional) FILTER (WHERE p.side = 'SHORT' AND s.trader_id IS NOT NULL),
                    0) AS smart_short_notional
    FROM position AS p LEFT JOIN smart AS s USING (trader_id)
    WHERE p.closed_at IS NULL
    GROUP BY p.coin
),
screen AS (
    SELECT s.coin, s.volume, s.buy_volume, s.sell_volume, s.long_volume, s.short_volume,
           s.trade_count, s.trader_count, s.realized_pnl, s.fees, s.net_pnl, s.liquidation_count,
           s.buy_volume - s.sell_volume AS net_flow,
           m.mark_price, first_fill.price AS previous_price,
           CASE WHEN first_fill.price > 0 AND m.mark_price IS NOT NULL
                THEN (m.mark_price / first_fill.price - 1)::float8 END AS price_change,
           m.funding_rate, m.open_interest, m.open_interest * m.mark_price AS open_interest_usd,
           coalesce(b.long_accounts, 0) AS long_accounts,
           coalesce(b.short_accounts, 0) AS short_accounts,
           coalesce(b.long_notional, 0) AS long_notional,
           coalesce(b.short_notional, 0) AS short_notional,
           coalesce(f.volume, 0) AS smart_money_volume,
           coalesce(f.buy_volume, 0) AS smart_money_buy_volume,
           coalesce(f.sell_volume, 0) AS smart_money_sell_volume,
           coalesce(f.buy_volume - f.sell_volume, 0) AS smart_money_net_flow,
           coalesce(f.traders, 0) AS smart_money_traders,
           coalesce(b.smart_long_accounts, 0) AS smart_money_long_accounts,
           coalesce(b.smart_short_accounts, 0) AS smart_money_short_accounts,
           coalesce(b.smart_long_notional, 0) AS smart_money_long_notional,
           coalesce(b.smart_short_notional, 0) AS smart_money_short_notional,
           sum(s.volume) OVER () AS board_volume
    FROM market_stats AS s
    JOIN market AS m USING (coin)
    LEFT JOIN book AS b USING (coin)
    LEFT JOIN smart_flow AS f USING (coin)
    LEFT JOIN LATERAL (
        SELECT t.price FROM trade AS t
        WHERE t.coin = s.coin AND (%s::timestamptz IS NULL OR t.timestamp > %s)
        ORDER BY t.timestamp, t.id LIMIT 1
    ) AS first_fill ON true
    WHERE s.board = %s
)
SELECT coin, volume, buy_volume, sell_volume, long_volume, short_volume, trade_count,
       trader_count, realized_pnl, fees, net_pnl, liquidation_count, mark_price, previous_price,
       price_change, funding_rate, open_interest, open_interest_usd, long_accounts,
       short_accounts, long_notional, short_notional, smart_money_volume,
       smart_money_buy_volume, smart_money_sell_volume, smart_money_net_flow,
       smart_money_traders, smart_money_long_accounts, smart_money_short_accounts,
       smart_money_long_notional, smart_money_short_notional, board_volume
FROM screen AS f
WHERE {where}
ORDER BY {order}, f.coin
"""


@dataclass(frozen=True, slots=True)
class ScreenerRow:
    figures: CoinFigures
    """The window's activity, precomputed with the board."""
    mark_price: Decimal | None
    previous_price: Decimal | None
    price_change: float | None
    funding_rate: float | None
    open_interest: Decimal | None
    open_interest_usd: Decimal | None
    long_accounts: int
    short_accounts: int
    long_notional: Decimal
    short_notional: Decimal
    smart_money_volume: Decimal
    smart_money_buy_volume: Decimal
    smart_money_sell_volume: Decimal
    smart_money_net_flow: Decimal
    smart_money_traders: int
    smart_money_long_accounts: int
    smart_money_short_accounts: int
    smart_money_long_notional: Decimal
    smart_money_short_notional: Decimal
    board_volume: Decimal
    """Every coin's volume on the board, filtered out or not (the base of volume shares)."""


_ACTIVITY_COLUMNS = len(CoinFigures.__dataclass_fields__)


@dataclass(frozen=True, slots=True)
class ScreenerQuery:
    board: str
    since: datetime | None
    """The window's start (its fills after it); None for all time."""
    order_field: str = "volume"
    """A figure, or ``coin``."""
    descending: bool = True
    ranges: tuple[tuple[str, Any, Any], ...] = ()
    """(figure, min, max) for each range filter given."""
    coins: tuple[str, ...] | None = None
    only_smart_money: bool = False
    """Only coins SMART_MONEY traders traded in the window."""

    def where(self) -> tuple[sql.Composable, list[Any]]:
        parts = figure_ranges(self.ranges)
        if self.coins is not None:
            parts.append(([sql.SQL("f.coin = ANY(%s)")], [list(self.coins)]))
        if self.only_smart_money:
            parts.append(([sql.SQL("f.smart_money_traders > 0")], []))
        return combine(parts)

    def order(self) -> sql.Composable:
        return figure_order(self.order_field, self.descending)


async def market_screener(context: Context, query: ScreenerQuery) -> list[ScreenerRow]:
    """Every coin of the board that the filters keep, in the order asked (ties by coin)."""
    where, where_params = query.where()
    statement = sql.SQL(_SCREEN).format(where=where, order=query.order())
    window = [query.since, query.since]
    params = [*window, *window, query.board, *where_params]
    rows = await fetch_rows(context.pool, statement, params)
    return [
        ScreenerRow(CoinFigures(*row[:_ACTIVITY_COLUMNS]), *row[_ACTIVITY_COLUMNS:]) for row in rows
    ]

"""Markets."""

from __future__ import annotations

from psycopg import sql

from db.query import fetch_rows
from db.rows import MarketRow, select_list
from resolvers.context import Context

_ALL = sql.SQL("SELECT {} FROM market ORDER BY coin").format(select_list(MarketRow))


async def all_markets(context: Context) -> list[MarketRow]:
    rows = [MarketRow.from_row(row) for row in await fetch_rows(context.pool, _ALL)]
    for market in rows:
        context.loaders.market_by_coin.prime(market.coin, market)
    return rows

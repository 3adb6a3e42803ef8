"""Markets by coin, and the list of all markets."""

from __future__ import annotations

from psycopg import sql

from db.query import fetch_rows
from db.rows import MarketRow, select_list
from loaders.base import PoolLoader, one_per_key

_BY_COIN = sql.SQL("SELECT {} FROM market WHERE coin = ANY(%s)").format(select_list(MarketRow))


class MarketByCoinLoader(PoolLoader[str, MarketRow | None]):
    async def batch_load_fn(self, keys: list[str]) -> list[MarketRow | None]:
        rows = await fetch_rows(self.pool, _BY_COIN, (keys,))
        return one_per_key(keys, map(MarketRow.from_row, rows), lambda m: m.coin)

"""Positions: by id, a trader's open ones, pages of a trader's closed ones, and counts."""

from __future__ import annotations

from psycopg import sql

from db.query import fetch_rows
from db.rows import PositionRow, select_list
from loaders.base import PoolLoader, many_per_key, one_per_key
from loaders.pages import PageKey, PageQuery, count_children, load_pages

_BY_ID = sql.SQL("SELECT {} FROM position WHERE id = ANY(%s)").format(select_list(PositionRow))
_OPEN_BY_TRADER = sql.SQL(
    "SELECT {} FROM position WHERE trader_id = ANY(%s) AND closed_at IS NULL "
    "ORDER BY trader_id, notional DESC, id DESC"
).format(select_list(PositionRow))
_CLOSED_BY_TRADER = PageQuery("position", "trader_id", "closed_at", PositionRow)
_IS_CLOSED = sql.SQL("c.closed_at IS NOT NULL")
_OPEN_BY_COIN = PageQuery(
    "position", "coin", "notional", PositionRow, parent_type="text", sort_type="numeric"
)
_IS_OPEN = sql.SQL("c.closed_at IS NULL")


class PositionByIdLoader(PoolLoader[int, PositionRow | None]):
    async def batch_load_fn(self, keys: list[int]) -> list[PositionRow | None]:
        rows = await fetch_rows(self.pool, _BY_ID, (keys,))
        return one_per_key(keys, map(PositionRow.from_row, rows), lambda p: p.id)


class OpenPositionsByTraderLoader(PoolLoader[int, list[PositionRow]]):
    """A trader's open positions, largest notional first."""

    async def batch_load_fn(self, keys: list[int]) -> list[list[PositionRow]]:
        rows = await fetch_rows(self.pool, _OPEN_BY_TRADER, (keys,))
        return many_per_key(keys, map(PositionRow.from_row, rows), lambda p: p.trader_id)


class ClosedPositionsByTraderLoader(PoolLoader[PageKey, list[PositionRow]]):
    """Pages of a trader's closed positions, most recently closed first."""

    async def batch_load_fn(self, keys: list[PageKey]) -> list[list[PositionRow]]:
        return await load_pages(self.pool, _CLOSED_BY_TRADER, keys, [_IS_CLOSED])


class ClosedPositionCountByTraderLoader(PoolLoader[int, int]):
    async def batch_load_fn(self, keys: list[int]) -> list[int]:
        return await count_children(self.pool, _CLOSED_BY_TRADER, keys, [_IS_CLOSED])


class OpenPositionsByCoinLoader(PoolLoader[PageKey, list[PositionRow]]):
    """Pages of the open positions in one market, largest notional first."""

    async def batch_load_fn(self, keys: list[PageKey]) -> list[list[PositionRow]]:
        return await load_pages(self.pool, _OPEN_BY_COIN, keys, [_IS_OPEN])


class OpenPositionCountByCoinLoader(PoolLoader[str, int]):
    async def batch_load_fn(self, keys: list[str]) -> list[int]:
        return await count_children(self.pool, _OPEN_BY_COIN, keys, [_IS_OPEN])

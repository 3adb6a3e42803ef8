"""Trades: by id, pages per trader or per position, and counts."""

from __future__ import annotations

from collections import defaultdict

from psycopg import sql

from db.query import fetch_rows
from db.rows import TradeRow, select_list
from loaders.base import PoolLoader, one_per_key
from loaders.pages import PageKey, PageQuery, count_children, load_pages
from loaders.trade_filter import TradeFilterSpec

TradePageKey = tuple[PageKey, TradeFilterSpec]
TradeCountKey = tuple[int | str, TradeFilterSpec]

_BY_ID = sql.SQL("SELECT {} FROM trade WHERE id = ANY(%s)").format(select_list(TradeRow))


class TradeByIdLoader(PoolLoader[int, TradeRow | None]):
    async def batch_load_fn(self, keys: list[int]) -> list[TradeRow | None]:
        rows = await fetch_rows(self.pool, _BY_ID, (keys,))
        return one_per_key(keys, map(TradeRow.from_row, rows), lambda t: t.id)


class _TradePagesLoader(PoolLoader[TradePageKey, list[TradeRow]]):
    """Pages of trades, newest first; one statement per distinct filter in the batch."""

    query: PageQuery

    async def batch_load_fn(self, keys: list[TradePageKey]) -> list[list[TradeRow]]:
        by_filter: defaultdict[TradeFilterSpec, list[int]] = defaultdict(list)
        for index, (_, trade_filter) in enumerate(keys):
            by_filter[trade_filter].append(index)
        results: list[list[TradeRow]] = [[] for _ in keys]
        for trade_filter, indexes in by_filter.items():
            conditions, params = trade_filter.conditions("c")
            pages = await load_pages(
                self.pool, self.query, [keys[i][0] for i in indexes], conditions, params
            )
            for index, page in zip(indexes, pages, strict=True):
                results[index] = page
        return results


class _TradeCountLoader(PoolLoader[TradeCountKey, int]):
    query: PageQuery

    async def batch_load_fn(self, keys: list[TradeCountKey]) -> list[int]:
        by_filter: defaultdict[TradeFilterSpec, list[int]] = defaultdict(list)
        for index, (_, trade_filter) in enumerate(keys):
            by_filter[trade_filter].append(index)
        results = [0 for _ in keys]
        for trade_filter, indexes in by_filter.items():
            conditions, params = trade_filter.conditions("c")
            counts = await count_children(
                self.pool, self.query, [keys[i][0] for i in indexes], conditions, params
            )
            for index, count in zip(indexes, counts, strict=True):
                results[index] = count
        return results


_BY_TRADER = PageQuery("trade", "trader_id", "timestamp", TradeRow)
_BY_POSITION = PageQuery("trade", "position_id", "timestamp", TradeRow)
_BY_COIN = PageQuery("trade", "coin", "timestamp", TradeRow, parent_type="text")


class TradesByTraderLoader(_TradePagesLoader):
    query = _BY_TRADER


class TradesByPositionLoader(_TradePagesLoader):
    query = _BY_POSITION


class TradesByCoinLoader(_TradePagesLoader):
    query = _BY_COIN


class TradeCountByTraderLoader(_TradeCountLoader):
    query = _BY_TRADER


class TradeCountByPositionLoader(_TradeCountLoader):
    query = _BY_POSITION


class TradeCountByCoinLoader(_TradeCountLoader):
    query = _BY_COIN

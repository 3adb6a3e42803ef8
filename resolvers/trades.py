"""Trades: across all traders (newest first), and the pages under one trader or position."""

from __future__ import annotations

from datetime import datetime

from psycopg import sql

from db.query import fetch_rows
from db.rows import TradeRow, select_list
from loaders.pages import PageKey
from loaders.trade_filter import TradeFilterSpec
from resolvers.context import Context
from resolvers.cursors import check_page_size, decode_cursor, encode_cursor
from resolvers.keyset import Page
from resolvers.ranges import combine

_CURSOR = "trades"


def trade_cursor(row: TradeRow) -> str:
    """Trades page newest first by (time, id) everywhere, so one cursor shape serves all."""
    return encode_cursor(_CURSOR, row.timestamp, row.id)


def _after_key(after: str | None) -> tuple[datetime, int] | None:
    if after is None:
        return None
    timestamp, trade_id = decode_cursor(after, _CURSOR, (datetime, int))
    return timestamp, trade_id


async def trades_page(
    context: Context, trade_filter: TradeFilterSpec, first: int, after: str | None
) -> Page[TradeRow]:
    check_page_size(first)
    conditions, params = trade_filter.conditions("c")
    after_key = _after_key(after)
    if after_key is not None:
        conditions.append(sql.SQL("(c.timestamp, c.id) < (%s, %s)"))
        params.extend(after_key)
    where, params = combine([(conditions, params)])
    statement = sql.SQL(
        "SELECT {} FROM trade AS c WHERE {} ORDER BY c.timestamp DESC, c.id DESC LIMIT %s"
    ).format(select_list(TradeRow, "c"), where)
    rows = await fetch_rows(context.pool, statement, [*params, first + 1])
    return Page.from_rows(
        [TradeRow.from_row(row) for row in rows], first, trade_cursor, after=after
    )


async def trades_count(context: Context, trade_filter: TradeFilterSpec) -> int:
    conditions, params = trade_filter.conditions("c")
    where, params = combine([(conditions, params)])
    statement = sql.SQL("SELECT count(*) FROM trade AS c WHERE {}").format(where)
    rows = await fetch_rows(context.pool, statement, params)
    return int(rows[0][0])


async def trades_of_trader(
    context: Context,
    trader_id: int,
    trade_filter: TradeFilterSpec,
    first: int,
    after: str | None,
) -> Page[TradeRow]:
    check_page_size(first)
    key = PageKey(trader_id, first + 1, _after_key(after))
    rows = await context.loaders.trades_by_trader.load((key, trade_filter))
    return Page.from_rows(rows, first, trade_cursor, after=after)


async def trades_of_position(
    context: Context, position_id: int, first: int, after: str | None
) -> Page[TradeRow]:
    check_page_size(first)
    key = PageKey(position_id, first + 1, _after_key(after))
    rows = await context.loaders.trades_by_position.load((key, TradeFilterSpec()))
    return Page.from_rows(rows, first, trade_cursor, after=after)


async def trades_of_market(
    context: Context, coin: str, trade_filter: TradeFilterSpec, first: int, after: str | None
) -> Page[TradeRow]:
    check_page_size(first)
    key = PageKey(coin, first + 1, _after_key(after))
    rows = await context.loaders.trades_by_coin.load((key, trade_filter))
    return Page.from_rows(rows, first, trade_cursor, after=after)

"""Positions across all traders, and the position pages under one trader."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

from psycopg import sql

from db.query import fetch_rows
from db.rows import PositionRow, select_list
from loaders.pages import PageKey
from resolvers.context import Context
from resolvers.cursors import check_page_size, decode_cursor, encode_cursor
from resolvers.keyset import Ordering, Page
from resolvers.ranges import RangeCondition, combine

_ID = sql.SQL("p.id")
_UNREALIZED = sql.SQL("coalesce(p.unrealized_pnl, 0)")

#: Sortable fields: SQL expression (never NULL) and the cursor value's type.
ORDER_FIELDS: dict[str, tuple[sql.Composable, type]] = {
    "OPENED_AT": (sql.SQL("p.opened_at"), datetime),
    "CLOSED_AT": (sql.SQL("coalesce(p.closed_at, 'infinity')"), datetime),
    "NOTIONAL": (sql.SQL("p.notional"), Decimal),
    "SIZE": (sql.SQL("p.size"), Decimal),
    "UNREALIZED_PNL": (sql.SQL("coalesce(p.unrealized_pnl, 0)"), Decimal),
    "REALIZED_PNL": (sql.SQL("p.realized_pnl"), Decimal),
}

STATUS_CONDITIONS: dict[str, sql.Composable | None] = {
    "OPEN": sql.SQL("p.closed_at IS NULL"),
    "CLOSED": sql.SQL("p.closed_at IS NOT NULL"),
    "ANY": None,
}


@dataclass(frozen=True, slots=True)
class PositionQuery:
    status: str = "OPEN"
    trader_ids: tuple[int, ...] | None = None
    coins: tuple[str, ...] | None = None
    sides: tuple[str, ...] | None = None
    min_notional: Decimal | None = None
    unrealized_pnl: tuple[Decimal | None, Decimal | None] = (None, None)
    """Inclusive bounds on the unrealized PnL (a closed or unmarked position counts as 0)."""
    profitable: bool | None = None
    """True: in profit now (unrealized PnL > 0); False: at a loss (< 0)."""
    order_field: str = "NOTIONAL"
    descending: bool = True
    first: int = 50
    after: str | None = None

    def ordering(self) -> Ordering:
        expression, value_type = ORDER_FIELDS[self.order_field]
        return Ordering(
            name=f"positions:{self.order_field}:{self.descending}",
            expression=expression,
            value_type=value_type,
            descending=self.descending,
            tiebreak=_ID,
            tiebreak_descending=self.descending,
        )

    def where(self) -> tuple[sql.Composable, list[Any]]:
        parts: list[tuple[list[sql.Composable], list[Any]]] = []
        status = STATUS_CONDITIONS[self.status]
        if status is not None:
            parts.append(([status], []))
        if self.trader_ids is not None:
            parts.append(([sql.SQL("p.trader_id = ANY(%s)")], [list(self.trader_ids)]))
        if self.coins is not None:
            parts.append(([sql.SQL("p.coin = ANY(%s)")], [list(self.coins)]))
        if self.sides is not None:
            parts.append(([sql.SQL("p.side = ANY(%s)")], [list(self.sides)]))
        if self.min_notional is not None:
            parts.append(([sql.SQL("p.notional >= %s")], [self.min_notional]))
        low, high = self.unrealized_pnl
        parts.append(RangeCondition(_UNREALIZED, "filter.unrealizedPnl", low, high).conditions())
        if self.profitable is not None:
            sign = sql.SQL("{} > 0" if self.profitable else "{} < 0").format(_UNREALIZED)
            parts.append(([sign], []))
        return combine(parts)


async def positions_page(context: Context, query: PositionQuery) -> Page[PositionRow]:
    first = check_page_size(query.first)
    ordering = query.ordering()
    where, params = query.where()
    if query.after is not None:
        after_condition, after_params = ordering.after(query.after)
        where = sql.SQL("{} AND {}").format(where, after_condition)
        params = [*params, *after_params]
    statement = sql.SQL(
        "SELECT {columns}, {order_value} FROM position AS p WHERE {where} ORDER BY {order} LIMIT %s"
    ).format(
        columns=select_list(PositionRow, "p"),
        order_value=ordering.expression,
        where=where,
        order=ordering.order_by(),
    )
    rows = await fetch_rows(context.pool, statement, [*params, first + 1])
    entries = [(PositionRow.from_row(row[:-1]), row[-1]) for row in rows]
    page = Page.from_rows(
        entries, first, lambda e: ordering.cursor(e[1], e[0].id), after=query.after
    )
    return Page(
        items=[row for row, _ in page.items],
        cursors=page.cursors,
        has_next_page=page.has_next_page,
        has_previous_page=page.has_previous_page,
    )


async def positions_count(context: Context, query: PositionQuery) -> int:
    where, params = query.where()
    statement = sql.SQL("SELECT count(*) FROM position AS p WHERE {}").format(where)
    rows = await fetch_rows(context.pool, statement, params)
    return int(rows[0][0])


@dataclass(frozen=True, slots=True)
class PositionsAggregateRow:
    """Positions in aggregate: all of them (``coin`` None) or one market's."""

    coin: str | None
    position_count: int
    trader_count: int
    notional: Decimal
    collateral: Decimal
    unrealized_pnl: Decimal
    avg_leverage: float | None
    long_count: int
    short_count: int
    long_notional: Decimal
    short_notional: Decimal
    long_pnl: Decimal
    short_pnl: Decimal
    profitable_count: int
    losing_count: int
    winning_pnl: Decimal
    losing_pnl: Decimal


#: A position's collateral: its notional over its leverage; positions whose leverage is unknown
#: are left out of the collateral sum (their margin cannot be told).
_AGGREGATE_COLUMNS = sql.SQL("""
    count(*), count(DISTINCT p.trader_id), coalesce(sum(p.notional), 0),
    coalesce(sum(p.notional / p.leverage::numeric) FILTER (WHERE p.leverage > 0), 0),
    coalesce(sum(coalesce(p.unrealized_pnl, 0)), 0), avg(p.leverage),
    count(*) FILTER (WHERE p.side = 'LONG'), count(*) FILTER (WHERE p.side = 'SHORT'),
    coalesce(sum(p.notional) FILTER (WHERE p.side = 'LONG'), 0),
    coalesce(sum(p.notional) FILTER (WHERE p.side = 'SHORT'), 0),
    coalesce(sum(p.unrealized_pnl) FILTER (WHERE p.side = 'LONG'), 0),
    coalesce(sum(p.unrealized_pnl) FILTER (WHERE p.side = 'SHORT'), 0),
    count(*) FILTER (WHERE p.unrealized_pnl > 0), count(*) FILTER (WHERE p.unrealized_pnl < 0),
    coalesce(sum(p.unrealized_pnl) FILTER (WHERE p.unrealized_pnl > 0), 0),
    coalesce(sum(p.unrealized_pnl) FILTER (WHERE p.unrealized_pnl < 0), 0)
""")


async def positions_total(context: Context, query: PositionQuery) -> PositionsAggregateRow:
    """Every position ``query`` selects (all pages), in aggregate."""
    where, params = query.where()
    statement = sql.SQL("SELECT NULL::text, {} FROM position AS p WHERE {}").format(
        _AGGREGATE_COLUMNS, where
    )
    rows = await fetch_rows(context.pool, statement, params)
    return PositionsAggregateRow(*rows[0])


async def positions_by_market(
    context: Context, query: PositionQuery
) -> list[PositionsAggregateRow]:
    """The positions ``query`` selects, in aggregate per market, largest notional first."""
    where, params = query.where()
    statement = sql.SQL(
        "SELECT p.coin, {} FROM position AS p WHERE {} GROUP BY p.coin ORDER BY 4 DESC, p.coin"
    ).format(_AGGREGATE_COLUMNS, where)
    rows = await fetch_rows(context.pool, statement, params)
    return [PositionsAggregateRow(*row) for row in rows]


_CLOSED_CURSOR = "closedPositions"


async def closed_positions_of_trader(
    context: Context, trader_id: int, first: int, after: str | None
) -> Page[PositionRow]:
    """A trader's closed positions, most recently closed first, through the batched loader."""
    check_page_size(first)
    after_key = decode_cursor(after, _CLOSED_CURSOR, (datetime, int)) if after else None
    rows = await context.loaders.closed_positions_by_trader.load(
        PageKey(trader_id, first + 1, (after_key[0], after_key[1]) if after_key else None)
    )
    return Page.from_rows(
        rows,
        first,
        lambda row: encode_cursor(_CLOSED_CURSOR, row.closed_at, row.id),
        after=after,
    )


_MARKET_CURSOR = "marketPositions"


async def open_positions_of_market(
    context: Context, coin: str, first: int, after: str | None
) -> Page[PositionRow]:
    """The open positions in one market, largest notional first, through the batched loader."""
    check_page_size(first)
    after_key = decode_cursor(after, _MARKET_CURSOR, (Decimal, int)) if after else None
    rows = await context.loaders.open_positions_by_coin.load(
        PageKey(coin, first + 1, (after_key[0], after_key[1]) if after_key else None)
    )
    return Page.from_rows(
        rows,
        first,
        lambda row: encode_cursor(_MARKET_CURSOR, row.notional, row.id),
        after=after,
    )

"""The leaderboard: a window's precomputed statistics, filtered, ordered and paged.

Nothing is computed at request time: the scoring job writes ``trader_stats``; this reads it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any

from psycopg import sql

from db.query import fetch_rows
from db.rows import TraderRow, TraderStatsRow, select_list
from db.timeframes import Timeframe
from resolvers.context import Context
from resolvers.cursors import check_page_size
from resolvers.keyset import Ordering, Page
from resolvers.ranges import RangeCondition, combine

#: Which entry tiers each requested tier includes. ACTIVE is the broad pool of recently active
#: traders, so it includes the narrower FEATURED and ADVANCED tiers.
TIERS_INCLUDED: dict[str, tuple[str, ...] | None] = {
    "FEATURED": ("FEATURED",),
    "ADVANCED": ("ADVANCED",),
    "ACTIVE": ("FEATURED", "ADVANCED", "ACTIVE"),
    "ALL": None,
}

_RANK = sql.SQL("s.rank")

#: Sortable statistics: the GraphQL order field, its SQL expression and its cursor value type.
ORDER_FIELDS: dict[str, tuple[sql.Composable, type]] = {
    "RANK": (_RANK, int),
    "SCORE": (sql.SQL("s.score"), float),
    "NET_PNL": (sql.SQL("s.net_pnl"), Decimal),
    "REALIZED_PNL": (sql.SQL("s.realized_pnl"), Decimal),
    "UNREALIZED_PNL": (sql.SQL("s.unrealized_pnl"), Decimal),
    "VOLUME": (sql.SQL("s.volume"), Decimal),
    "FEES": (sql.SQL("s.fees"), Decimal),
    "TRADE_COUNT": (sql.SQL("s.trade_count"), int),
    "CLOSED_POSITION_COUNT": (sql.SQL("s.closed_position_count"), int),
    "WIN_RATE": (sql.SQL("coalesce(s.win_rate, -1)"), float),
    "LAST_TRADE_AT": (sql.SQL("s.last_trade_at"), datetime),
}

#: Statistics with range filters: the filter argument name and its SQL column.
RANGE_COLUMNS: dict[str, sql.Composable] = {
    "score": sql.SQL("s.score"),
    "netPnl": sql.SQL("s.net_pnl"),
    "realizedPnl": sql.SQL("s.realized_pnl"),
    "unrealizedPnl": sql.SQL("s.unrealized_pnl"),
    "volume": sql.SQL("s.volume"),
    "fees": sql.SQL("s.fees"),
    "tradeCount": sql.SQL("s.trade_count"),
    "closedPositionCount": sql.SQL("s.closed_position_count"),
    "winRate": sql.SQL("s.win_rate"),
}


@dataclass(frozen=True, slots=True)
class LeaderboardQuery:
    timeframe: str
    tier: str = "ALL"
    order_field: str = "RANK"
    descending: bool = False
    first: int = 50
    after: str | None = None
    ranges: tuple[tuple[str, Any, Any], ...] = field(default=())
    """(filter name, min, max) for each range filter given."""

    def ordering(self) -> Ordering:
        expression, value_type = ORDER_FIELDS[self.order_field]
        return Ordering(
            name=f"leaderboard:{self.timeframe}:{self.order_field}:{self.descending}",
            expression=expression,
            value_type=value_type,
            descending=self.descending,
            tiebreak=_RANK,
            tiebreak_descending=False,
        )

    def where(self) -> tuple[sql.Composable, list[Any]]:
        parts: list[tuple[list[sql.Composable], list[Any]]] = [
            ([sql.SQL("s.timeframe = %s")], [Timeframe(self.timeframe).value])
        ]
        tiers = TIERS_INCLUDED[self.tier]
        if tiers is not None:
            parts.append(([sql.SQL("s.tier = ANY(%s)")], [list(tiers)]))
        for name, minimum, maximum in self.ranges:
            condition = RangeCondition(RANGE_COLUMNS[name], f"filter.{name}", minimum, maximum)
            parts.append(condition.conditions())
        return combine(parts)


@dataclass(frozen=True, slots=True)
class LeaderboardRow:
    stats: TraderStatsRow
    trader: TraderRow


_STATS_COLUMNS = len(TraderStatsRow.__dataclass_fields__)


async def leaderboard_page(context: Context, query: LeaderboardQuery) -> Page[LeaderboardRow]:
    first = check_page_size(query.first)
    ordering = query.ordering()
    where, params = query.where()
    if query.after is not None:
        after_condition, after_params = ordering.after(query.after)
        where = sql.SQL("{} AND {}").format(where, after_condition)
        params = [*params, *after_params]
    statement = sql.SQL(
        "SELECT {stats}, {order_value}, {trader} FROM trader_stats AS s "
        "JOIN trader AS t ON t.id = s.trader_id WHERE {where} ORDER BY {order} LIMIT %s"
    ).format(
        stats=select_list(TraderStatsRow, "s"),
        order_value=ordering.expression,
        trader=select_list(TraderRow, "t"),
        where=where,
        order=ordering.order_by(),
    )
    rows = await fetch_rows(context.pool, statement, [*params, first + 1])
    entries: list[tuple[LeaderboardRow, Any]] = []
    for row in rows:
        stats = TraderStatsRow.from_row(row[:_STATS_COLUMNS])
        trader = TraderRow.from_row(row[_STATS_COLUMNS + 1 :])
        context.loaders.trader_by_id.prime(trader.id, trader)
        context.loaders.stats_by_trader.prime((trader.id, stats.timeframe), stats)
        entries.append((LeaderboardRow(stats, trader), row[_STATS_COLUMNS]))
    page = Page.from_rows(
        entries,
        first,
        lambda entry: ordering.cursor(entry[1], entry[0].stats.rank),
        after=query.after,
    )
    return Page(
        items=[entry for entry, _ in page.items],
        cursors=page.cursors,
        has_next_page=page.has_next_page,
        has_previous_page=page.has_previous_page,
    )


async def leaderboard_count(context: Context, query: LeaderboardQuery) -> int:
    where, params = query.where()
    statement = sql.SQL("SELECT count(*) FROM trader_stats AS s WHERE {}").format(where)
    rows = await fetch_rows(context.pool, statement, params)
    return int(rows[0][0])


async def leaderboard_updated_at(context: Context, timeframe: str) -> datetime | None:
    rows = await fetch_rows(
        context.pool,
        "SELECT computed_at FROM leaderboard_state WHERE timeframe = %s",
        (Timeframe(timeframe).value,),
    )
    return rows[0][0] if rows else None

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
from db.timeframes import ACTIVE_RECENCY
from resolvers.context import Context
from resolvers.cursors import check_page_size
from resolvers.keyset import Ordering, Page
from resolvers.labels import label_conditions
from resolvers.ranges import RangeCondition, camel_case, combine


def tier_condition(tier: str) -> tuple[list[sql.Composable], list[Any]] | None:
    """The entries a ``tier`` filter selects. FEATURED and ADVANCED are entry tiers; ACTIVE is
    the pool of traders with a fill in the 7 days before the board's end, whatever their entry
    tier (every FEATURED trader is in it; an ADVANCED one only if it traded that recently); ALL
    is the whole board."""
    if tier == "ALL":
        return None
    if tier == "ACTIVE":
        return [sql.SQL("s.last_trade_at > s.computed_at - %s")], [ACTIVE_RECENCY]
    return [sql.SQL("s.tier = %s")], [tier]


_RANK = sql.SQL("s.rank")

#: Every numeric statistic of a board: its snake_case column, value type and whether it can be
#: null. Each can order a board and carries a range filter (docs/methodology.md defines them).
STATISTICS: dict[str, tuple[type, bool]] = {
    "score": (float, False),
    "net_pnl": (Decimal, False),
    "realized_pnl": (Decimal, False),
    "unrealized_pnl": (Decimal, False),
    "fees": (Decimal, False),
    "funding": (Decimal, False),
    "roi": (float, True),
    "capital": (Decimal, False),
    "volume": (Decimal, False),
    "long_volume": (Decimal, False),
    "short_volume": (Decimal, False),
    "long_pnl": (Decimal, False),
    "short_pnl": (Decimal, False),
    "trade_count": (int, False),
    "closed_position_count": (int, False),
    "wins": (int, False),
    "losses": (int, False),
    "win_rate": (float, True),
    "profit_factor": (float, True),
    "avg_win": (Decimal, True),
    "avg_loss": (Decimal, True),
    "largest_win": (Decimal, True),
    "largest_loss": (Decimal, True),
    "sharpe": (float, True),
    "sortino": (float, True),
    "max_drawdown": (Decimal, False),
    "max_drawdown_pct": (float, True),
    "avg_leverage": (float, True),
    "max_leverage": (float, True),
    "avg_hold_seconds": (float, True),
    "liquidation_count": (int, False),
    "open_position_count": (int, False),
    "open_notional": (Decimal, False),
    "risk_score": (float, False),
}

#: What a null statistic sorts as: below every real value.
_NULL_SORTS_AS: dict[type, str] = {float: "-1e300", Decimal: "-1e30"}


def _order_expression(column: str, value_type: type, nullable: bool) -> sql.Composable:
    if not nullable:
        return sql.SQL("s.{}").format(sql.Identifier(column))
    return sql.SQL("coalesce(s.{}, {})").format(
        sql.Identifier(column), sql.SQL(_NULL_SORTS_AS[value_type])
    )


#: Sortable statistics: the GraphQL order field, its SQL expression and its cursor value type.
ORDER_FIELDS: dict[str, tuple[sql.Composable, type]] = {
    "RANK": (_RANK, int),
    **{
        column.upper(): (_order_expression(column, value_type, nullable), value_type)
        for column, (value_type, nullable) in STATISTICS.items()
    },
    "LAST_TRADE_AT": (sql.SQL("s.last_trade_at"), datetime),
    # The venue's account value is the trader's own (trader t), not the board's.
    "ACCOUNT_VALUE": (
        sql.SQL("coalesce(t.account_value, {})").format(sql.SQL(_NULL_SORTS_AS[Decimal])),
        Decimal,
    ),
}

#: Range filters on the trader's own figures (trader t): the filter name and its SQL column.
TRADER_RANGE_COLUMNS: dict[str, sql.Composable] = {"accountValue": sql.SQL("t.account_value")}

#: Statistics with range filters: the filter argument name (camelCase) and its SQL column.
RANGE_COLUMNS: dict[str, sql.Composable] = {
    **{camel_case(column): sql.SQL("s.{}").format(sql.Identifier(column)) for column in STATISTICS},
    **TRADER_RANGE_COLUMNS,
}


@dataclass(frozen=True, slots=True)
class LeaderboardQuery:
    timeframe: str
    """The board: a timeframe name (MONTH) or a fixed period key (WEEKLY:2026-W44)."""
    tier: str = "ALL"
    order_field: str = "RANK"
    descending: bool = False
    first: int = 50
    after: str | None = None
    ranges: tuple[tuple[str, Any, Any], ...] = field(default=())
    """(filter name, min, max) for each range filter given."""
    coins: tuple[str, ...] | None = None
    """Only traders who traded one of these coins in the window."""
    labels: tuple[str, ...] | None = None
    """Only traders carrying one of these labels (their own or a derived one)."""
    excluded_labels: tuple[str, ...] | None = None
    """No trader carrying one of these labels."""
    risk_levels: tuple[str, ...] | None = None
    dominant_side: str | None = None

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
            ([sql.SQL("s.timeframe = %s")], [self.timeframe])
        ]
        if (tier := tier_condition(self.tier)) is not None:
            parts.append(tier)
        for name, minimum, maximum in self.ranges:
            condition = RangeCondition(RANGE_COLUMNS[name], f"filter.{name}", minimum, maximum)
            parts.append(condition.conditions())
        if self.coins is not None:
            parts.append(([sql.SQL("s.coins && %s::text[]")], [list(self.coins)]))
        parts += label_conditions(sql.SQL("s.trader_id"), self.labels, self.excluded_labels)
        if self.risk_levels is not None:
            parts.append(([sql.SQL("s.risk_level = ANY(%s)")], [list(self.risk_levels)]))
        if self.dominant_side is not None:
            parts.append(([sql.SQL("s.dominant_side = %s")], [self.dominant_side]))
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


def _selected(query: LeaderboardQuery) -> sql.Composable:
    """What a count or aggregate of ``query``'s entries reads: the board, and the trader too
    when a filter is on the trader's own figures."""
    if any(name in TRADER_RANGE_COLUMNS for name, _, _ in query.ranges):
        return sql.SQL("trader_stats AS s JOIN trader AS t ON t.id = s.trader_id")
    return sql.SQL("trader_stats AS s")


async def leaderboard_count(context: Context, query: LeaderboardQuery) -> int:
    where, params = query.where()
    statement = sql.SQL("SELECT count(*) FROM {} WHERE {}").format(_selected(query), where)
    rows = await fetch_rows(context.pool, statement, params)
    return int(rows[0][0])


@dataclass(frozen=True, slots=True)
class BoardTotalsRow:
    trader_count: int
    volume: Decimal
    realized_pnl: Decimal
    net_pnl: Decimal
    avg_win_rate: float | None
    avg_leverage: float | None


async def leaderboard_totals(context: Context, query: LeaderboardQuery) -> BoardTotalsRow:
    """Every entry ``query`` selects (all pages) in aggregate (PerpsTracker's board stats)."""
    where, params = query.where()
    statement = sql.SQL(
        "SELECT count(*), coalesce(sum(s.volume), 0), coalesce(sum(s.realized_pnl), 0), "
        "coalesce(sum(s.net_pnl), 0), avg(s.win_rate), avg(s.avg_leverage) FROM {} WHERE {}"
    ).format(_selected(query), where)
    rows = await fetch_rows(context.pool, statement, params)
    return BoardTotalsRow(*rows[0])


async def leaderboard_updated_at(context: Context, board: str) -> datetime | None:
    """When board ``board`` (a timeframe name or a fixed period key) was last computed."""
    rows = await fetch_rows(
        context.pool, "SELECT computed_at FROM leaderboard_state WHERE timeframe = %s", (board,)
    )
    return rows[0][0] if rows else None

"""The analytics views of the seeds (PerpsTracker, Nansen): market overview and screener, per-coin
PnL board, positions summary, consistent / active traders, comparisons, period boards.

Figures per window come from what the scoring job precomputed (``trader_stats``,
``market_stats``, ``leaderboard_state``); views over open positions and recent trades read those
tables directly, bounded by their indexes. docs/methodology.md defines every figure.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from psycopg import sql

from db.periods import PeriodType, parse_period
from db.query import fetch_rows
from db.rows import PositionRow, TraderRow, TraderStatsRow, select_list
from resolvers.context import Context
from resolvers.cursors import check_page_size
from resolvers.errors import BadUserInputError
from resolvers.leaderboard import ORDER_FIELDS
from resolvers.positions import (
    PositionQuery,
    PositionsAggregateRow,
    positions_by_market,
    positions_total,
)

#: Long share of volume above which the overview calls the market bullish (below 1 - this:
#: bearish).
BULLISH_LONG_SHARE = 0.55
ROLLING_BOARDS = ("DAY", "WEEK", "MONTH", "YEAR", "ALL_TIME")
MAX_COMPARED = 5


def period_key(period_type: str, name: str) -> str:
    """The board key of a fixed period; BAD_USER_INPUT when ``name`` is malformed."""
    try:
        return parse_period(PeriodType(period_type), name.strip()).key
    except ValueError as error:
        raise BadUserInputError(
            f"`period`: {name!r} is not a {period_type.lower()} period "
            "(YYYY-MM-DD, YYYY-Www or YYYY-MM)",
            argument="period",
        ) from error


@dataclass(frozen=True, slots=True)
class PeriodRow:
    key: str
    trader_count: int
    computed_at: datetime


async def period_boards(context: Context, period_type: str, first: int) -> list[PeriodRow]:
    """The snapshotted periods of one type, newest first."""
    check_page_size(first)
    rows = await fetch_rows(
        context.pool,
        "SELECT timeframe, trader_count, computed_at FROM leaderboard_state "
        "WHERE timeframe LIKE %s ORDER BY computed_at DESC, timeframe DESC LIMIT %s",
        (f"{period_type}:%", first),
    )
    return [PeriodRow(*row) for row in rows]


@dataclass(frozen=True, slots=True)
class CoinFigures:
    coin: str
    volume: Decimal
    buy_volume: Decimal
    sell_volume: Decimal
    long_volume: Decimal
    short_volume: Decimal
    trade_count: int
    trader_count: int
    realized_pnl: Decimal
    fees: Decimal
    net_pnl: Decimal
    liquidation_count: int


_COIN_COLUMNS = (
    "coin, volume, buy_volume, sell_volume, long_volume, short_volume, trade_count, "
    "trader_count, realized_pnl, fees, net_pnl, liquidation_count"
)


@dataclass(frozen=True, slots=True)
class Overview:
    board: str
    computed_at: datetime | None
    trader_count: int
    coins: list[CoinFigures]
    avg_leverage: float | None
    traders_by_board: dict[str, int]
    trades_last_hour: int
    traders_last_hour: int

    def total(self, name: str) -> Any:
        values = [getattr(coin, name) for coin in self.coins]
        return sum(values, Decimal(0) if values and isinstance(values[0], Decimal) else 0)


async def market_overview(context: Context, board: str) -> Overview:
    """One board's market: per-coin figures (precomputed) and their totals."""
    pool = context.pool
    coins = await fetch_rows(
        pool,
        f"SELECT {_COIN_COLUMNS} FROM market_stats WHERE board = %s ORDER BY volume DESC, coin",
        (board,),
    )
    states = await fetch_rows(
        pool,
        "SELECT timeframe, trader_count, computed_at FROM leaderboard_state "
        "WHERE timeframe = ANY(%s)",
        (list({board, *ROLLING_BOARDS}),),
    )
    by_board = {key: (count, computed_at) for key, count, computed_at in states}
    leverage = await fetch_rows(
        pool, "SELECT avg(avg_leverage) FROM trader_stats WHERE timeframe = %s", (board,)
    )
    recent = await fetch_rows(
        pool,
        "SELECT count(*), count(DISTINCT trader_id) FROM trade "
        "WHERE timestamp > (SELECT max(timestamp) FROM trade) - interval '1 hour'",
    )
    count, computed_at = by_board.get(board, (0, None))
    return Overview(
        board=board,
        computed_at=computed_at,
        trader_count=count,
        coins=[CoinFigures(*row) for row in coins],
        avg_leverage=leverage[0][0],
        traders_by_board={key: by_board[key][0] for key in ROLLING_BOARDS if key in by_board},
        trades_last_hour=int(recent[0][0]),
        traders_last_hour=int(recent[0][1]),
    )


@dataclass(frozen=True, slots=True)
class TraderExposureRow:
    trader: TraderRow
    position_count: int
    notional: Decimal
    unrealized_pnl: Decimal


@dataclass(frozen=True, slots=True)
class PositionsSummary:
    total: PositionsAggregateRow
    by_market: list[PositionsAggregateRow]
    largest: list[PositionRow]
    most_profitable: list[PositionRow]
    least_profitable: list[PositionRow]
    top_traders: list[TraderExposureRow]


async def positions_summary(context: Context, query: PositionQuery, top: int) -> PositionsSummary:
    """The positions ``query`` selects in aggregate (PerpsTracker's positions/summary and
    positions/all stats): totals, per market, and the ``top`` largest, most and least profitable
    positions and most exposed traders."""
    if not 1 <= top <= 20:
        raise BadUserInputError("`top` must be between 1 and 20", argument="top")
    where, params = query.where()
    total = await positions_total(context, query)
    by_market = await positions_by_market(context, query)
    pool = context.pool
    columns = select_list(PositionRow, "p")

    async def positions(order: str) -> list[PositionRow]:
        statement = sql.SQL(
            "SELECT {} FROM position AS p WHERE {} ORDER BY {}, p.id LIMIT %s"
        ).format(columns, where, sql.SQL(order))
        rows = await fetch_rows(pool, statement, [*params, top])
        return [PositionRow.from_row(row) for row in rows]

    largest = await positions("p.notional DESC")
    best = await positions("coalesce(p.unrealized_pnl, 0) DESC")
    worst = await positions("coalesce(p.unrealized_pnl, 0) ASC")
    traders = await fetch_rows(
        pool,
        sql.SQL(
            "SELECT {}, e.n, e.notional, e.pnl "
            "FROM (SELECT p.trader_id, count(*) AS n, sum(p.notional) AS notional, "
            "sum(coalesce(p.unrealized_pnl, 0)) AS pnl FROM position AS p WHERE {} "
            "GROUP BY p.trader_id) AS e JOIN trader AS t ON t.id = e.trader_id "
            "ORDER BY e.notional DESC, t.id LIMIT %s"
        ).format(select_list(TraderRow, "t"), where),
        [*params, top],
    )
    width = len(TraderRow.__dataclass_fields__)
    return PositionsSummary(
        total=total,
        by_market=by_market,
        largest=largest,
        most_profitable=best,
        least_profitable=worst,
        top_traders=[
            TraderExposureRow(TraderRow.from_row(row[:width]), *row[width:]) for row in traders
        ],
    )


@dataclass(frozen=True, slots=True)
class LiquidationStats:
    count: int
    volume: Decimal
    losses: Decimal
    trader_count: int


async def liquidation_stats(
    context: Context, coins: tuple[str, ...] | None, until: datetime | None
) -> LiquidationStats:
    """Liquidation fills in the 24 hours before ``until`` (the latest fill when None)."""
    rows = await fetch_rows(
        context.pool,
        """
        WITH bound AS (SELECT coalesce(%s::timestamptz, (SELECT max(timestamp) FROM trade)) AS t)
        SELECT count(*), coalesce(sum(notional), 0),
               coalesce(-sum(least(coalesce(realized_pnl, 0) - coalesce(fee, 0), 0)), 0),
               count(DISTINCT trader_id)
        FROM trade, bound
        WHERE is_liquidation AND timestamp > bound.t - interval '24 hours'
          AND timestamp <= bound.t AND (%s::text[] IS NULL OR coin = ANY(%s))
        """,
        (until, list(coins) if coins else None, list(coins) if coins else None),
    )
    return LiquidationStats(*rows[0])


async def board_stats(context: Context, trader_ids: list[int], board: str) -> list[Any]:
    """Each trader's statistics on one board (None when not on it), in the order given."""
    rows = await fetch_rows(
        context.pool,
        f"SELECT {select_list(TraderStatsRow, 's').as_string()} FROM trader_stats AS s "
        "WHERE s.timeframe = %s AND s.trader_id = ANY(%s)",
        (board, trader_ids),
    )
    found = {row[0]: TraderStatsRow.from_row(row) for row in rows}
    return [found.get(trader_id) for trader_id in trader_ids]


@dataclass(frozen=True, slots=True)
class ConsistentRow:
    trader: TraderRow
    average_rank: float
    average_score: float
    boards: list[TraderStatsRow]


async def consistent_traders(
    context: Context, boards: tuple[str, ...], top: int, first: int
) -> list[ConsistentRow]:
    """Traders ranked within ``top`` on every board of ``boards``, by average rank."""
    check_page_size(first)
    stats = select_list(TraderStatsRow, "s").as_string()
    rows = await fetch_rows(
        context.pool,
        f"""
        WITH present AS (
            SELECT trader_id, avg(rank)::float8 AS average_rank,
                   avg(score)::float8 AS average_score
            FROM trader_stats
            WHERE timeframe = ANY(%s) AND rank <= %s
            GROUP BY trader_id HAVING count(*) = %s
            ORDER BY average_rank, average_score DESC, trader_id
            LIMIT %s
        )
        SELECT p.average_rank, p.average_score, {stats}
        FROM present AS p JOIN trader_stats AS s USING (trader_id)
        WHERE s.timeframe = ANY(%s)
        ORDER BY p.average_rank, p.average_score DESC, p.trader_id,
                 array_position(%s, s.timeframe)
        """,
        (list(boards), top, len(boards), first, list(boards), list(boards)),
    )
    stats_rows = [TraderStatsRow.from_row(row[2:]) for row in rows]
    trader_ids = list(dict.fromkeys(s.trader_id for s in stats_rows))
    traders = await context.loaders.trader_by_id.load_many(trader_ids)
    grouped: dict[int, ConsistentRow] = {}
    for trader in traders:
        assert trader is not None
        grouped[trader.id] = ConsistentRow(trader, 0.0, 0.0, [])
    for row, stats_row in zip(rows, stats_rows, strict=True):
        entry = grouped[stats_row.trader_id]
        grouped[stats_row.trader_id] = ConsistentRow(
            entry.trader, row[0], row[1], [*entry.boards, stats_row]
        )
    return list(grouped.values())


@dataclass(frozen=True, slots=True)
class AppearanceRow:
    trader: TraderRow
    daily: int
    weekly: int
    monthly: int
    best_rank: int
    latest_net_pnl: Decimal


async def snapshot_frequency(
    context: Context, top: int, min_appearances: int, first: int
) -> list[AppearanceRow]:
    """Traders by how many fixed-period boards they ranked within ``top`` on."""
    check_page_size(first)
    rows = await fetch_rows(
        context.pool,
        f"""
        SELECT {select_list(TraderRow, "t").as_string()}, a.daily, a.weekly, a.monthly,
               a.best_rank, a.latest_net_pnl
        FROM (
            SELECT trader_id,
                   count(*) FILTER (WHERE timeframe LIKE 'DAILY:%%') AS daily,
                   count(*) FILTER (WHERE timeframe LIKE 'WEEKLY:%%') AS weekly,
                   count(*) FILTER (WHERE timeframe LIKE 'MONTHLY:%%') AS monthly,
                   min(rank) AS best_rank,
                   (array_agg(net_pnl ORDER BY computed_at DESC))[1] AS latest_net_pnl
            FROM trader_stats WHERE timeframe LIKE '%%:%%' AND rank <= %s
            GROUP BY trader_id HAVING count(*) >= %s
        ) AS a JOIN trader AS t ON t.id = a.trader_id
        ORDER BY a.daily + a.weekly + a.monthly DESC, a.best_rank, t.id
        LIMIT %s
        """,
        (top, min_appearances, first),
    )
    width = len(TraderRow.__dataclass_fields__)
    return [AppearanceRow(TraderRow.from_row(row[:width]), *row[width:]) for row in rows]


async def new_entrants(
    context: Context,
    period_type: str,
    name: str | None,
    top: int,
    first: int,
    min_net_pnl: Decimal | None = None,
    order_by: tuple[str, bool] = ("RANK", False),
) -> tuple[str | None, int, list[TraderStatsRow]]:
    """Traders within ``top`` of a period's board (the latest when ``name`` is None) who were
    within ``top`` of no period of the same type that ended before it, with at least
    ``min_net_pnl`` on it, in ``order_by`` (a leaderboard order field, descending?; ties by
    rank): (the period's key, periods compared, entries)."""
    check_page_size(first)
    if name is not None:
        key = period_key(period_type, name)
    else:
        latest = await context.loaders.latest_period.load(period_type)
        if latest is None:
            return None, 0, []
        key = latest
    expression, _ = ORDER_FIELDS[order_by[0]]
    direction = sql.SQL("DESC" if order_by[1] else "ASC")
    statement = sql.SQL(
        """
        WITH this AS (SELECT computed_at FROM leaderboard_state WHERE timeframe = %(key)s),
        earlier AS (
            SELECT l.timeframe FROM leaderboard_state AS l, this
            WHERE l.timeframe LIKE %(type)s AND l.computed_at < this.computed_at)
        SELECT {columns}, (SELECT count(*) FROM earlier)
        FROM trader_stats AS s JOIN trader AS t ON t.id = s.trader_id
        WHERE s.timeframe = %(key)s AND s.rank <= %(top)s
          AND (%(min_pnl)s::numeric IS NULL OR s.net_pnl >= %(min_pnl)s)
          AND NOT EXISTS (
            SELECT 1 FROM trader_stats AS e JOIN earlier USING (timeframe)
            WHERE e.trader_id = s.trader_id AND e.rank <= %(top)s)
        ORDER BY {order} {direction}, s.rank LIMIT %(first)s
        """
    ).format(columns=select_list(TraderStatsRow, "s"), order=expression, direction=direction)
    params = {
        "key": key,
        "type": f"{period_type}:%",
        "top": top,
        "min_pnl": min_net_pnl,
        "first": first,
    }
    rows = await fetch_rows(context.pool, statement, params)
    if rows:
        compared = int(rows[0][-1])
    else:
        count = await fetch_rows(
            context.pool,
            "SELECT count(*) FROM leaderboard_state AS l WHERE l.timeframe LIKE %s AND "
            "l.computed_at < (SELECT computed_at FROM leaderboard_state WHERE timeframe = %s)",
            (f"{period_type}:%", key),
        )
        compared = int(count[0][0])
    return key, compared, [TraderStatsRow.from_row(row[:-1]) for row in rows]


@dataclass(frozen=True, slots=True)
class ChartPositionRow:
    position: PositionRow
    rank: int
    score: float


async def chart_positions(
    context: Context, coin: str, board: str, max_rank: int
) -> list[ChartPositionRow]:
    """Open positions in ``coin`` of the traders ranked within ``max_rank`` on ``board``."""
    if not 1 <= max_rank <= 500:
        raise BadUserInputError("`maxRank` must be between 1 and 500", argument="maxRank")
    rows = await fetch_rows(
        context.pool,
        f"""
        SELECT {select_list(PositionRow, "p").as_string()}, s.rank, s.score
        FROM trader_stats AS s
        JOIN position AS p ON p.trader_id = s.trader_id AND p.coin = %s AND p.closed_at IS NULL
        WHERE s.timeframe = %s AND s.rank <= %s
        ORDER BY s.rank
        """,
        (coin, board, max_rank),
    )
    width = len(PositionRow.__dataclass_fields__)
    return [ChartPositionRow(PositionRow.from_row(row[:width]), *row[width:]) for row in rows]


@dataclass(frozen=True, slots=True)
class ClosedSummary:
    closed_position_count: int
    wins: int
    losses: int
    realized_pnl: Decimal
    fees: Decimal
    funding: Decimal
    net_pnl: Decimal
    volume: Decimal


async def closed_position_summary(
    context: Context, trader_id: int, since: datetime | None
) -> ClosedSummary:
    """A trader's closed positions in aggregate (PerpsTracker's trader history summary)."""
    rows = await fetch_rows(
        context.pool,
        """
        SELECT count(*),
               count(*) FILTER (WHERE realized_pnl - fees + funding > 0),
               count(*) FILTER (WHERE realized_pnl - fees + funding <= 0),
               coalesce(sum(realized_pnl), 0), coalesce(sum(fees), 0), coalesce(sum(funding), 0),
               coalesce(sum(realized_pnl - fees + funding), 0),
               coalesce(sum(exit_notional + closed_size * entry_price), 0)
        FROM position
        WHERE trader_id = %s AND closed_at IS NOT NULL
          AND (%s::timestamptz IS NULL OR closed_at > %s)
        """,
        (trader_id, since, since),
    )
    return ClosedSummary(*rows[0])


def window_start(board: str, as_of: datetime | None) -> datetime | None:
    """Where a rolling window starts, given when its board was computed."""
    lengths = {"DAY": 1, "WEEK": 7, "MONTH": 30, "YEAR": 365}
    if as_of is None or board not in lengths:
        return None
    return as_of - timedelta(days=lengths[board])


async def recent_positions(
    context: Context, first: int
) -> tuple[list[PositionRow], list[PositionRow]]:
    """The most recently opened positions still open, and the most recently closed ones."""
    if not 1 <= first <= 50:
        raise BadUserInputError("`first` must be between 1 and 50", argument="first")
    columns = select_list(PositionRow, "p").as_string()
    opened = await fetch_rows(
        context.pool,
        f"SELECT {columns} FROM position AS p WHERE p.closed_at IS NULL "
        "ORDER BY p.opened_at DESC, p.id DESC LIMIT %s",
        (first,),
    )
    closed = await fetch_rows(
        context.pool,
        f"SELECT {columns} FROM position AS p WHERE p.closed_at IS NOT NULL "
        "ORDER BY p.closed_at DESC, p.id DESC LIMIT %s",
        (first,),
    )
    return [PositionRow.from_row(r) for r in opened], [PositionRow.from_row(r) for r in closed]


async def top_trader_ids(context: Context, board: str, max_rank: int) -> tuple[int, ...]:
    """The traders ranked within ``max_rank`` on ``board``."""
    if not 1 <= max_rank <= 100:
        raise BadUserInputError("`maxRank` must be between 1 and 100", argument="maxRank")
    rows = await fetch_rows(
        context.pool,
        "SELECT trader_id FROM trader_stats WHERE timeframe = %s AND rank <= %s ORDER BY rank",
        (board, max_rank),
    )
    return tuple(sorted(row[0] for row in rows))

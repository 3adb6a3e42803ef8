"""One coin's traders by PnL (Nansen's per-coin perp PnL leaderboard): filtered, ordered, paged.

Computed at request time from the coin's fills in the window (``trade_by_coin_time``) and its
positions: the figures depend on the coin, the window and the filters asked, a combination the
scoring job does not precompute. Each trader's figures:

* ``realized_pnl``, ``fees``, ``volume``, ``trade_count`` of its fills in the window;
  ``net_pnl`` = realized - fees; ``netflow`` = bought - sold (coin units), ``netflow_usd`` the
  same in notional;
* of its open position now: ``side``, ``position_size`` (coin units), ``position_value``
  (notional, + long / - short) and ``unrealized_pnl``; ``total_pnl`` = net + unrealized;
* of its positions active in the window (open at some point in it): ``max_size_held``, the
  largest size one reached, ``still_holding_ratio`` = position_size / max_size_held, and
  ``capital``, the largest margin one needed (max size x entry / leverage, leverage 1 when
  unknown, rounded to 8 decimals: the trader ROI's base, per coin); ``roi`` = total / capital,
  ``realized_roi`` = net / capital, ``unrealized_roi`` = unrealized / capital (null without
  capital).

Ranks number the traders the filters keep, in the order asked (ties to the trader seen first);
the cursor is the rank, so pages follow each other within one state of the data.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

from psycopg import sql

from db.query import fetch_rows
from db.rows import TraderRow, select_list
from resolvers.context import Context
from resolvers.cursors import check_page_size, decode_cursor, encode_cursor
from resolvers.keyset import Page
from resolvers.labels import label_conditions
from resolvers.ranges import combine, figure_order, figure_ranges

#: Every figure, as its column in ``figures``: each can order the board and carries an inclusive
#: range filter (camelCase name in the API).
FIGURES: tuple[str, ...] = (
    "total_pnl",
    "realized_pnl",
    "net_pnl",
    "unrealized_pnl",
    "fees",
    "volume",
    "trade_count",
    "roi",
    "realized_roi",
    "unrealized_roi",
    "position_size",
    "position_value",
    "max_size_held",
    "still_holding_ratio",
    "netflow",
    "netflow_usd",
)

_FIGURES = """
WITH fills AS (
    SELECT trader_id, sum(coalesce(realized_pnl, 0)) AS realized_pnl,
           sum(coalesce(fee, 0)) AS fees, sum(notional) AS volume, count(*) AS trade_count,
           sum(CASE direction WHEN 'BUY' THEN size ELSE -size END) AS netflow,
           sum(CASE direction WHEN 'BUY' THEN notional ELSE -notional END) AS netflow_usd
    FROM trade
    WHERE coin = %s AND (%s::timestamptz IS NULL OR timestamp > %s)
    GROUP BY trader_id
),
held AS (
    SELECT trader_id, max(max_size) AS max_size_held,
           round(max(max_size * entry_price
                     / CASE WHEN leverage > 0 THEN leverage::numeric ELSE 1 END), 8) AS capital,
           coalesce(sum(size) FILTER (WHERE closed_at IS NULL), 0) AS position_size,
           coalesce(sum(CASE side WHEN 'LONG' THEN notional ELSE -notional END)
                    FILTER (WHERE closed_at IS NULL), 0) AS position_value,
           coalesce(sum(coalesce(unrealized_pnl, 0)) FILTER (WHERE closed_at IS NULL), 0)
               AS unrealized_pnl,
           max(side) FILTER (WHERE closed_at IS NULL) AS side
    FROM position
    WHERE coin = %s AND (closed_at IS NULL OR %s::timestamptz IS NULL OR closed_at > %s)
    GROUP BY trader_id
),
joined AS (
    SELECT trader_id, coalesce(f.realized_pnl, 0) AS realized_pnl, coalesce(f.fees, 0) AS fees,
           coalesce(f.realized_pnl - f.fees, 0) AS net_pnl,
           coalesce(h.unrealized_pnl, 0) AS unrealized_pnl,
           coalesce(f.volume, 0) AS volume, coalesce(f.trade_count, 0)::int AS trade_count,
           coalesce(f.netflow, 0) AS netflow, coalesce(f.netflow_usd, 0) AS netflow_usd,
           h.side, coalesce(h.position_size, 0) AS position_size,
           coalesce(h.position_value, 0) AS position_value,
           coalesce(h.max_size_held, 0) AS max_size_held, coalesce(h.capital, 0) AS capital
    FROM fills AS f FULL JOIN held AS h USING (trader_id)
),
figures AS (
    SELECT *, net_pnl + unrealized_pnl AS total_pnl,
           CASE WHEN capital > 0 THEN ((net_pnl + unrealized_pnl) / capital)::float8 END AS roi,
           CASE WHEN capital > 0 THEN (net_pnl / capital)::float8 END AS realized_roi,
           CASE WHEN capital > 0 THEN (unrealized_pnl / capital)::float8 END AS unrealized_roi,
           CASE WHEN max_size_held > 0 THEN (position_size / max_size_held)::float8 END
               AS still_holding_ratio
    FROM joined
),
ranked AS (
    SELECT f.*, row_number() OVER (ORDER BY {order}, f.trader_id) AS rank,
           count(*) OVER () AS matching
    FROM figures AS f WHERE {where}
)
SELECT {trader}, r.rank, r.matching, r.realized_pnl, r.fees, r.net_pnl, r.unrealized_pnl,
       r.total_pnl, r.volume, r.trade_count, r.side, r.position_size, r.position_value,
       r.max_size_held, r.still_holding_ratio, r.capital, r.roi, r.realized_roi,
       r.unrealized_roi, r.netflow, r.netflow_usd
FROM ranked AS r JOIN trader AS t ON t.id = r.trader_id
WHERE r.rank > %s
ORDER BY r.rank
LIMIT %s
"""


@dataclass(frozen=True, slots=True)
class CoinPnlRow:
    trader: TraderRow
    rank: int
    matching: int
    realized_pnl: Decimal
    fees: Decimal
    net_pnl: Decimal
    unrealized_pnl: Decimal
    total_pnl: Decimal
    volume: Decimal
    trade_count: int
    side: str | None
    position_size: Decimal
    position_value: Decimal
    max_size_held: Decimal
    still_holding_ratio: float | None
    capital: Decimal
    roi: float | None
    realized_roi: float | None
    unrealized_roi: float | None
    netflow: Decimal
    netflow_usd: Decimal


@dataclass(frozen=True, slots=True)
class CoinPnlQuery:
    coin: str
    since: datetime | None
    """The window's start (its fills after it); None for all time."""
    order_field: str = "total_pnl"
    descending: bool = True
    first: int = 50
    after: str | None = None
    ranges: tuple[tuple[str, Any, Any], ...] = ()
    """(figure, min, max) for each range filter given, the figure in snake_case."""
    trader_ids: tuple[int, ...] | None = None
    labels: tuple[str, ...] | None = None
    """Only traders carrying one of these labels (their own or a derived one)."""
    excluded_labels: tuple[str, ...] | None = None
    """No trader carrying one of these labels."""

    @property
    def cursor_kind(self) -> str:
        return f"coinPnl:{self.coin}:{self.order_field}:{self.descending}"

    def where(self) -> tuple[sql.Composable, list[Any]]:
        parts = figure_ranges(self.ranges)
        if self.trader_ids is not None:
            parts.append(([sql.SQL("f.trader_id = ANY(%s)")], [list(self.trader_ids)]))
        parts += label_conditions(sql.SQL("f.trader_id"), self.labels, self.excluded_labels)
        return combine(parts)

    def order(self) -> sql.Composable:
        return figure_order(self.order_field, self.descending)


async def coin_pnl_page(
    context: Context, query: CoinPnlQuery
) -> tuple[Page[CoinPnlRow], Callable[[], Awaitable[int]]]:
    """One page of the board, and how many traders the filters keep (all pages): read off the
    page's rows, or, for an empty page past the last one, computed again only when asked."""
    first = check_page_size(query.first)
    after = decode_cursor(query.after, query.cursor_kind, (int,))[0] if query.after else 0
    rows = await _rows(context, query, after, first + 1)
    entries = [_entry(row) for row in rows]
    page = Page.from_rows(
        entries, first, lambda row: encode_cursor(query.cursor_kind, row.rank), after=query.after
    )
    known = entries[0].matching if entries else 0 if after == 0 else None

    async def matching() -> int:
        if known is not None:
            return known
        first_row = await _rows(context, query, 0, 1)
        return _entry(first_row[0]).matching if first_row else 0

    return page, matching


async def _rows(
    context: Context, query: CoinPnlQuery, after: int, limit: int
) -> list[tuple[Any, ...]]:
    where, where_params = query.where()
    statement = sql.SQL(_FIGURES).format(
        order=query.order(), where=where, trader=select_list(TraderRow, "t")
    )
    window = [query.coin, query.since, query.since]
    return await fetch_rows(
        context.pool, statement, [*window, *window, *where_params, after, limit]
    )


def _entry(row: tuple[Any, ...]) -> CoinPnlRow:
    width = len(TraderRow.__dataclass_fields__)
    return CoinPnlRow(TraderRow.from_row(row[:width]), *row[width:])

"""Statistics and leaderboards, recomputed set-wise in SQL (one statement per window).

Until the full scoring model lands, a board ranks traders by net PnL in the window
(realized - fees + funding); ``score`` is the trader's percentile of net PnL on that board
(0-100). Ties are broken by the lower trader id, so ranks are stable between recomputations.
docs/methodology.md defines every figure.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from psycopg import AsyncConnection

from db.timeframes import Timeframe

LEADERBOARD_CHANNEL = "perpgraph_leaderboard"

#: Tier thresholds: a score at or above this puts a trader in ADVANCED (or FEATURED).
HIGH_SCORE = 80.0
#: FEATURED also needs this many closed positions in the window ...
FEATURED_MIN_CLOSED_POSITIONS = 3
#: ... and a trade this recently.
FEATURED_RECENCY = timedelta(days=3)
#: ACTIVE needs a trade this recently.
ACTIVE_RECENCY = timedelta(days=7)


@dataclass(frozen=True, slots=True)
class BoardSize:
    timeframe: Timeframe
    traders: int


_RECOMPUTE_WINDOW = """
WITH trades AS (
    SELECT trader_id,
           sum(coalesce(realized_pnl, 0)) AS realized_pnl,
           sum(coalesce(fee, 0)) AS fees,
           sum(notional) AS volume,
           count(*) AS trade_count,
           count(*) FILTER (WHERE is_liquidation) AS liquidation_count,
           max(timestamp) AS last_trade_at
    FROM trade
    WHERE timestamp > %(since)s AND timestamp <= %(as_of)s
    GROUP BY trader_id
),
closed AS (
    SELECT trader_id,
           count(*) AS closed_position_count,
           count(*) FILTER (WHERE realized_pnl - fees + funding > 0) AS wins,
           count(*) FILTER (WHERE realized_pnl - fees + funding <= 0) AS losses
    FROM position
    WHERE closed_at > %(since)s AND closed_at <= %(as_of)s
    GROUP BY trader_id
),
open AS (
    SELECT trader_id, count(*) AS open_position_count,
           sum(coalesce(unrealized_pnl, 0)) AS unrealized_pnl
    FROM position WHERE closed_at IS NULL
    GROUP BY trader_id
),
ranked AS (
    SELECT t.trader_id, t.realized_pnl, coalesce(o.unrealized_pnl, 0) AS unrealized_pnl,
           t.fees, 0::numeric AS funding, t.realized_pnl - t.fees AS net_pnl, t.volume,
           t.trade_count, coalesce(c.closed_position_count, 0) AS closed_position_count,
           coalesce(c.wins, 0) AS wins, coalesce(c.losses, 0) AS losses,
           t.liquidation_count, coalesce(o.open_position_count, 0) AS open_position_count,
           t.last_trade_at,
           100 * CASE WHEN count(*) OVER () = 1 THEN 1
                      ELSE percent_rank() OVER (ORDER BY t.realized_pnl - t.fees) END AS score,
           row_number() OVER (ORDER BY t.realized_pnl - t.fees DESC, t.trader_id) AS rank
    FROM trades AS t
    LEFT JOIN closed AS c USING (trader_id)
    LEFT JOIN open AS o USING (trader_id)
)
INSERT INTO trader_stats (
    trader_id, timeframe, realized_pnl, unrealized_pnl, fees, funding, net_pnl, volume,
    trade_count, closed_position_count, wins, losses, win_rate, liquidation_count,
    open_position_count, score, rank, tier, last_trade_at, computed_at)
SELECT trader_id, %(window)s, realized_pnl, unrealized_pnl, fees, funding, net_pnl, volume,
       trade_count, closed_position_count, wins, losses,
       CASE WHEN closed_position_count > 0 THEN wins::float8 / closed_position_count END,
       liquidation_count, open_position_count, score, rank,
       CASE WHEN score >= %(high_score)s
                 AND closed_position_count >= %(featured_closed)s
                 AND last_trade_at > %(as_of)s - %(featured_recency)s THEN 'FEATURED'
            WHEN score >= %(high_score)s THEN 'ADVANCED'
            WHEN last_trade_at > %(as_of)s - %(active_recency)s THEN 'ACTIVE'
            ELSE 'ALL' END,
       last_trade_at, %(as_of)s
FROM ranked
"""


async def recompute_leaderboards(
    connection: AsyncConnection,
    *,
    as_of: datetime | None = None,
    timeframes: tuple[Timeframe, ...] = tuple(Timeframe),
) -> list[BoardSize]:
    """Recompute the statistics of every trader for ``timeframes``, in one transaction.

    Readers see either the old boards or the new ones, never a mix. Listeners on
    ``perpgraph_leaderboard`` hear of it when it commits.
    """
    moment = as_of or datetime.now(UTC)
    sizes: list[BoardSize] = []
    async with connection.transaction():
        for window in timeframes:
            length = window.length
            since = moment - length if length is not None else datetime.min.replace(tzinfo=UTC)
            await connection.execute("DELETE FROM trader_stats WHERE timeframe = %s", (window,))
            cursor = await connection.execute(
                _RECOMPUTE_WINDOW,
                {
                    "since": since,
                    "as_of": moment,
                    "window": window.value,
                    "high_score": HIGH_SCORE,
                    "featured_closed": FEATURED_MIN_CLOSED_POSITIONS,
                    "featured_recency": FEATURED_RECENCY,
                    "active_recency": ACTIVE_RECENCY,
                },
            )
            count = cursor.rowcount
            await connection.execute(
                """
                INSERT INTO leaderboard_state (timeframe, computed_at, trader_count)
                VALUES (%s, %s, %s)
                ON CONFLICT (timeframe) DO UPDATE SET
                    computed_at = excluded.computed_at, trader_count = excluded.trader_count
                """,
                (window.value, moment, count),
            )
            sizes.append(BoardSize(window, count))
        await connection.execute(
            "SELECT pg_notify(%s, %s)", (LEADERBOARD_CHANNEL, moment.isoformat())
        )
    return sizes

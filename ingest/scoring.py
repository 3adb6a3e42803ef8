"""Statistics, scores, tiers and leaderboards, recomputed set-wise in SQL.

One statement per board computes every trader's figures from the trade and position tables
(``_RECOMPUTE_BOARD``); ``ingest/metrics.py`` holds the same formulas as pure functions, and
docs/methodology.md defines them. Boards are the rolling windows (DAY ... ALL_TIME) and the
fixed periods (``ingest/periods.py``); they share the statement and differ only in their bounds.

Ranks order by score, then net PnL, then the trader perpgraph saw first (lower id), so they run
1..n without gaps and are stable between recomputations.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from psycopg import AsyncConnection

from db.timeframes import Timeframe
from ingest.metrics import (
    DAYS_PER_YEAR,
    FULL_EVIDENCE_CLOSED_POSITIONS,
    RISK_FULL_LEVERAGE,
    RISK_LEVEL_BOUNDS,
    RISK_WEIGHTS,
    SCORE_WEIGHTS,
)

LEADERBOARD_CHANNEL = "perpgraph_leaderboard"

#: ADVANCED: a score at or above this (and not FEATURED).
HIGH_SCORE = 80.0
#: FEATURED: the eligibility gates (MillionScan's six criteria, made explicit) ...
FEATURED_MIN_SCORE = 60.0
FEATURED_MIN_CLOSED_POSITIONS = 5
FEATURED_MIN_VOLUME = 10_000
FEATURED_WIN_RATE_BAND = (0.30, 0.90)
FEATURED_MAX_DRAWDOWN = 0.50
#: ... and a trade this recently.
FEATURED_RECENCY = timedelta(days=3)
#: ACTIVE needs a trade this recently.
ACTIVE_RECENCY = timedelta(days=7)

#: Derived labels (computed on the ALL_TIME board; docs/methodology.md gives the rules).
WHALE_OPEN_NOTIONAL = 1_000_000
WHALE_VOLUME = 10_000_000
SMART_MONEY_MIN_SCORE = 70.0
SMART_MONEY_MIN_CLOSED_POSITIONS = 10

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


@dataclass(frozen=True, slots=True)
class BoardSize:
    timeframe: str
    traders: int


#: Every statistic of one board, computed in one statement. ``day`` numbers 24-hour buckets
#: backwards from the board's end (0 = its last 24 hours): the daily PnL series of Sharpe,
#: Sortino and drawdown.
_RECOMPUTE_BOARD = """
WITH fills AS (
    SELECT trader_id, coin, timestamp, notional, is_liquidation,
           coalesce(realized_pnl, 0) AS realized, coalesce(fee, 0) AS fee,
           CASE WHEN action = 'FLIP' THEN CASE side WHEN 'LONG' THEN 'SHORT' ELSE 'LONG' END
                ELSE side END AS pnl_side,
           side,
           floor(extract(epoch FROM %(as_of)s - timestamp) / 86400)::int AS day
    FROM trade
    WHERE timestamp > %(since)s AND timestamp <= %(as_of)s
),
per_trader AS (
    SELECT trader_id,
           sum(realized) AS realized_pnl, sum(fee) AS fees, sum(notional) AS volume,
           count(*) AS trade_count,
           count(*) FILTER (WHERE is_liquidation) AS liquidation_count,
           max(timestamp) AS last_trade_at,
           coalesce(sum(realized - fee) FILTER (WHERE pnl_side = 'LONG'), 0) AS long_pnl,
           coalesce(sum(realized - fee) FILTER (WHERE pnl_side = 'SHORT'), 0) AS short_pnl,
           coalesce(sum(notional) FILTER (WHERE side = 'LONG'), 0) AS long_volume,
           coalesce(sum(notional) FILTER (WHERE side = 'SHORT'), 0) AS short_volume
    FROM fills GROUP BY trader_id
),
per_coin AS (
    SELECT trader_id, coin, sum(notional) AS volume FROM fills GROUP BY trader_id, coin
),
coins AS (
    SELECT trader_id, array_agg(coin ORDER BY volume DESC, coin) AS coins
    FROM per_coin GROUP BY trader_id
),
daily AS (
    SELECT trader_id, day, sum(realized - fee) AS pnl FROM fills GROUP BY trader_id, day
),
closed AS (
    SELECT trader_id, count(*) AS closed_position_count,
           count(*) FILTER (WHERE net > 0) AS wins,
           count(*) FILTER (WHERE net <= 0) AS losses,
           sum(funding) AS funding,
           coalesce(sum(net) FILTER (WHERE net > 0), 0) AS gross_profit,
           coalesce(-sum(net) FILTER (WHERE net < 0), 0) AS gross_loss,
           avg(net) FILTER (WHERE net > 0) AS avg_win,
           avg(net) FILTER (WHERE net <= 0) AS avg_loss,
           max(net) FILTER (WHERE net > 0) AS largest_win,
           min(net) FILTER (WHERE net < 0) AS largest_loss,
           avg(extract(epoch FROM closed_at - opened_at))::float8 AS avg_hold_seconds
    FROM (SELECT trader_id, funding, opened_at, closed_at,
                 realized_pnl - fees + funding AS net
          FROM position WHERE closed_at > %(since)s AND closed_at <= %(as_of)s) AS c
    GROUP BY trader_id
),
active AS (
    SELECT trader_id, avg(leverage) AS avg_leverage, max(leverage) AS max_leverage,
           max(round(max_size * entry_price
                     / CASE WHEN leverage > 0 THEN leverage::numeric ELSE 1 END, 8)) AS capital
    FROM position
    WHERE opened_at <= %(as_of)s AND (closed_at IS NULL OR closed_at > %(since)s)
    GROUP BY trader_id
),
open AS (
    SELECT trader_id, count(*) AS open_position_count,
           sum(coalesce(unrealized_pnl, 0)) AS unrealized_pnl, sum(notional) AS open_notional
    FROM position WHERE closed_at IS NULL
    GROUP BY trader_id
),
series AS (
    SELECT d.trader_id, d.day, coalesce(a.capital, 0) AS capital,
           sum(d.pnl) OVER (PARTITION BY d.trader_id ORDER BY d.day DESC
                            ROWS UNBOUNDED PRECEDING) AS cumulative
    FROM daily AS d LEFT JOIN active AS a USING (trader_id)
),
peaks AS (
    SELECT trader_id, capital, cumulative,
           greatest(0, max(cumulative) OVER (PARTITION BY trader_id ORDER BY day DESC
                                             ROWS UNBOUNDED PRECEDING)) AS peak
    FROM series
),
days AS (
    SELECT trader_id, max(day) + 1 AS n, sum(pnl)::float8 AS total,
           sum(pnl * pnl)::float8 AS squares,
           sum(least(pnl, 0) * least(pnl, 0))::float8 AS downside
    FROM daily GROUP BY trader_id
),
drawdowns AS (
    SELECT trader_id, max(peak - cumulative) AS max_drawdown,
           CASE WHEN bool_and(capital <= 0) THEN NULL
                ELSE coalesce(max(((peak - cumulative) / nullif(capital + peak, 0))::float8)
                              FILTER (WHERE capital + peak > 0), 0) END AS max_drawdown_pct
    FROM peaks GROUP BY trader_id
),
figures AS (
    SELECT t.trader_id, t.realized_pnl, coalesce(o.unrealized_pnl, 0) AS unrealized_pnl,
           t.fees, coalesce(c.funding, 0) AS funding,
           t.realized_pnl - t.fees + coalesce(c.funding, 0) AS net_pnl,
           t.volume, t.trade_count,
           coalesce(c.closed_position_count, 0) AS closed_position_count,
           coalesce(c.wins, 0) AS wins, coalesce(c.losses, 0) AS losses,
           CASE WHEN c.closed_position_count > 0
                THEN c.wins::float8 / c.closed_position_count END AS win_rate,
           t.liquidation_count, coalesce(o.open_position_count, 0) AS open_position_count,
           coalesce(o.open_notional, 0) AS open_notional,
           t.last_trade_at,
           CASE WHEN a.capital > 0
                THEN ((t.realized_pnl - t.fees + coalesce(c.funding, 0)) / a.capital)::float8
                END AS roi,
           coalesce(a.capital, 0) AS capital,
           CASE WHEN c.gross_loss > 0 THEN (c.gross_profit / c.gross_loss)::float8 END
               AS profit_factor,
           c.avg_win, c.avg_loss, c.largest_win, c.largest_loss, c.avg_hold_seconds,
           CASE WHEN d.n >= 2 AND (d.squares - d.total * d.total / d.n) / (d.n - 1) > 1e-18
                THEN (d.total / d.n)
                     / sqrt((d.squares - d.total * d.total / d.n) / (d.n - 1))
                     * sqrt(%(days_per_year)s) END AS sharpe,
           CASE WHEN d.n >= 2 AND d.downside / d.n > 1e-18
                THEN (d.total / d.n) / sqrt(d.downside / d.n) * sqrt(%(days_per_year)s)
                END AS sortino,
           d.n AS days_in_series,
           coalesce(dd.max_drawdown, 0) AS max_drawdown, dd.max_drawdown_pct,
           a.avg_leverage, a.max_leverage,
           t.long_pnl, t.short_pnl, t.long_volume, t.short_volume,
           CASE WHEN t.long_volume >= t.short_volume THEN 'LONG' ELSE 'SHORT' END
               AS dominant_side,
           k.coins
    FROM per_trader AS t
    LEFT JOIN closed AS c USING (trader_id)
    LEFT JOIN open AS o USING (trader_id)
    LEFT JOIN active AS a USING (trader_id)
    LEFT JOIN days AS d USING (trader_id)
    LEFT JOIN drawdowns AS dd USING (trader_id)
    LEFT JOIN coins AS k USING (trader_id)
),
components AS (
    SELECT f.*,
           CASE WHEN count(*) OVER () = 1 THEN 100
                ELSE 100 * percent_rank() OVER (ORDER BY net_pnl) END AS score_pnl,
           CASE WHEN count(*) OVER () = 1 THEN 100
                ELSE 100 * percent_rank() OVER (ORDER BY coalesce(roi, '-Infinity')) END
               AS score_roi,
           CASE WHEN count(*) OVER () = 1 THEN 100
                ELSE 100 * percent_rank() OVER (ORDER BY coalesce(sharpe, '-Infinity')) END
               AS score_sharpe,
           100 * coalesce(win_rate, 0) AS score_win_rate,
           CASE WHEN max_drawdown_pct IS NULL THEN 0
                ELSE 100 * (1 - least(max_drawdown_pct, 1)) END AS score_drawdown,
           least(1, closed_position_count::float8 / %(full_evidence)s) AS score_evidence,
           100 * (%(risk_leverage)s * least(coalesce(avg_leverage, 0) / %(risk_full_leverage)s, 1)
                  + %(risk_drawdown)s * least(coalesce(max_drawdown_pct, 0), 1)
                  + %(risk_liquidations)s
                    * least(liquidation_count::float8 / greatest(closed_position_count, 1), 1))
               AS risk_score
    FROM figures AS f
),
scored AS (
    SELECT *,
           score_evidence * (%(w_pnl)s * score_pnl + %(w_roi)s * score_roi
                             + %(w_sharpe)s * score_sharpe + %(w_win_rate)s * score_win_rate
                             + %(w_drawdown)s * score_drawdown) AS score
    FROM components
)
INSERT INTO trader_stats (
    trader_id, timeframe, realized_pnl, unrealized_pnl, fees, funding, net_pnl, volume,
    trade_count, closed_position_count, wins, losses, win_rate, liquidation_count,
    open_position_count, score, rank, tier, last_trade_at, computed_at,
    roi, capital, profit_factor, avg_win, avg_loss, largest_win, largest_loss,
    avg_hold_seconds, sharpe, sortino, days_in_series, max_drawdown, max_drawdown_pct,
    avg_leverage, max_leverage, long_pnl, short_pnl, long_volume, short_volume, dominant_side,
    dominant_coin, coins, open_notional, risk_score, risk_level, score_pnl, score_roi,
    score_sharpe, score_win_rate, score_drawdown, score_evidence)
SELECT trader_id, %(window)s, realized_pnl, unrealized_pnl, fees, funding, net_pnl, volume,
       trade_count, closed_position_count, wins, losses, win_rate, liquidation_count,
       open_position_count, score,
       row_number() OVER (ORDER BY score DESC, net_pnl DESC, trader_id),
       CASE WHEN score >= %(featured_score)s
                 AND closed_position_count >= %(featured_closed)s
                 AND volume >= %(featured_volume)s
                 AND win_rate BETWEEN %(featured_win_low)s AND %(featured_win_high)s
                 AND coalesce(max_drawdown_pct, 1) <= %(featured_drawdown)s
                 AND roi > 0
                 AND last_trade_at > %(as_of)s - %(featured_recency)s THEN 'FEATURED'
            WHEN score >= %(high_score)s THEN 'ADVANCED'
            WHEN last_trade_at > %(as_of)s - %(active_recency)s THEN 'ACTIVE'
            ELSE 'ALL' END,
       last_trade_at, %(as_of)s,
       roi, capital, profit_factor, avg_win, avg_loss, largest_win, largest_loss,
       avg_hold_seconds, sharpe, sortino, days_in_series, max_drawdown, max_drawdown_pct,
       avg_leverage, max_leverage, long_pnl, short_pnl, long_volume, short_volume, dominant_side,
       coins[1], coins, open_notional, risk_score,
       CASE WHEN risk_score < %(risk_low)s THEN 'CONSERVATIVE'
            WHEN risk_score < %(risk_high)s THEN 'MODERATE'
            ELSE 'AGGRESSIVE' END,
       score_pnl, score_roi, score_sharpe, score_win_rate, score_drawdown, score_evidence
FROM scored
"""

_LABELS = """
WITH derived AS (
    SELECT trader_id, 'WHALE' AS label FROM trader_stats
    WHERE timeframe = 'ALL_TIME'
      AND (open_notional >= %(whale_open)s OR volume >= %(whale_volume)s)
    UNION ALL
    SELECT trader_id, 'SMART_MONEY' FROM trader_stats
    WHERE timeframe = 'ALL_TIME' AND score >= %(smart_score)s AND net_pnl > 0
      AND closed_position_count >= %(smart_closed)s
)
INSERT INTO trader_label (trader_id, label, assigned_at)
SELECT trader_id, label, %(as_of)s FROM derived
"""


def board_parameters(key: str, since: datetime, as_of: datetime) -> dict[str, Any]:
    """The statement's parameters for one board: its key and bounds, and every constant."""
    return {
        "window": key,
        "since": since,
        "as_of": as_of,
        "days_per_year": DAYS_PER_YEAR,
        "full_evidence": FULL_EVIDENCE_CLOSED_POSITIONS,
        "risk_full_leverage": RISK_FULL_LEVERAGE,
        "risk_leverage": RISK_WEIGHTS["leverage"],
        "risk_drawdown": RISK_WEIGHTS["drawdown"],
        "risk_liquidations": RISK_WEIGHTS["liquidations"],
        "risk_low": RISK_LEVEL_BOUNDS[0],
        "risk_high": RISK_LEVEL_BOUNDS[1],
        "w_pnl": SCORE_WEIGHTS["pnl"],
        "w_roi": SCORE_WEIGHTS["roi"],
        "w_sharpe": SCORE_WEIGHTS["sharpe"],
        "w_win_rate": SCORE_WEIGHTS["win_rate"],
        "w_drawdown": SCORE_WEIGHTS["drawdown"],
        "high_score": HIGH_SCORE,
        "featured_score": FEATURED_MIN_SCORE,
        "featured_closed": FEATURED_MIN_CLOSED_POSITIONS,
        "featured_volume": FEATURED_MIN_VOLUME,
        "featured_win_low": FEATURED_WIN_RATE_BAND[0],
        "featured_win_high": FEATURED_WIN_RATE_BAND[1],
        "featured_drawdown": FEATURED_MAX_DRAWDOWN,
        "featured_recency": FEATURED_RECENCY,
        "active_recency": ACTIVE_RECENCY,
    }


async def compute_board(
    connection: AsyncConnection, key: str, since: datetime, as_of: datetime
) -> int:
    """Replace board ``key`` with the figures of fills in (since, as_of]; its trader count."""
    await connection.execute("DELETE FROM trader_stats WHERE timeframe = %s", (key,))
    cursor = await connection.execute(_RECOMPUTE_BOARD, board_parameters(key, since, as_of))
    count = cursor.rowcount
    await connection.execute(
        """
        INSERT INTO leaderboard_state (timeframe, computed_at, trader_count)
        VALUES (%s, %s, %s)
        ON CONFLICT (timeframe) DO UPDATE SET
            computed_at = excluded.computed_at, trader_count = excluded.trader_count
        """,
        (key, as_of, count),
    )
    return count


async def recompute_labels(connection: AsyncConnection, as_of: datetime) -> None:
    """Re-derive WHALE and SMART_MONEY from the ALL_TIME board."""
    await connection.execute("DELETE FROM trader_label")
    await connection.execute(
        _LABELS,
        {
            "as_of": as_of,
            "whale_open": WHALE_OPEN_NOTIONAL,
            "whale_volume": WHALE_VOLUME,
            "smart_score": SMART_MONEY_MIN_SCORE,
            "smart_closed": SMART_MONEY_MIN_CLOSED_POSITIONS,
        },
    )


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
            since = moment - length if length is not None else _EPOCH
            count = await compute_board(connection, window.value, since, moment)
            sizes.append(BoardSize(window.value, count))
        if Timeframe.ALL_TIME in timeframes:
            await recompute_labels(connection, moment)
        await connection.execute(
            "SELECT pg_notify(%s, %s)", (LEADERBOARD_CHANNEL, moment.isoformat())
        )
    return sizes

"""Statistics, scores, tiers and leaderboards, recomputed set-wise in SQL.

One statement computes every trader's figures, and every coin's partial sums, for all the boards
ending at the same moment (``_STAGE_FIGURES``), whatever the number of boards; it runs once per
partition of the traders, the partitions at once on their own connections
(``ingest/partitions.py``). A second one scores, ranks and tiers every trader and replaces the
boards (``_WRITE_BOARDS``). ``ingest/metrics.py`` holds the same formulas as pure functions, and
docs/methodology.md defines them. Boards are the rolling windows (DAY ... ALL_TIME) and the
fixed periods (``db/periods.py``); they share the statements and differ only in their bounds.

Ranks order by score, then net PnL, then the trader perpgraph saw first (lower id), so they run
1..n without gaps and are stable between recomputations.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import psycopg
from psycopg import AsyncConnection, sql
from psycopg.pq import TransactionStatus

from db.periods import BACKFILL_LIMIT, PeriodType, ended_periods
from db.planner import HASH_JOINS_ONLY, planner_settings
from db.timeframes import ACTIVE_RECENCY, Timeframe
from ingest.metrics import (
    DAYS_PER_YEAR,
    FEATURED_MAX_DRAWDOWN,
    FEATURED_MIN_CLOSED_POSITIONS,
    FEATURED_MIN_SCORE,
    FEATURED_MIN_VOLUME,
    FEATURED_RECENCY,
    FEATURED_WIN_RATE_BAND,
    FULL_EVIDENCE_CLOSED_POSITIONS,
    HIGH_SCORE,
    RISK_FULL_LEVERAGE,
    RISK_LEVEL_BOUNDS,
    RISK_WEIGHTS,
    SCORE_WEIGHTS,
    SMART_MONEY_MIN_CLOSED_POSITIONS,
    SMART_MONEY_MIN_SCORE,
    WHALE_OPEN_NOTIONAL,
    WHALE_VOLUME,
)
from ingest.partitions import partition_filter, run_partitions, stage_tables

log = logging.getLogger(__name__)

LEADERBOARD_CHANNEL = "perpgraph_leaderboard"
#: The transaction-level advisory lock a recompute holds from its first read to its commit.
BOARDS_LOCK = 0x7065_7270_0001


@dataclass(frozen=True, slots=True)
class BoardSize:
    timeframe: str
    traders: int


def describe_boards(boards: list[BoardSize]) -> str:
    """``DAY 12, WEEK 40, ...``: each board and its trader count, for logs and the CLI."""
    return ", ".join(f"{board.timeframe} {board.traders}" for board in boards)


#: Every figure of several boards ending at the same moment but the scores, ranks and tiers,
#: for the traders of one partition (``{partition}``), into the stage tables. The boards'
#: lengths are whole days, strictly ascending (ALL_TIME is a very long one). ``day`` numbers
#: 24-hour buckets backwards from the end (0 = the last 24 hours): the daily PnL series of
#: Sharpe, Sortino and drawdown. ``band`` says which boards a day belongs to: band b (the number
#: of lengths <= day) is in board w (1-based) when b < w, so every board is a sum of bands and
#: the trades are read twice whatever the number of boards: per trader and day for the PnL
#: series (one sum), per trader, band and coin for everything else. Drawdown is decomposed per
#: band: with C the cumulative daily PnL, R its running peak inside the band, and P the peak
#: before the band, the band's worst fall is max(P - min C, max(R - C)). The daily rows are
#: grouped on ``nb`` and ``nd`` (band and day negated: oldest first), the order both window
#: passes of the curve and the per-band sums read them in, so the series is sorted once; the
#: squares of the daily PnL take one conversion to float per day. A position's margin is rounded
#: after the maximum (rounding is monotonic), and a whole-number leverage is divided by as an
#: integer: the same numeric value, without the float-to-text conversion of ``::numeric``.
_STAGE_FIGURES = """
WITH windows AS (
    SELECT w::int AS w, key FROM unnest(%(keys)s::text[]) WITH ORDINALITY AS u(key, w)
),
coin_bands AS (
    SELECT trader_id, coin, width_bucket(day, %(lengths)s::int[]) AS band,
           sum(realized) AS realized_pnl, sum(fee) AS fees, sum(notional) AS volume,
           count(*) AS trade_count,
           count(*) FILTER (WHERE is_liquidation) AS liquidation_count,
           max(timestamp) AS last_trade_at,
           coalesce(sum(realized - fee) FILTER (WHERE pnl_side = 'LONG'), 0) AS long_pnl,
           coalesce(sum(realized - fee) FILTER (WHERE pnl_side = 'SHORT'), 0) AS short_pnl,
           coalesce(sum(notional) FILTER (WHERE side = 'LONG'), 0) AS long_volume,
           coalesce(sum(notional) FILTER (WHERE direction = 'BUY'), 0) AS buy_volume
    FROM (SELECT trader_id, coin, timestamp, notional, is_liquidation, side, direction,
                 coalesce(realized_pnl, 0) AS realized, coalesce(fee, 0) AS fee,
                 CASE WHEN action = 'FLIP' THEN CASE side WHEN 'LONG' THEN 'SHORT' ELSE 'LONG' END
                      ELSE side END AS pnl_side,
                 floor(date_part('epoch', %(as_of)s - timestamp) / 86400)::int AS day
          FROM trade
          WHERE timestamp > %(since)s AND timestamp <= %(as_of)s AND {partition}) AS f
    GROUP BY trader_id, coin, band
),
daily AS (
    SELECT trader_id, nb, nd, -nb AS band, -nd AS day, sum(pnl) AS pnl,
           sum(pnl)::float8 AS pnl_f
    FROM (SELECT trader_id, coalesce(realized_pnl, 0) - coalesce(fee, 0) AS pnl, -day AS nd,
                 -width_bucket(day, %(lengths)s::int[]) AS nb
          FROM (SELECT trader_id, realized_pnl, fee,
                       floor(date_part('epoch', %(as_of)s - timestamp) / 86400)::int AS day
                FROM trade
                WHERE timestamp > %(since)s AND timestamp <= %(as_of)s AND {partition}) AS t) AS f
    GROUP BY trader_id, nb, nd
),
curve AS (
    SELECT *, max(cumulative) OVER (PARTITION BY trader_id, nb ORDER BY nd
                                    ROWS UNBOUNDED PRECEDING) AS band_peak
    FROM (SELECT *, sum(pnl) OVER (PARTITION BY trader_id ORDER BY nb, nd
                                   ROWS UNBOUNDED PRECEDING) AS cumulative
          FROM daily) AS c
),
bands AS (
    SELECT trader_id, -nb AS band,
           sum(pnl) AS total, sum(pnl_f * pnl_f) AS squares,
           sum(least(pnl_f, 0) * least(pnl_f, 0)) AS downside,
           min(cumulative) AS low, max(cumulative) AS high,
           max(band_peak - cumulative) AS inner_drawdown, max(day) AS oldest_day,
           sum(sum(pnl)) OVER (PARTITION BY trader_id) AS trader_total
    FROM curve GROUP BY trader_id, nb
),
expanded AS (
    SELECT e.*,
           greatest(e.before_window,
                    max(e.high) OVER (PARTITION BY e.trader_id, e.w ORDER BY e.band DESC
                                      ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING))
               AS peak_before
    FROM (SELECT b.*, w.w,
                 b.trader_total - sum(b.total) OVER (PARTITION BY b.trader_id, w.w)
                     AS before_window
          FROM bands AS b JOIN windows AS w ON b.band < w.w) AS e
),
series_windows AS (
    SELECT trader_id, w,
           max(oldest_day) + 1 AS n, sum(total)::float8 AS total, sum(squares) AS squares,
           sum(downside) AS downside,
           max(greatest(peak_before - low, inner_drawdown)) AS max_drawdown,
           greatest(max(before_window), max(high)) - max(before_window) AS highest_peak
    FROM expanded GROUP BY trader_id, w
),
trader_bands AS (
    SELECT trader_id, band, sum(realized_pnl) AS realized_pnl, sum(fees) AS fees,
           sum(volume) AS volume, sum(trade_count) AS trade_count,
           sum(liquidation_count) AS liquidation_count, max(last_trade_at) AS last_trade_at,
           sum(long_pnl) AS long_pnl, sum(short_pnl) AS short_pnl,
           sum(long_volume) AS long_volume
    FROM coin_bands GROUP BY trader_id, band
),
trade_windows AS (
    SELECT a.*, s.n, s.total, s.squares, s.downside, s.max_drawdown, s.highest_peak
    FROM (SELECT b.trader_id, w.w,
                 sum(realized_pnl) AS realized_pnl, sum(fees) AS fees, sum(volume) AS volume,
                 sum(trade_count)::int AS trade_count,
                 sum(liquidation_count)::int AS liquidation_count,
                 max(last_trade_at) AS last_trade_at,
                 sum(long_pnl) AS long_pnl, sum(short_pnl) AS short_pnl,
                 sum(long_volume) AS long_volume, sum(volume) - sum(long_volume) AS short_volume
          FROM trader_bands AS b JOIN windows AS w ON b.band < w.w
          GROUP BY b.trader_id, w.w) AS a
    JOIN series_windows AS s USING (trader_id, w)
),
coins AS (
    SELECT v.trader_id, w.w, array_agg(v.coin ORDER BY v.volume DESC, v.coin) AS coins
    FROM (SELECT trader_id, coin, band,
                 sum(volume) OVER (PARTITION BY trader_id, coin ORDER BY band) AS volume,
                 lead(band) OVER (PARTITION BY trader_id, coin ORDER BY band) AS next_band
          FROM coin_bands) AS v
    JOIN windows AS w ON v.band < w.w AND (v.next_band IS NULL OR w.w <= v.next_band)
    GROUP BY v.trader_id, w.w
),
market_bands AS (
    SELECT band, coin, sum(volume) AS volume, sum(buy_volume) AS buy_volume,
           sum(long_volume) AS long_volume, sum(trade_count) AS trade_count,
           sum(realized_pnl) AS realized_pnl, sum(fees) AS fees,
           sum(liquidation_count) AS liquidation_count
    FROM coin_bands GROUP BY band, coin
),
coin_entries AS (
    SELECT coin, band, count(*) AS traders
    FROM (SELECT coin, min(band) AS band FROM coin_bands GROUP BY trader_id, coin) AS e
    GROUP BY coin, band
),
markets_staged AS (
    INSERT INTO {markets} (w, coin, volume, buy_volume, long_volume, trade_count, realized_pnl,
                           fees, liquidation_count, traders)
    SELECT m.w, m.coin, m.volume, m.buy_volume, m.long_volume, m.trade_count, m.realized_pnl,
           m.fees, m.liquidation_count, t.traders
    FROM (SELECT w.w, b.coin, sum(b.volume) AS volume, sum(b.buy_volume) AS buy_volume,
                 sum(b.long_volume) AS long_volume, sum(b.trade_count) AS trade_count,
                 sum(b.realized_pnl) AS realized_pnl, sum(b.fees) AS fees,
                 sum(b.liquidation_count) AS liquidation_count
          FROM market_bands AS b JOIN windows AS w ON b.band < w.w
          GROUP BY w.w, b.coin) AS m
    JOIN (SELECT w.w, e.coin, sum(e.traders)::bigint AS traders
          FROM coin_entries AS e JOIN windows AS w ON e.band < w.w
          GROUP BY w.w, e.coin) AS t USING (w, coin)
    RETURNING 1
),
position_bands AS (
    SELECT trader_id, band,
           count(*) FILTER (WHERE band >= 0) AS closed_position_count,
           count(*) FILTER (WHERE band >= 0 AND net > 0) AS wins,
           count(*) FILTER (WHERE band >= 0 AND net <= 0) AS losses,
           coalesce(sum(funding) FILTER (WHERE band >= 0), 0) AS funding,
           coalesce(sum(net) FILTER (WHERE band >= 0 AND net > 0), 0) AS gross_profit,
           coalesce(sum(net) FILTER (WHERE band >= 0 AND net <= 0), 0) AS gross_loss,
           max(net) FILTER (WHERE band >= 0 AND net > 0) AS largest_win,
           min(net) FILTER (WHERE band >= 0 AND net < 0) AS largest_loss,
           sum(hold_seconds) FILTER (WHERE band >= 0) AS hold_seconds,
           sum(leverage) AS leverage_sum, count(leverage) AS leverage_count,
           max(leverage) AS max_leverage, round(max(margin), 8) AS capital
    FROM (SELECT trader_id, funding, leverage,
                 realized_pnl - fees + funding AS net,
                 extract(epoch FROM closed_at - opened_at) AS hold_seconds,
                 max_size * entry_price
                     / CASE WHEN leverage > 0 AND leverage = trunc(leverage) AND leverage < 1e9
                            THEN leverage::int8::numeric
                            WHEN leverage > 0 THEN leverage::numeric
                            ELSE 1 END AS margin,
                 CASE WHEN closed_at IS NULL OR closed_at > %(as_of)s THEN -1
                      ELSE width_bucket(floor(date_part('epoch', %(as_of)s - closed_at)
                                              / 86400)::int, %(lengths)s::int[]) END AS band
          FROM position
          WHERE opened_at <= %(as_of)s AND (closed_at IS NULL OR closed_at > %(since)s)
            AND {partition}) AS p
    GROUP BY trader_id, band
),
position_windows AS (
    SELECT p.trader_id, w.w,
           sum(closed_position_count)::int AS closed_position_count, sum(wins)::int AS wins,
           sum(losses)::int AS losses, sum(funding) AS funding,
           sum(gross_profit) AS gross_profit, -sum(gross_loss) AS gross_loss,
           max(largest_win) AS largest_win, min(largest_loss) AS largest_loss,
           sum(hold_seconds) AS hold_seconds,
           sum(leverage_sum) / nullif(sum(leverage_count), 0) AS avg_leverage,
           max(max_leverage) AS max_leverage, max(capital) AS capital
    FROM position_bands AS p JOIN windows AS w ON p.band < w.w
    GROUP BY p.trader_id, w.w
),
open AS (
    SELECT trader_id, count(*) AS open_position_count,
           sum(coalesce(unrealized_pnl, 0)) AS unrealized_pnl, sum(notional) AS open_notional
    FROM position WHERE closed_at IS NULL AND {partition}
    GROUP BY trader_id
),
figures AS (
    SELECT t.trader_id, t.w, t.realized_pnl, coalesce(o.unrealized_pnl, 0) AS unrealized_pnl,
           t.fees, coalesce(p.funding, 0) AS funding,
           t.realized_pnl - t.fees + coalesce(p.funding, 0) AS net_pnl,
           t.volume, t.trade_count,
           coalesce(p.closed_position_count, 0) AS closed_position_count,
           coalesce(p.wins, 0) AS wins, coalesce(p.losses, 0) AS losses,
           CASE WHEN p.closed_position_count > 0
                THEN p.wins::float8 / p.closed_position_count END AS win_rate,
           t.liquidation_count, coalesce(o.open_position_count, 0) AS open_position_count,
           coalesce(o.open_notional, 0) AS open_notional,
           t.last_trade_at,
           CASE WHEN p.capital > 0
                THEN ((t.realized_pnl - t.fees + coalesce(p.funding, 0)) / p.capital)::float8
                END AS roi,
           coalesce(p.capital, 0) AS capital,
           CASE WHEN p.gross_loss > 0 THEN (p.gross_profit / p.gross_loss)::float8 END
               AS profit_factor,
           p.gross_profit / nullif(p.wins, 0) AS avg_win,
           -p.gross_loss / nullif(p.losses, 0) AS avg_loss,
           p.largest_win, p.largest_loss,
           (p.hold_seconds / nullif(p.closed_position_count, 0))::float8 AS avg_hold_seconds,
           CASE WHEN t.n >= 2 AND (t.squares - t.total * t.total / t.n) / (t.n - 1) > 1e-18
                THEN (t.total / t.n)
                     / sqrt((t.squares - t.total * t.total / t.n) / (t.n - 1))
                     * sqrt(%(days_per_year)s) END AS sharpe,
           CASE WHEN t.n >= 2 AND t.downside / t.n > 1e-18
                THEN (t.total / t.n) / sqrt(t.downside / t.n) * sqrt(%(days_per_year)s)
                END AS sortino,
           t.n AS days_in_series,
           t.max_drawdown,
           CASE WHEN coalesce(p.capital, 0) > 0
                THEN (t.max_drawdown / (p.capital + t.highest_peak))::float8 END
               AS max_drawdown_pct,
           p.avg_leverage, p.max_leverage,
           t.long_pnl, t.short_pnl, t.long_volume, t.short_volume,
           CASE WHEN t.long_volume >= t.short_volume THEN 'LONG' ELSE 'SHORT' END
               AS dominant_side,
           k.coins
    FROM trade_windows AS t
    LEFT JOIN position_windows AS p USING (trader_id, w)
    LEFT JOIN open AS o USING (trader_id)
    LEFT JOIN coins AS k USING (trader_id, w)
)
INSERT INTO {figures} ({columns})
SELECT {columns} FROM figures
"""

#: Scores, ranks and tiers over every partition's figures, and the boards and per-coin figures
#: written. The percentiles are ranked over a narrow projection of the figures and joined back,
#: so the wide rows of the boards are sorted once (for the ranks) rather than once per percentile.
_WRITE_BOARDS = """
WITH windows AS (
    SELECT w::int AS w, key FROM unnest(%(keys)s::text[]) WITH ORDINALITY AS u(key, w)
),
figures AS (SELECT * FROM {figures}),
markets_written AS (
    INSERT INTO market_stats (board, coin, volume, buy_volume, sell_volume, long_volume,
                              short_volume, trade_count, trader_count, realized_pnl, fees,
                              net_pnl, liquidation_count, computed_at)
    SELECT w.key, m.coin, sum(m.volume), sum(m.buy_volume), sum(m.volume) - sum(m.buy_volume),
           sum(m.long_volume), sum(m.volume) - sum(m.long_volume), sum(m.trade_count),
           sum(m.traders), sum(m.realized_pnl), sum(m.fees), sum(m.realized_pnl) - sum(m.fees),
           sum(m.liquidation_count), %(as_of)s
    FROM {markets} AS m JOIN windows AS w USING (w)
    GROUP BY w.key, m.coin
    RETURNING 1
),
percentiles AS (
    SELECT trader_id, w,
           CASE WHEN count(*) OVER board = 1 THEN 100
                ELSE 100 * percent_rank() OVER (board ORDER BY net_pnl) END AS score_pnl,
           CASE WHEN count(*) OVER board = 1 THEN 100
                ELSE 100 * percent_rank() OVER (board ORDER BY coalesce(roi, '-Infinity')) END
               AS score_roi,
           CASE WHEN count(*) OVER board = 1 THEN 100
                ELSE 100 * percent_rank() OVER (board ORDER BY coalesce(sharpe, '-Infinity'))
                END AS score_sharpe
    FROM (SELECT trader_id, w, net_pnl, roi, sharpe FROM figures) AS f
    WINDOW board AS (PARTITION BY w)
),
components AS (
    SELECT f.*, p.score_pnl, p.score_roi, p.score_sharpe,
           100 * coalesce(win_rate, 0) AS score_win_rate,
           CASE WHEN max_drawdown_pct IS NULL THEN 0
                ELSE 100 * (1 - least(max_drawdown_pct, 1)) END AS score_drawdown,
           least(1, closed_position_count::float8 / %(full_evidence)s) AS score_evidence,
           100 * (%(risk_leverage)s * least(coalesce(avg_leverage, 0) / %(risk_full_leverage)s, 1)
                  + %(risk_drawdown)s * least(coalesce(max_drawdown_pct, 0), 1)
                  + %(risk_liquidations)s
                    * least(liquidation_count::float8 / greatest(closed_position_count, 1), 1))
               AS risk_score
    FROM figures AS f JOIN percentiles AS p USING (trader_id, w)
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
SELECT trader_id, windows.key, realized_pnl, unrealized_pnl, fees, funding, net_pnl, volume,
       trade_count, closed_position_count, wins, losses, win_rate, liquidation_count,
       open_position_count, score,
       row_number() OVER (PARTITION BY scored.w ORDER BY score DESC, net_pnl DESC, trader_id),
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
       coins[1], coalesce(coins, '{{}}'), open_notional, risk_score,
       CASE WHEN risk_score < %(risk_low)s THEN 'CONSERVATIVE'
            WHEN risk_score < %(risk_high)s THEN 'MODERATE'
            ELSE 'AGGRESSIVE' END,
       score_pnl, score_roi, score_sharpe, score_win_rate, score_drawdown, score_evidence
FROM scored JOIN windows USING (w)
RETURNING timeframe
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


#: ALL_TIME as a length in days: longer than any history (about 2,700 years).
_ALL_TIME_DAYS = 1_000_000
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def board_parameters(boards: dict[str, int], as_of: datetime) -> dict[str, Any]:
    """The statement's parameters for boards ``{key: length in days}`` ending at ``as_of``."""
    ordered = sorted(boards.items(), key=lambda item: item[1])
    lengths = [length for _, length in ordered]
    if len(set(lengths)) != len(lengths) or lengths[0] < 1:
        raise ValueError(f"board lengths must be distinct whole days >= 1: {boards}")
    return {
        "keys": [key for key, _ in ordered],
        "lengths": lengths,
        "since": as_of - timedelta(days=lengths[-1]) if lengths[-1] < _ALL_TIME_DAYS else _EPOCH,
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


#: The stage tables of a recompute (ingest/partitions.py): every trader's figures per board
#: before scoring (the columns of ``figures`` in ``_STAGE_FIGURES``), and each partition's
#: per-coin sums, added up when the boards are written.
_STAGES = {
    "figures": """
        trader_id bigint, w int, realized_pnl numeric, unrealized_pnl numeric, fees numeric,
        funding numeric, net_pnl numeric, volume numeric, trade_count int,
        closed_position_count int, wins int, losses int, win_rate float8, liquidation_count int,
        open_position_count bigint, open_notional numeric, last_trade_at timestamptz,
        roi float8, capital numeric, profit_factor float8, avg_win numeric, avg_loss numeric,
        largest_win numeric, largest_loss numeric, avg_hold_seconds float8, sharpe float8,
        sortino float8, days_in_series int, max_drawdown numeric, max_drawdown_pct float8,
        avg_leverage float8, max_leverage float8, long_pnl numeric, short_pnl numeric,
        long_volume numeric, short_volume numeric, dominant_side text, coins text[]
    """,
    "markets": """
        w int, coin text, volume numeric, buy_volume numeric, long_volume numeric,
        trade_count numeric, realized_pnl numeric, fees numeric, liquidation_count numeric,
        traders bigint
    """,
}

#: Each recompute transaction's settings (the partitions' too).
RECOMPUTE_SETTINGS = (
    "SET LOCAL jit = off",
    "SET LOCAL work_mem = '512MB'",
    # Sorted grouping rather than hash tables of numeric sums: the groups come out in the order
    # the window functions and merge joins need, and it measured 20-25 % faster (operations.md).
    "SET LOCAL enable_hashagg = off",
)


async def compute_boards(
    connection: AsyncConnection, boards: dict[str, int], as_of: datetime, *, partitions: int = 1
) -> dict[str, int]:
    """Replace boards ``{key: length in days}``, all ending at ``as_of``, with the figures of
    their fills; each board's trader count. Call inside a transaction.

    Every trader's figures are computed by ``partitions`` connections at once, each for the
    traders of one ``mod(trader_id, partitions)`` (``ingest/partitions.py``), all reading this
    transaction's snapshot; one connection (this one) when ``partitions`` is 1. Scores, ranks
    and tiers, which compare traders, are computed here over all of them.
    """
    if partitions < 1:
        raise ValueError(f"partitions must be >= 1, not {partitions}")
    params = board_parameters(boards, as_of)
    stages = stage_tables(_STAGES)
    figures, markets = stages["figures"], stages["markets"]

    def stage_statement(partition: int) -> sql.Composed:
        return sql.SQL(_STAGE_FIGURES).format(
            partition=partition_filter(partition, partitions),
            figures=figures.identifier,
            markets=markets.identifier,
            columns=figures.column_list,
        )

    # One recompute at a time, from the moment it reads: two at once would compete for the
    # cores, the later one's rows would collide with those the earlier one committed after its
    # DELETE began, and it would replace them with figures read before they were written.
    await connection.execute("SELECT pg_advisory_xact_lock(%s)", (BOARDS_LOCK,))
    for setting in RECOMPUTE_SETTINGS:
        await connection.execute(setting)
    started = time.perf_counter()
    if partitions == 1:
        for stage in stages.values():
            await connection.execute(stage.create(temporary=True))
        await connection.execute(stage_statement(0), params)
    else:
        await run_partitions(
            connection,
            stage_statement,
            params,
            partitions=partitions,
            stages=list(stages.values()),
            settings=RECOMPUTE_SETTINGS,
        )
    figured = time.perf_counter()
    await connection.execute("DELETE FROM trader_stats WHERE timeframe = ANY(%s)", (list(boards),))
    await connection.execute("DELETE FROM market_stats WHERE board = ANY(%s)", (list(boards),))
    # Hash joins only, for this statement: it joins each board's rows back to their
    # percentiles on (trader, board), and with no statistics on the fresh stage tables the
    # planner picked a merge join on the board alone for a single board (a period's), comparing
    # every pair of its traders: hours for 100,000 traders, against 3 s (operations.md).
    async with planner_settings(connection, HASH_JOINS_ONLY):
        cursor = await connection.execute(
            sql.SQL(_WRITE_BOARDS).format(figures=figures.identifier, markets=markets.identifier),
            params,
        )
    counts = dict.fromkeys(boards, 0)
    for (key,) in await cursor.fetchall():
        counts[key] += 1
    if partitions > 1:
        for stage in stages.values():
            await connection.execute(sql.SQL("DROP TABLE {}").format(stage.identifier))
    for key, count in counts.items():
        await connection.execute(
            """
            INSERT INTO leaderboard_state (timeframe, computed_at, trader_count)
            VALUES (%s, %s, %s)
            ON CONFLICT (timeframe) DO UPDATE SET
                computed_at = excluded.computed_at, trader_count = excluded.trader_count
            """,
            (key, as_of, count),
        )
    log.debug(
        "boards %s: figures on %d connection%s %.1f s, scores, ranks and writes %.1f s",
        ", ".join(boards),
        partitions,
        "" if partitions == 1 else "s",
        figured - started,
        time.perf_counter() - figured,
    )
    return counts


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
    periods: bool = True,
    partitions: int = 1,
) -> list[BoardSize]:
    """Recompute the statistics of every trader for ``timeframes``, in one transaction.

    Readers see either the old boards or the new ones, never a mix. Listeners on
    ``perpgraph_leaderboard`` hear of it when it commits. With ``periods``, then snapshot the
    fixed periods that ended since the last call (``db/periods.py``). ``partitions``
    connections compute the traders' figures at once (:func:`compute_boards`). Last, the rows
    it replaced are vacuumed away (:func:`vacuum_boards`).
    """
    moment = as_of or datetime.now(UTC)
    lengths = {
        window.value: window.length.days if window.length is not None else _ALL_TIME_DAYS
        for window in timeframes
    }
    async with connection.transaction():
        counts = await compute_boards(connection, lengths, moment, partitions=partitions)
        sizes = [BoardSize(window.value, counts[window.value]) for window in timeframes]
        if Timeframe.ALL_TIME in timeframes:
            await recompute_labels(connection, moment)
        await connection.execute(
            "SELECT pg_notify(%s, %s)", (LEADERBOARD_CHANNEL, moment.isoformat())
        )
    if periods:
        await snapshot_periods(connection, moment, partitions=partitions)
    await vacuum_boards(connection)
    return sizes


#: What every recompute rewrites whole: the rows it replaced are dead from its commit on.
CHURNED_TABLES = ("trader_stats", "market_stats", "trader_label", "leaderboard_state")


async def vacuum_boards(connection: AsyncConnection) -> bool:
    """Reclaim the rows the last recompute replaced and refresh the planner's statistics of
    the boards; whether it ran (not inside a transaction, where VACUUM cannot run).

    Each recompute replaces every board row, so without this the boards' tables and indexes
    grow by a full copy per recompute until autovacuum catches up, or forever where it is off;
    every later recompute then writes around the dead rows and slows down (operations.md).
    A failure is logged, not raised.
    """
    if not connection.autocommit or connection.info.transaction_status != TransactionStatus.IDLE:
        return False
    started = time.perf_counter()
    try:
        await connection.execute(f"VACUUM (ANALYZE) {', '.join(CHURNED_TABLES)}")
    except psycopg.Error as error:
        # The boards are committed: a vacuum that fails (a statement timeout, say) costs space
        # until the next one, not the recompute.
        log.warning("vacuuming the boards failed, the next recompute will try again: %s", error)
        return False
    log.debug("boards vacuumed in %.1f s", time.perf_counter() - started)
    return True


#: Boards read the fills of (end - length, end]; Postgres keeps times to the microsecond, so a
#: period's board ends a microsecond before the period does and reads exactly [start, end): a
#: fill at midnight belongs to the day it starts. Its daily buckets are the UTC days.
_MICROSECOND = timedelta(microseconds=1)


async def snapshot_periods(
    connection: AsyncConnection, as_of: datetime, *, partitions: int = 1
) -> list[str]:
    """Compute the board of every ended period not snapshotted yet (newest first, within the
    backfill limits); the keys written. Existing snapshots are never recomputed."""
    cursor = await connection.execute("SELECT min(timestamp) FROM trade")
    row = await cursor.fetchone()
    if row is None or row[0] is None:
        return []
    first_trade: datetime = row[0]
    written: list[str] = []
    for period_type in PeriodType:
        periods = ended_periods(first_trade, as_of, period_type, BACKFILL_LIMIT[period_type])
        if not periods:
            continue
        cursor = await connection.execute(
            "SELECT timeframe FROM leaderboard_state WHERE timeframe = ANY(%s)",
            ([p.key for p in periods],),
        )
        existing = {key for (key,) in await cursor.fetchall()}
        for period in periods:
            if period.key in existing:
                continue
            async with connection.transaction():
                boards = {period.key: period.days}
                last_instant = period.end - _MICROSECOND
                await compute_boards(connection, boards, last_instant, partitions=partitions)
            written.append(period.key)
    return written

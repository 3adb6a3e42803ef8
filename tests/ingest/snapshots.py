"""What a writer leaves behind, for comparing two runs that should have written the same."""

from __future__ import annotations

import psycopg

#: Everything a run leaves behind, without surrogate ids (sequences skip values a killed
#: transaction drew, so ids may differ while the rows are the same). Trades are listed in id
#: order, so the order of the event log is compared too.
TRADES = """
    SELECT tr.address, t.venue_fill_id, t.coin, t.timestamp, t.side, t.direction, t.action,
           t.size, t.price, t.start_position, t.realized_pnl, t.fee, t.is_liquidation,
           p.opened_at, cp.opened_at
    FROM trade t JOIN trader tr ON tr.id = t.trader_id
    LEFT JOIN position p ON p.id = t.position_id
    LEFT JOIN position cp ON cp.id = t.closed_position_id
    ORDER BY t.id
"""
POSITIONS = """
    SELECT tr.address, p.coin, p.side, p.size, p.max_size, p.entry_price, p.closed_size,
           p.exit_notional, p.realized_pnl, p.fees, p.trade_count, p.opened_at, p.last_fill_at,
           p.closed_at, p.mark_price, p.unrealized_pnl, p.notional
    FROM position p JOIN trader tr ON tr.id = p.trader_id
    ORDER BY tr.address, p.coin, p.opened_at, p.closed_at NULLS LAST
"""
CHECKPOINT = "SELECT source, position, fills_written FROM ingest_checkpoint"


def snapshot(url: str) -> dict[str, list[tuple[object, ...]]]:
    with psycopg.connect(url) as connection:
        return {
            name: connection.execute(query).fetchall()
            for name, query in (
                ("trades", TRADES),
                ("positions", POSITIONS),
                ("checkpoint", CHECKPOINT),
            )
        }

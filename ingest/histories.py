"""What the writer reads before folding a batch: per trader and coin, the open position and when
the last fill was applied; read from Postgres, or from a :class:`PositionCache` of what this
writer committed before.

The cache is only right while this writer is the only one changing positions (one writer per
venue). Whoever writes positions otherwise (account snapshots, funding) must
:meth:`PositionCache.clear` it, or not use one; :func:`ingest.writer.write_fills` and
:func:`ingest.pipeline.write_stream` clear it themselves on any error, since a failed batch may
have folded into its positions, and ``write_fills`` does not use it for batches inside an outer
transaction (they commit later, or not at all).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime

from psycopg import AsyncConnection

from ingest.batch import BatchFold, History, OpenPosition
from ingest.fills import PositionState, Side

__all__ = ["PairKey", "PositionCache", "StoredPair", "load_pairs"]

PairKey = tuple[int, str]


@dataclass(slots=True)
class StoredPair:
    """One trader and coin as stored: its open position, and the last fill time over its
    closed positions (the late-fill rule takes the latest over all of them, open included)."""

    open_position: OpenPosition | None
    closed_last_fill_at: datetime | None

    def history(self) -> History | None:
        """What the fold needs, or None when nothing is stored for the pair."""
        times = [t for t in (self.closed_last_fill_at, _last_fill_at(self.open_position)) if t]
        if self.open_position is None and not times:
            return None
        return History(self.open_position, max(times) if times else None)


def _last_fill_at(position: OpenPosition | None) -> datetime | None:
    if position is None:
        return None
    return position.state.last_fill_at or position.state.opened_at


class PositionCache:
    """The pairs a writer has written, as committed (see the module's docstring for when it
    is valid)."""

    def __init__(self) -> None:
        self._pairs: dict[PairKey, StoredPair] = {}

    def __len__(self) -> int:
        return len(self._pairs)

    def clear(self) -> None:
        self._pairs.clear()

    def known(self, keys: Iterable[PairKey]) -> tuple[dict[PairKey, StoredPair], set[PairKey]]:
        """The cached pairs among ``keys``, and the keys it does not hold."""
        found: dict[PairKey, StoredPair] = {}
        missing: set[PairKey] = set()
        for key in keys:
            pair = self._pairs.get(key)
            if pair is None:
                missing.add(key)
            else:
                found[key] = pair
        return found, missing

    def remember(self, pairs: Mapping[PairKey, StoredPair], fold: BatchFold) -> None:
        """After a batch's commit (the stream writer: before it, the cache emptied if it
        fails): ``pairs`` as read before its fold, updated by the fold."""
        closed: dict[PairKey, datetime] = {}
        for position in fold.finished:
            key = (position.trader_id, position.coin)
            last = _last_fill_at(position)
            assert last is not None
            closed[key] = max(last, closed.get(key, last))
        for key, before in pairs.items():
            current = fold.open_positions.get(key)
            if current is not None:
                current.is_new = False
            times = [t for t in (before.closed_last_fill_at, closed.get(key)) if t]
            self._pairs[key] = StoredPair(current, max(times) if times else None)


async def load_pairs(
    connection: AsyncConnection, keys: Iterable[PairKey]
) -> dict[PairKey, StoredPair]:
    """Per trader and coin of ``keys``: the open position and the last fill time over its
    closed positions, so that a fill older than the last one applied is recognised even when
    the trader is flat in that coin.

    Each pair probes position's indexes (LATERAL ... LIMIT 1 keeps the plan a nested loop: there
    is at most one open position per trader and coin); a join let the planner hash every open
    position, every batch (tests/ingest/test_writer_scaling.py)."""
    ordered = list(keys)
    if not ordered:
        return {}
    cursor = await connection.execute(
        """
        SELECT p.id, k.trader_id, k.coin, p.side, p.size, p.entry_price, p.opened_at,
               p.realized_pnl, p.fees, p.max_size, p.closed_size, p.exit_notional, p.leverage,
               p.last_fill_at, p.trade_count,
               (SELECT max(q.last_fill_at) FROM position AS q
                WHERE q.trader_id = k.trader_id AND q.coin = k.coin
                  AND q.closed_at IS NOT NULL)
        FROM unnest(%b::bigint[], %b::text[]) AS k(trader_id, coin)
        LEFT JOIN LATERAL (
            SELECT * FROM position
            WHERE position.trader_id = k.trader_id AND position.coin = k.coin
              AND position.closed_at IS NULL
            LIMIT 1
        ) AS p ON true
        """,
        ([k[0] for k in ordered], [k[1] for k in ordered]),
    )
    pairs: dict[PairKey, StoredPair] = {}
    for row in await cursor.fetchall():
        (
            position_id,
            trader_id,
            coin,
            side,
            size,
            entry,
            opened_at,
            realized,
            fees,
            max_size,
            closed_size,
            exit_notional,
            leverage,
            last_fill_at,
            trade_count,
            closed_last,
        ) = row
        position = None
        if position_id is not None:
            state = PositionState(
                side=Side(side),
                size=size,
                entry_price=entry,
                opened_at=opened_at,
                realized_pnl=realized,
                fees=fees,
                max_size=max_size,
                closed_size=closed_size,
                exit_notional=exit_notional,
                leverage=leverage,
                last_fill_at=last_fill_at,
            )
            position = OpenPosition(
                id=position_id,
                trader_id=trader_id,
                coin=coin,
                state=state,
                is_new=False,
                trade_count=trade_count,
            )
        pairs[(trader_id, coin)] = StoredPair(position, closed_last)
    return pairs

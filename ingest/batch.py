"""The fold of one batch: fills in, positions and trade rows out, no I/O.

:class:`BatchFold` holds what the writer read for the batch (per trader and coin: the open
position and when its last fill was applied) and folds each fresh fill into it with the
position engine, applying the two venue-facing rules:

* **Re-seeding.** When the venue states the position before a fill (``startPosition``) and the
  engine's differs, the position is re-seeded from the venue's (:func:`ingest.engine.reseed`).
  The second leg of a self-trade (same hash, price, size and start position as the previous
  fill, the other way) starts where the first leg left the engine, so it is not a disagreement.
* **Self-trades.** Both legs of a self-trade (one hash, price and size, the same start
  position, opposite directions, one millisecond) are a pair that changes nothing: each leg is
  classified against the position before the pair, as the venue's ``dir`` is, and written with
  that action and a realized PnL of 0; the position keeps its size, entry and realized PnL and
  only adds both fees. Legs split across two batches are folded as ordinary fills.
* **Late fills.** A fill older than the last fill applied to that trader and coin (in an earlier
  batch) is applied on arrival, after what is stored, and never re-seeded (its start position
  is stale by then). Its size and fee count exactly; only its place in the average-cost order
  differs from a time-ordered fold. It is counted in :attr:`WriteReport.late_fills` and logged
  at warning level, so it is never silent. Within a batch, fills are sorted by time first, so
  out-of-order delivery inside a batch needs no rule.
"""

from __future__ import annotations

import itertools
import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from decimal import Decimal

from ingest.engine import apply_fill, is_out_of_step, reseed
from ingest.fills import ZERO, Fill, FillOutcome, PositionState

log = logging.getLogger(__name__)


@dataclass(slots=True)
class WriteReport:
    """What one batch wrote."""

    fills_received: int = 0
    fills_written: int = 0
    duplicates_skipped: int = 0
    reseeded: int = 0
    late_fills: int = 0
    traders_created: int = 0
    positions_opened: int = 0
    positions_closed: int = 0
    first_trade_id: int | None = None
    last_trade_id: int | None = None
    actions: dict[str, int] = field(default_factory=dict)

    def add(self, other: WriteReport) -> None:
        """Accumulate another batch's report into this one."""
        self.fills_received += other.fills_received
        self.fills_written += other.fills_written
        self.duplicates_skipped += other.duplicates_skipped
        self.reseeded += other.reseeded
        self.late_fills += other.late_fills
        self.traders_created += other.traders_created
        self.positions_opened += other.positions_opened
        self.positions_closed += other.positions_closed
        if other.first_trade_id is not None and self.first_trade_id is None:
            self.first_trade_id = other.first_trade_id
        if other.last_trade_id is not None:
            self.last_trade_id = other.last_trade_id
        for action, count in other.actions.items():
            self.actions[action] = self.actions.get(action, 0) + count


@dataclass(slots=True)
class OpenPosition:
    """A position row as the fold sees it: its id, whether it exists yet, and its state."""

    id: int
    trader_id: int
    coin: str
    state: PositionState
    is_new: bool
    closed_at: datetime | None = None
    trade_count: int = 0


@dataclass(frozen=True, slots=True)
class History:
    """What is stored for one trader and coin: the open position, and the last fill applied."""

    open_position: OpenPosition | None
    last_fill_at: datetime | None


@dataclass(slots=True)  # not frozen: a frozen dataclass's __init__ is slower, one per fill
class FoldedFill:
    """One fill after the fold: the positions it left open and closed, and what it did."""

    fill: Fill
    trader_id: int
    current: OpenPosition | None
    closed: OpenPosition | None
    outcome: FillOutcome
    start_position: Decimal


def self_trade_pairs(fills: Sequence[Fill], trader_ids: Sequence[int]) -> dict[int, int]:
    """Index of each self-trade's first leg -> index of its second leg (rule above)."""
    waiting: dict[tuple[object, ...], list[int]] = {}
    pairs: dict[int, int] = {}
    for index, fill in enumerate(fills):
        if fill.tx_hash is None or fill.venue_start_position is None:
            continue
        twin = (
            trader_ids[index],
            fill.coin,
            fill.timestamp,
            fill.tx_hash,
            fill.venue_start_position,
            fill.size,
            fill.price,
        )
        other_way = waiting.get((*twin, fill.direction.opens.opposite))
        if other_way:
            pairs[other_way.pop(0)] = index
        else:
            waiting.setdefault((*twin, fill.direction.opens), []).append(index)
    return pairs


class BatchFold:
    """Folds one batch's fresh fills, in the order given, into positions and trade rows."""

    def __init__(
        self,
        histories: Mapping[tuple[int, str], History],
        report: WriteReport,
        pnl_entry_decimals: Mapping[str, int],
    ) -> None:
        self.open_positions = {
            key: h.open_position for key, h in histories.items() if h.open_position is not None
        }
        self.finished: list[OpenPosition] = []
        self.folded: list[FoldedFill] = []
        self._last_applied = {key: h.last_fill_at for key, h in histories.items()}
        self.report = report
        self._pnl_entry_decimals = pnl_entry_decimals
        # New positions get provisional negative ids during the fold; the writer draws real
        # ids from the sequence afterwards in one round trip, exactly as many as were opened.
        self._provisional_ids = itertools.count(-1, -1)

    def apply_all(self, fills: Sequence[Fill], trader_ids: Sequence[int]) -> None:
        """Fold ``fills`` (in time order) of the traders ``trader_ids`` (one per fill)."""
        pairs = self_trade_pairs(fills, trader_ids)
        second_legs = set(pairs.values())
        for index, fill in enumerate(fills):
            if index in pairs:
                self._apply_self_trade(fill, fills[pairs[index]], trader_ids[index])
            elif index not in second_legs:
                self.apply(fill, trader_ids[index])

    def apply(self, fill: Fill, trader_id: int) -> None:
        key = (trader_id, fill.coin)
        current = self.open_positions.get(key)
        before = current.state if current is not None else None
        start_position = before.signed_size if before is not None else ZERO
        last = self._last_applied.get(key)
        if last is not None and fill.timestamp < last:
            self.report.late_fills += 1
            log.warning(
                "late fill %s:%s for %s %s at %s, after one at %s: applied on arrival",
                fill.venue,
                fill.fill_id,
                fill.address,
                fill.coin,
                fill.timestamp.isoformat(),
                last.isoformat(),
            )
        else:
            self._last_applied[key] = fill.timestamp
            if is_out_of_step(before, fill):
                current, before = self._reseed(key, current, fill)
                start_position = fill.venue_start_position or ZERO
        outcome = apply_fill(
            before, fill, pnl_entry_decimals=self._pnl_entry_decimals.get(fill.coin)
        )
        self.report.actions[outcome.action] = self.report.actions.get(outcome.action, 0) + 1
        closed: OpenPosition | None = None
        if outcome.closed is not None and current is not None:
            current.state = outcome.closed
            current.trade_count += 1
            closed = self._end(key, current, fill.timestamp)
            current = None
        if outcome.state is not None:
            current = self._keep(key, current, outcome.state)
            current.trade_count += 1
        self.folded.append(FoldedFill(fill, trader_id, current, closed, outcome, start_position))

    def _apply_self_trade(self, first: Fill, second: Fill, trader_id: int) -> None:
        key = (trader_id, first.coin)
        current = self.open_positions.get(key)
        before = current.state if current is not None else None
        last = self._last_applied.get(key)
        if last is None or first.timestamp >= last:
            self._last_applied[key] = first.timestamp
            if is_out_of_step(before, first):
                current, before = self._reseed(key, current, first)
        start_position = before.signed_size if before is not None else ZERO
        for leg in (first, second):
            classified = apply_fill(before, leg)
            outcome = FillOutcome(classified.action, classified.side, ZERO, before)
            self.report.actions[outcome.action] = self.report.actions.get(outcome.action, 0) + 1
            self.folded.append(FoldedFill(leg, trader_id, current, None, outcome, start_position))
        if current is not None and before is not None:
            current.state = replace(
                before, fees=before.fees + first.fee + second.fee, last_fill_at=second.timestamp
            )
            current.trade_count += 2

    def _reseed(
        self, key: tuple[int, str], current: OpenPosition | None, fill: Fill
    ) -> tuple[OpenPosition | None, PositionState | None]:
        self.report.reseeded += 1
        seeded = reseed(current.state if current is not None else None, fill)
        if current is not None and (seeded is None or seeded.side is not current.state.side):
            # The venue says this position is gone: it ends here, written off without a trade.
            self._end(key, current, fill.timestamp)
            current = None
        if seeded is not None:
            current = self._keep(key, current, seeded)
        return current, seeded

    def _end(self, key: tuple[int, str], position: OpenPosition, at: datetime) -> OpenPosition:
        position.closed_at = at
        self.finished.append(position)
        self.report.positions_closed += 1
        del self.open_positions[key]
        return position

    def _keep(
        self, key: tuple[int, str], current: OpenPosition | None, state: PositionState
    ) -> OpenPosition:
        if current is not None:
            current.state = state
            return current
        trader_id, coin = key
        opened = OpenPosition(
            id=next(self._provisional_ids),
            trader_id=trader_id,
            coin=coin,
            state=state,
            is_new=True,
        )
        self.open_positions[key] = opened
        self.report.positions_opened += 1
        return opened

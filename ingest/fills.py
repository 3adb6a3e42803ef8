"""The venue-neutral vocabulary of ingestion: a fill, a position's state, and what a fill did.

Every venue adapter (the simulator, recorded Hyperliquid responses, the live client) turns its
own messages into :class:`Fill` values; the position engine folds them into
:class:`PositionState` values and reports one :class:`FillOutcome` per fill.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from enum import StrEnum

ZERO = Decimal(0)


class Side(StrEnum):
    """The side of a position: long profits when the price rises, short when it falls."""

    LONG = "LONG"
    SHORT = "SHORT"

    @property
    def opposite(self) -> Side:
        return Side.SHORT if self is Side.LONG else Side.LONG


class Direction(StrEnum):
    """Which way the trader traded in one fill."""

    BUY = "BUY"
    SELL = "SELL"

    @property
    def opens(self) -> Side:
        """The side a fill in this direction opens or adds to."""
        # Module constants, not ``Side.LONG``: enum member lookups are slow on the fold's path.
        return _LONG if self is _BUY else _SHORT


_LONG = Side.LONG
_SHORT = Side.SHORT
_BUY = Direction.BUY


class Action(StrEnum):
    """What a fill did to the trader's position in its coin."""

    OPEN = "OPEN"
    ADD = "ADD"
    REDUCE = "REDUCE"
    CLOSE = "CLOSE"
    FLIP = "FLIP"


@dataclass(frozen=True, slots=True)
class Fill:
    """One execution of one trader's order, as the venue reports it.

    ``size`` and ``price`` are positive; ``direction`` says which way. ``fee`` is what the
    trader paid (negative for a rebate), in the quote currency. ``fill_id`` is unique per venue
    and trader (both counterparties of one Hyperliquid trade share its ``tid``) and makes
    re-ingestion idempotent.

    ``venue_start_position`` and ``venue_closed_pnl`` are the venue's own view (Hyperliquid's
    ``startPosition`` and ``closedPnl``) where it gives one: the writer re-seeds the position
    from them when its own state disagrees (see :func:`ingest.engine.reseed`).
    """

    venue: str
    fill_id: str
    address: str
    coin: str
    direction: Direction
    size: Decimal
    price: Decimal
    timestamp: datetime
    fee: Decimal = ZERO
    is_liquidation: bool = False
    tx_hash: str | None = None
    leverage: float | None = None
    venue_start_position: Decimal | None = None
    venue_closed_pnl: Decimal | None = None


# PositionState and FillOutcome are never changed once built (the engine builds new ones), but
# are not frozen: a frozen dataclass's __init__ costs about four times more, and the fold
# builds two or three of them per fill.
@dataclass(slots=True)
class PositionState:
    """An open position between two fills (or a closed one at its end).

    ``entry_price`` is the exact average cost of the size now open. ``realized_pnl`` and
    ``fees`` accumulate over the position's life; ``closed_size`` and ``exit_notional`` give the
    average exit price of what has been closed so far.
    """

    side: Side
    size: Decimal
    entry_price: Decimal
    opened_at: datetime
    realized_pnl: Decimal = ZERO
    fees: Decimal = ZERO
    max_size: Decimal = ZERO
    closed_size: Decimal = ZERO
    exit_notional: Decimal = ZERO
    leverage: float | None = None
    last_fill_at: datetime | None = None

    @property
    def signed_size(self) -> Decimal:
        return self.size if self.side is _LONG else -self.size

    @property
    def exit_price(self) -> Decimal | None:
        """Average price of what has been closed so far, or None before the first close."""
        return self.exit_notional / self.closed_size if self.closed_size else None


@dataclass(slots=True)  # not frozen: see PositionState
class FillOutcome:
    """What one fill did.

    ``side`` is the side of the position the fill acted on; for a FLIP it is the side of the
    new position. ``realized_pnl`` is what this fill realized, gross of fees (zero for OPEN and
    ADD). ``closed`` is the final state of a position this fill ended (CLOSE, FLIP), and
    ``state`` the position open after the fill (None after a CLOSE).
    """

    action: Action
    side: Side
    realized_pnl: Decimal
    state: PositionState | None
    closed: PositionState | None = None

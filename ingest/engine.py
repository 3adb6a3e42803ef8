"""The position engine: a pure fold of fills into positions.

``apply_fill(state, fill) -> FillOutcome`` is the whole rule book (DESIGN.md decision 5):

* average-cost entry: adding size moves the entry to the size-weighted mean; reducing never does;
* realized PnL is gross of fees, ``(exit - entry) x closed size`` for a long and the mirror for a
  short, as the venue reports it; fees accumulate apart so net = realized - fees + funding;
* a fill larger than the open size on the other side is a FLIP: it closes the position (realizing
  PnL on the closed part) and opens the other side with the rest at the fill price;
* liquidation fills are ordinary reducing fills that carry a flag.

Hyperliquid computes realized PnL against the average entry truncated to ``6 - szDecimals``
decimals; ``pnl_entry_decimals`` reproduces that exactly while the stored entry stays exact.

Where the venue states the position before a fill (``startPosition``) and it differs from the
engine's, the venue is right: the fill history before it is missing (a position opened before
the first fill we hold, or fills the venue's response left out). :func:`reseed` gives the
position to fold the fill into; the rule is in its docstring.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import replace
from decimal import ROUND_DOWN, ROUND_HALF_EVEN, Decimal

from ingest.fills import ZERO, Action, Fill, FillOutcome, PositionState, Side

#: Decimal places realized PnL is rounded to when the average entry is a repeating fraction.
PNL_DECIMALS = 12
_PNL_QUANTUM = Decimal(1).scaleb(-PNL_DECIMALS)
# Enum members as module constants: ``Action.ADD`` goes through the enum descriptor on every
# access, which the fold does several times per fill.
_LONG = Side.LONG
_OPEN, _ADD, _REDUCE = Action.OPEN, Action.ADD, Action.REDUCE
_CLOSE, _FLIP = Action.CLOSE, Action.FLIP


class FillRejectedError(ValueError):
    """A fill that cannot be applied; the message names the fill and what is wrong with it."""


def validate_fill(fill: Fill, known_coins: Collection[str]) -> None:
    """Reject a fill the engine must not fold, before anything is written."""
    if (
        fill.coin in known_coins
        and fill.size.is_finite()
        and fill.size > 0
        and fill.price.is_finite()
        and fill.price > 0
        and fill.fee.is_finite()
        and fill.timestamp.utcoffset() is not None
        and fill.fill_id
        and fill.address
    ):
        return  # the common case, without formatting a message per fill
    where = f"fill {fill.venue}:{fill.fill_id} ({fill.address} {fill.coin})"
    if fill.coin not in known_coins:
        raise FillRejectedError(f"{where}: unknown coin {fill.coin!r}; add the market first")
    if not fill.size.is_finite() or fill.size <= 0:
        raise FillRejectedError(f"{where}: size must be a positive number, got {fill.size}")
    if not fill.price.is_finite() or fill.price <= 0:
        raise FillRejectedError(f"{where}: price must be a positive number, got {fill.price}")
    if not fill.fee.is_finite():
        raise FillRejectedError(f"{where}: fee must be a finite number, got {fill.fee}")
    if fill.timestamp.utcoffset() is None:  # a tzinfo may still leave it naive
        raise FillRejectedError(f"{where}: timestamp must carry a time zone")
    if not fill.fill_id or not fill.address:
        raise FillRejectedError(f"{where}: fill id and trader address are required")


def realized_pnl(
    side: Side,
    entry_price: Decimal,
    exit_price: Decimal,
    size: Decimal,
    pnl_entry_decimals: int | None = None,
) -> Decimal:
    """PnL of closing ``size`` of a ``side`` position bought at ``entry_price``, gross of fees.

    An average entry can be a repeating fraction (100/3), held to 28 significant digits; the
    result is then rounded to :data:`PNL_DECIMALS` places so that ledgers show 12.5, not
    12.4999999999999999999999993. With ``pnl_entry_decimals`` the entry is truncated first, as
    Hyperliquid does, and the result is exact.
    """
    if pnl_entry_decimals is not None:
        entry_price = entry_price.quantize(Decimal(1).scaleb(-pnl_entry_decimals), ROUND_DOWN)
    move = exit_price - entry_price
    pnl = move * size if side is _LONG else -move * size
    if pnl.as_tuple().exponent < -PNL_DECIMALS:  # type: ignore[operator]
        pnl = pnl.quantize(_PNL_QUANTUM, ROUND_HALF_EVEN)
    return pnl


def apply_fill(
    state: PositionState | None, fill: Fill, *, pnl_entry_decimals: int | None = None
) -> FillOutcome:
    """Fold one fill into the trader's position in that coin.

    ``state`` is the open position before the fill, or None when flat. The fill is assumed
    valid (see :func:`validate_fill`).
    """
    trade_side = fill.direction.opens
    if state is None:
        return FillOutcome(_OPEN, trade_side, ZERO, _opened(fill, fill.size, fill.fee))

    if trade_side is state.side:
        total = state.size + fill.size
        entry = (state.entry_price * state.size + fill.price * fill.size) / total
        # The constructor, not dataclasses.replace: replace() costs several times more per fill.
        added = PositionState(
            state.side,
            total,
            entry,
            state.opened_at,
            state.realized_pnl,
            state.fees + fill.fee,
            max(state.max_size, total),
            state.closed_size,
            state.exit_notional,
            fill.leverage if fill.leverage is not None else state.leverage,
            fill.timestamp,
        )
        return FillOutcome(_ADD, state.side, ZERO, added)

    closed_size = min(fill.size, state.size)
    pnl = realized_pnl(state.side, state.entry_price, fill.price, closed_size, pnl_entry_decimals)
    closing_fee = fill.fee if fill.size <= state.size else fill.fee * closed_size / fill.size
    after_close = PositionState(
        state.side,
        state.size - closed_size,
        state.entry_price,
        state.opened_at,
        state.realized_pnl + pnl,
        state.fees + closing_fee,
        state.max_size,
        state.closed_size + closed_size,
        state.exit_notional + fill.price * closed_size,
        state.leverage,
        fill.timestamp,
    )
    if fill.size < state.size:
        return FillOutcome(_REDUCE, state.side, pnl, after_close)
    if fill.size == state.size:
        return FillOutcome(_CLOSE, state.side, pnl, None, after_close)
    remainder = fill.size - state.size
    opened = _opened(fill, remainder, fill.fee - closing_fee)
    return FillOutcome(_FLIP, trade_side, pnl, opened, after_close)


def _opened(fill: Fill, size: Decimal, fee: Decimal) -> PositionState:
    return PositionState(
        fill.direction.opens,
        size,
        fill.price,
        fill.timestamp,
        ZERO,
        fee,
        size,
        ZERO,
        ZERO,
        fill.leverage,
        fill.timestamp,
    )


def is_out_of_step(state: PositionState | None, fill: Fill) -> bool:
    """Whether the venue's position before ``fill`` differs from the engine's ``state``."""
    if fill.venue_start_position is None:
        return False
    engine = state.signed_size if state is not None else ZERO
    return engine != fill.venue_start_position


def reseed(state: PositionState | None, fill: Fill) -> PositionState | None:
    """The position the venue says was open before ``fill``, when the engine's differs.

    * The venue's size and side are taken as they are (flat: None).
    * Entry, when ``fill`` closes part of it: the entry the venue's ``closedPnl`` implies,
      ``px - closedPnl/closed size`` for a long and ``px + closedPnl/closed size`` for a short.
      That is the venue's truncated entry, so the close then realizes ``closedPnl`` exactly.
    * Entry, when ``fill`` adds to it and the engine holds the same side: the engine's entry
      for the size it knows, and the fill price for the missing size (the best estimate there
      is: no fill tells what the missing size cost).
    * Otherwise (the engine was flat or on the other side): the fill price.

    The engine's own position is kept (same row, same history) when the side is unchanged;
    otherwise the caller ends it, writing it off without a trade.
    """
    start = fill.venue_start_position
    assert start is not None
    if start == 0:
        return None
    side = Side.LONG if start > 0 else Side.SHORT
    size = abs(start)
    same_side = state is not None and state.side is side
    if fill.direction.opens is not side:
        closed_size = min(size, fill.size)
        move = (fill.venue_closed_pnl or ZERO) / closed_size
        entry = fill.price - move if side is Side.LONG else fill.price + move
    elif state is not None and same_side and size > state.size:
        entry = (state.entry_price * state.size + fill.price * (size - state.size)) / size
    elif state is not None and same_side:
        entry = state.entry_price
    else:
        entry = fill.price
    if state is not None and same_side:
        return replace(state, size=size, entry_price=entry, max_size=max(state.max_size, size))
    return PositionState(
        side=side,
        size=size,
        entry_price=entry,
        opened_at=fill.timestamp,
        max_size=size,
        leverage=fill.leverage,
        last_fill_at=fill.timestamp,
    )

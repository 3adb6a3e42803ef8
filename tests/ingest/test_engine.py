"""The position engine's rule book, one hand-computed case per row.

Each row is given (the position before), when (the fill), then (the whole outcome, every field),
so a change to any bookkeeping field shows up as a failing row rather than slipping through a
partial assertion. Numbers are chosen so that every expectation is exact.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta, tzinfo
from decimal import Decimal
from typing import Any

import pytest

from ingest.engine import FillRejectedError, apply_fill, realized_pnl, validate_fill
from ingest.fills import Action, Direction, Fill, FillOutcome, PositionState, Side

BUY, SELL = Direction.BUY, Direction.SELL
LONG, SHORT = Side.LONG, Side.SHORT
OPENED_AT = datetime(2025, 10, 7, 12, 0, tzinfo=UTC)
FILLED_AT = OPENED_AT + timedelta(hours=1)


def dec(value: str | int) -> Decimal:
    return Decimal(value)


def fill(
    direction: Direction,
    size: str,
    price: str,
    *,
    fee: str = "0",
    at: datetime = FILLED_AT,
    liquidation: bool = False,
    leverage: float | None = None,
) -> Fill:
    return Fill(
        venue="test",
        fill_id="f1",
        address="0xabc",
        coin="BTC",
        direction=direction,
        size=dec(size),
        price=dec(price),
        timestamp=at,
        fee=dec(fee),
        is_liquidation=liquidation,
        leverage=leverage,
    )


def position(side: Side, size: str, entry: str, **fields: Any) -> PositionState:
    """A position opened at OPENED_AT; ``max_size`` defaults to the size now open."""
    opened = PositionState(
        side=side,
        size=dec(size),
        entry_price=dec(entry),
        opened_at=OPENED_AT,
        max_size=dec(size),
        last_fill_at=OPENED_AT,
    )
    return replace(opened, **fields)


def opened_now(side: Side, size: str, entry: str, *, fees: str = "0") -> PositionState:
    return position(side, size, entry, fees=dec(fees), opened_at=FILLED_AT, last_fill_at=FILLED_AT)


@dataclass(frozen=True, slots=True)
class Case:
    name: str
    given: PositionState | None
    when: Fill
    then: FillOutcome
    pnl_entry_decimals: int | None = None


CASES = [
    Case(
        "open long: flat, buy 2 @ 100 → long 2 @ 100, fee kept apart",
        given=None,
        when=fill(BUY, "2", "100", fee="0.1"),
        then=FillOutcome(Action.OPEN, LONG, dec(0), opened_now(LONG, "2", "100", fees="0.1")),
    ),
    Case(
        "open short: flat, sell 3 @ 50 → short 3 @ 50",
        given=None,
        when=fill(SELL, "3", "50", fee="0.2"),
        then=FillOutcome(Action.OPEN, SHORT, dec(0), opened_now(SHORT, "3", "50", fees="0.2")),
    ),
    Case(
        "add long: entry moves to (2·100 + 3·110)/5 = 106, max size grows",
        given=position(LONG, "2", "100", fees=dec("0.1")),
        when=fill(BUY, "3", "110", fee="0.15"),
        then=FillOutcome(
            Action.ADD,
            LONG,
            dec(0),
            position(LONG, "5", "106", fees=dec("0.25"), last_fill_at=FILLED_AT),
        ),
    ),
    Case(
        "add short: entry moves to (1·50 + 3·46)/4 = 47",
        given=position(SHORT, "1", "50"),
        when=fill(SELL, "3", "46"),
        then=FillOutcome(
            Action.ADD, SHORT, dec(0), position(SHORT, "4", "47", last_fill_at=FILLED_AT)
        ),
    ),
    Case(
        "add with leverage: the fill's leverage replaces the position's",
        given=position(LONG, "1", "100", leverage=5.0),
        when=fill(BUY, "1", "100", leverage=10.0),
        then=FillOutcome(
            Action.ADD,
            LONG,
            dec(0),
            position(LONG, "2", "100", leverage=10.0, last_fill_at=FILLED_AT),
        ),
    ),
    Case(
        "add without leverage: the position keeps what it had",
        given=position(LONG, "1", "100", leverage=5.0),
        when=fill(BUY, "1", "100"),
        then=FillOutcome(
            Action.ADD,
            LONG,
            dec(0),
            position(LONG, "2", "100", leverage=5.0, last_fill_at=FILLED_AT),
        ),
    ),
    Case(
        "reduce long at a profit: (120 − 106)·2 = 28; entry and max size stay",
        given=position(LONG, "5", "106", fees=dec("0.25")),
        when=fill(SELL, "2", "120", fee="0.3"),
        then=FillOutcome(
            Action.REDUCE,
            LONG,
            dec(28),
            position(
                LONG,
                "3",
                "106",
                max_size=dec(5),
                realized_pnl=dec(28),
                fees=dec("0.55"),
                closed_size=dec(2),
                exit_notional=dec(240),
                last_fill_at=FILLED_AT,
            ),
        ),
    ),
    Case(
        "reduce long at a loss: (100 − 106)·1 = −6",
        given=position(LONG, "5", "106"),
        when=fill(SELL, "1", "100"),
        then=FillOutcome(
            Action.REDUCE,
            LONG,
            dec(-6),
            position(
                LONG,
                "4",
                "106",
                max_size=dec(5),
                realized_pnl=dec(-6),
                closed_size=dec(1),
                exit_notional=dec(100),
                last_fill_at=FILLED_AT,
            ),
        ),
    ),
    Case(
        "reduce short at a profit: the mirror, (47 − 40)·1 = 7",
        given=position(SHORT, "4", "47"),
        when=fill(BUY, "1", "40"),
        then=FillOutcome(
            Action.REDUCE,
            SHORT,
            dec(7),
            position(
                SHORT,
                "3",
                "47",
                max_size=dec(4),
                realized_pnl=dec(7),
                closed_size=dec(1),
                exit_notional=dec(40),
                last_fill_at=FILLED_AT,
            ),
        ),
    ),
    Case(
        "reduce short at a loss: (47 − 50)·2 = −6",
        given=position(SHORT, "4", "47"),
        when=fill(BUY, "2", "50"),
        then=FillOutcome(
            Action.REDUCE,
            SHORT,
            dec(-6),
            position(
                SHORT,
                "2",
                "47",
                max_size=dec(4),
                realized_pnl=dec(-6),
                closed_size=dec(2),
                exit_notional=dec(100),
                last_fill_at=FILLED_AT,
            ),
        ),
    ),
    Case(
        "close long: (100 − 106)·3 = −18 on top of 28 earlier; totals in `closed`, state None",
        given=position(
            LONG,
            "3",
            "106",
            max_size=dec(5),
            realized_pnl=dec(28),
            fees=dec("0.55"),
            closed_size=dec(2),
            exit_notional=dec(240),
        ),
        when=fill(SELL, "3", "100", fee="0.45"),
        then=FillOutcome(
            Action.CLOSE,
            LONG,
            dec(-18),
            None,
            closed=position(
                LONG,
                "0",
                "106",
                max_size=dec(5),
                realized_pnl=dec(10),
                fees=dec(1),
                closed_size=dec(5),
                exit_notional=dec(540),
                last_fill_at=FILLED_AT,
            ),
        ),
    ),
    Case(
        "close short: (47 − 45)·3 = 6",
        given=position(SHORT, "3", "47", fees=dec("0.2")),
        when=fill(BUY, "3", "45", fee="0.1"),
        then=FillOutcome(
            Action.CLOSE,
            SHORT,
            dec(6),
            None,
            closed=position(
                SHORT,
                "0",
                "47",
                max_size=dec(3),
                realized_pnl=dec(6),
                fees=dec("0.3"),
                closed_size=dec(3),
                exit_notional=dec(135),
                last_fill_at=FILLED_AT,
            ),
        ),
    ),
    Case(
        "flip long → short: sell 5 @ 90 closes 2 at (90 − 100)·2 = −20 and opens short 3 @ 90; "
        "fee 1.0 splits 2/5 to the close, 3/5 to the open",
        given=position(LONG, "2", "100", fees=dec("0.1")),
        when=fill(SELL, "5", "90", fee="1.0"),
        then=FillOutcome(
            Action.FLIP,
            SHORT,
            dec(-20),
            opened_now(SHORT, "3", "90", fees="0.6"),
            closed=position(
                LONG,
                "0",
                "100",
                max_size=dec(2),
                realized_pnl=dec(-20),
                fees=dec("0.5"),
                closed_size=dec(2),
                exit_notional=dec(180),
                last_fill_at=FILLED_AT,
            ),
        ),
    ),
    Case(
        "flip short → long: buy 6 @ 45 closes 4 at (47 − 45)·4 = 8 and opens long 2 @ 45; "
        "fee 0.3 splits 0.2 / 0.1",
        given=position(SHORT, "4", "47"),
        when=fill(BUY, "6", "45", fee="0.3"),
        then=FillOutcome(
            Action.FLIP,
            LONG,
            dec(8),
            opened_now(LONG, "2", "45", fees="0.1"),
            closed=position(
                SHORT,
                "0",
                "47",
                max_size=dec(4),
                realized_pnl=dec(8),
                fees=dec("0.2"),
                closed_size=dec(4),
                exit_notional=dec(180),
                last_fill_at=FILLED_AT,
            ),
        ),
    ),
    Case(
        "truncated entry (Hyperliquid XPL liquidation, 109a42): realized uses 0.909234, "
        "(0.85512 − 0.909234)·22214 = −1202.088396, the venue's closedPnl; "
        "stored entry stays exact",
        given=position(LONG, "22214", "0.90923478"),
        when=fill(SELL, "22214", "0.85512"),
        pnl_entry_decimals=6,
        then=FillOutcome(
            Action.CLOSE,
            LONG,
            dec("-1202.088396"),
            None,
            closed=position(
                LONG,
                "0",
                "0.90923478",
                max_size=dec(22214),
                realized_pnl=dec("-1202.088396"),
                closed_size=dec(22214),
                exit_notional=dec("18995.63568"),
                last_fill_at=FILLED_AT,
            ),
        ),
    ),
    Case(
        "untruncated entry: the same close realizes (0.85512 − 0.90923478)·22214 = −1202.10572292",
        given=position(LONG, "22214", "0.90923478"),
        when=fill(SELL, "22214", "0.85512"),
        then=FillOutcome(
            Action.CLOSE,
            LONG,
            dec("-1202.10572292"),
            None,
            closed=position(
                LONG,
                "0",
                "0.90923478",
                max_size=dec(22214),
                realized_pnl=dec("-1202.10572292"),
                closed_size=dec(22214),
                exit_notional=dec("18995.63568"),
                last_fill_at=FILLED_AT,
            ),
        ),
    ),
    Case(
        # The recorded samples have no short close with known history, so this pins the engine's
        # rule (truncate toward zero on both sides) rather than a verified venue behaviour.
        "truncated entry, short: entry 47.129 → 47.12 at 2 decimals, (47.12 − 47)·1 = 0.12",
        given=position(SHORT, "2", "47.129"),
        when=fill(BUY, "1", "47"),
        pnl_entry_decimals=2,
        then=FillOutcome(
            Action.REDUCE,
            SHORT,
            dec("0.12"),
            position(
                SHORT,
                "1",
                "47.129",
                max_size=dec(2),
                realized_pnl=dec("0.12"),
                closed_size=dec(1),
                exit_notional=dec(47),
                last_fill_at=FILLED_AT,
            ),
        ),
    ),
]


@pytest.mark.parametrize("case", CASES, ids=[case.name for case in CASES])
def test_apply_fill(case: Case) -> None:
    outcome = apply_fill(case.given, case.when, pnl_entry_decimals=case.pnl_entry_decimals)

    assert outcome == case.then


@pytest.mark.parametrize("case", CASES, ids=[case.name for case in CASES])
def test_liquidation_fill_is_folded_like_any_other(case: Case) -> None:
    """The flag rides on the fill for the trade log; it must not change the arithmetic."""
    liquidation = replace(case.when, is_liquidation=True)

    outcome = apply_fill(case.given, liquidation, pnl_entry_decimals=case.pnl_entry_decimals)

    assert liquidation.is_liquidation
    assert outcome == case.then


def test_max_size_and_exit_price_over_a_positions_life() -> None:
    """Given a long that grows, shrinks, grows past its old peak and closes,
    then max_size is the peak and exit_price the size-weighted mean of all exits."""
    steps = [
        # (fill, action, size after, max size after, exit price after)
        (fill(BUY, "2", "100"), Action.OPEN, "2", "2", None),
        (fill(BUY, "3", "110"), Action.ADD, "5", "5", None),
        (fill(SELL, "4", "120"), Action.REDUCE, "1", "5", "120"),
        (fill(BUY, "1", "100"), Action.ADD, "2", "5", "120"),
        (fill(BUY, "4", "103"), Action.ADD, "6", "6", "120"),
        (fill(SELL, "6", "95"), Action.CLOSE, "0", "6", "105"),  # (4·120 + 6·95)/10
    ]
    state: PositionState | None = None
    for when, action, size, max_size, exit_price in steps:
        outcome = apply_fill(state, when)
        after = outcome.state or outcome.closed
        assert after is not None
        assert (outcome.action, after.size, after.max_size) == (action, dec(size), dec(max_size))
        assert after.exit_price == (None if exit_price is None else dec(exit_price))
        state = outcome.state
    assert state is None


def test_timestamps_keep_the_opening_and_track_the_latest_fill() -> None:
    later = FILLED_AT + timedelta(minutes=5)
    opened = apply_fill(None, fill(BUY, "1", "100", at=FILLED_AT)).state
    added = apply_fill(opened, fill(BUY, "1", "100", at=later)).state

    assert added is not None
    assert (added.opened_at, added.last_fill_at) == (FILLED_AT, later)


@pytest.mark.parametrize(
    ("side", "entry", "exit_price", "size", "decimals", "expected"),
    [
        (LONG, "100", "110", "2", None, "20"),
        (SHORT, "100", "110", "2", None, "-20"),
        (LONG, "0.90923478", "0.85512", "1", 6, "-0.054114"),
        (LONG, "118046.07", "121370", "0.00009", 1, "0.29916"),  # 109a42 BTC, szDecimals 5
    ],
)
def test_realized_pnl(
    *, side: Side, entry: str, exit_price: str, size: str, decimals: int | None, expected: str
) -> None:
    assert realized_pnl(side, dec(entry), dec(exit_price), dec(size), decimals) == dec(expected)


class _NoOffset(tzinfo):
    """A time zone that does not know its offset: Python treats such datetimes as naive."""

    def utcoffset(self, dt: datetime | None) -> timedelta | None:
        return None

    def dst(self, dt: datetime | None) -> timedelta | None:
        return None

    def tzname(self, dt: datetime | None) -> str | None:
        return None


VALID = fill(BUY, "1", "100")


NAIVE = datetime(2025, 10, 7, 12, 0)  # noqa: DTZ001 - the point of the case
OFFSET_UNKNOWN = datetime(2025, 10, 7, 12, 0, tzinfo=_NoOffset())


@pytest.mark.parametrize(
    ("bad_fill", "problem"),
    [
        pytest.param(
            replace(VALID, size=dec(-1)),
            "size must be a positive number, got -1",
            id="negative size",
        ),
        pytest.param(
            replace(VALID, size=dec(0)), "size must be a positive number, got 0", id="zero size"
        ),
        pytest.param(
            replace(VALID, size=dec("NaN")),
            "size must be a positive number, got NaN",
            id="NaN size",
        ),
        pytest.param(
            replace(VALID, size=dec("Infinity")),
            "size must be a positive number, got Infinity",
            id="infinite size",
        ),
        pytest.param(
            replace(VALID, price=dec(0)), "price must be a positive number, got 0", id="zero price"
        ),
        pytest.param(
            replace(VALID, price=dec(-5)),
            "price must be a positive number, got -5",
            id="negative price",
        ),
        pytest.param(
            replace(VALID, price=dec("NaN")),
            "price must be a positive number, got NaN",
            id="NaN price",
        ),
        pytest.param(
            replace(VALID, fee=dec("NaN")), "fee must be a finite number, got NaN", id="NaN fee"
        ),
        pytest.param(replace(VALID, coin="DOGE"), "unknown coin 'DOGE'", id="unknown coin"),
        pytest.param(
            replace(VALID, timestamp=NAIVE),
            "timestamp must carry a time zone",
            id="naive timestamp",
        ),
        pytest.param(
            replace(VALID, timestamp=OFFSET_UNKNOWN),
            "timestamp must carry a time zone",
            id="time zone without an offset",
        ),
        pytest.param(
            replace(VALID, fill_id=""), "fill id and trader address are required", id="no fill id"
        ),
        pytest.param(
            replace(VALID, address=""), "fill id and trader address are required", id="no address"
        ),
    ],
)
def test_validate_fill_rejects(bad_fill: Fill, problem: str) -> None:
    with pytest.raises(FillRejectedError) as rejected:
        validate_fill(bad_fill, known_coins={"BTC", "ETH"})

    message = str(rejected.value)
    assert message.startswith(f"fill test:{bad_fill.fill_id} ({bad_fill.address} {bad_fill.coin})")
    assert problem in message


def test_validate_fill_accepts_a_good_fill_including_a_rebate() -> None:
    validate_fill(replace(VALID, fee=dec("-0.01"), is_liquidation=True), known_coins={"BTC"})

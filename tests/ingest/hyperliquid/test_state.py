"""``clearinghouseState`` in its current (2026) and early-mainnet (2023) formats."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from decimal import ROUND_DOWN, Decimal

import pytest

from ingest.fills import Side
from ingest.hyperliquid.errors import HyperliquidFormatError
from ingest.hyperliquid.portfolio import parse_portfolio
from ingest.hyperliquid.state import (
    AccountPosition,
    MarginSummary,
    parse_clearinghouse_state,
)
from tests.ingest.hyperliquid.hostile import check_every_edit
from tests.ingest.hyperliquid.recorded import (
    PORTFOLIO_08C14B,
    STATE_08C14B,
    STATE_5E9EE1,
    USER_08C14B,
    USER_5E9EE1,
    load,
)

#: The README's 08c14b positions: coin, signed size, leverage, and whether a liquidation
#: price is shown (cross longs whose account could absorb any fall show none).
POSITIONS_08C14B = [
    ("BTC", "-21.0955", 20.0, True),
    ("ARB", "1064075.6000000001", 10.0, False),
    ("LDO", "1189281.0", 5.0, False),
    ("AAVE", "21836.18", 10.0, False),
    ("ZRO", "1161681.8999999999", 5.0, False),
    ("ETHFI", "562442.3", 5.0, False),
    ("ENA", "-9024119.0", 10.0, True),
    ("EIGEN", "1572797.8999999999", 5.0, False),
    ("WLFI", "-6144000.0", 5.0, True),
    ("MEGA", "3727605.0", 3.0, False),
]

#: Summing ten positionValues rounded by the venue lands 3e-10 from its totalNtlPos; anything
#: within one micro-USDC (USDC's own precision) is the same total.
NOTIONAL_TOLERANCE = Decimal("0.000001")


def state_08c14b() -> object:
    return load(STATE_08C14B)


def test_current_format_positions() -> None:
    # given the 2026 response of the account whose 962 fills are recorded
    state = parse_clearinghouse_state(load(STATE_08C14B), user=USER_08C14B.upper())

    # then its ten positions come in order, cross margined, with the signed sizes of the file
    assert state.user == USER_08C14B
    assert [
        (p.coin, p.szi, p.leverage, p.liquidation_price is not None) for p in state.positions
    ] == [(coin, Decimal(szi), lev, liq) for coin, szi, lev, liq in POSITIONS_08C14B]
    assert {p.leverage_type for p in state.positions} == {"cross"}
    ena, ethfi = state.position("ENA"), state.position("ETHFI")
    assert ena is not None
    assert ethfi is not None
    assert (ena.szi, ena.side, ena.size) == (Decimal(-9024119), Side.SHORT, Decimal(9024119))
    assert (ethfi.szi, ethfi.side) == (Decimal("562442.3"), Side.LONG)
    assert state.position("ETH") is None


def test_current_format_btc_position_is_exactly_as_recorded() -> None:
    state = parse_clearinghouse_state(load(STATE_08C14B), user=USER_08C14B)

    assert state.positions[0] == AccountPosition(
        coin="BTC",
        szi=Decimal("-21.0955"),
        entry_price=Decimal("61884.8"),
        position_value=Decimal("1820950.9027"),
        unrealized_pnl=Decimal("-515459.285283"),
        return_on_equity=Decimal("-7.8967842981"),
        liquidation_price=Decimal("432027.8823055762"),
        margin_used=Decimal("91047.545135"),
        leverage_type="cross",
        leverage=20.0,
        max_leverage=40,
        cum_funding_all_time=Decimal("-68518.689835"),
        cum_funding_since_open=Decimal("-68518.689835"),
        cum_funding_since_change=Decimal("-11002.574345"),
    )


def test_current_format_margin_time_and_withdrawable() -> None:
    state = parse_clearinghouse_state(load(STATE_08C14B), user=USER_08C14B)

    assert state.margin == MarginSummary(
        account_value=Decimal("2225318.2230509999"),
        total_notional=Decimal("12489663.9465420004"),
        total_raw_usd=Decimal("-1504446.642671"),
        total_margin_used=Decimal("1605225.133988"),
    )
    assert state.cross_margin == state.margin
    assert state.withdrawable == Decimal("416198.131523")
    assert state.cross_maintenance_margin_used == Decimal("779850.680709")
    assert state.time == datetime(2026, 10, 2, 14, 27, 26, 99000, tzinfo=UTC)


def test_old_format_positions() -> None:
    # given the 2023 response: maxTradeSzs per position, no cumFunding, time or maxLeverage
    state = parse_clearinghouse_state(load(STATE_5E9EE1), user=USER_5E9EE1)

    # then its 12 positions parse with those fields absent
    assert len(state.positions) == 12
    assert [p.coin for p in state.positions] == [
        "BTC", "ETH", "ATOM", "MATIC", "DYDX", "SOL", "AVAX", "BNB", "APE", "OP", "LTC", "ARB",
    ]  # fmt: skip
    assert {(p.leverage_type, p.leverage) for p in state.positions} == {("cross", 20.0)}
    assert all(
        p.max_leverage is None
        and p.cum_funding_all_time is None
        and p.cum_funding_since_open is None
        and p.cum_funding_since_change is None
        for p in state.positions
    )
    assert state.time is None
    assert state.cross_maintenance_margin_used is None
    # and withdrawable, which this format keeps inside the margin summary, is still found
    assert state.withdrawable == Decimal("1010.57173")
    btc = state.positions[0]
    assert (btc.szi, btc.side, btc.entry_price) == (
        Decimal("-0.00785"),
        Side.SHORT,
        Decimal("26951.0"),
    )
    assert state.account_value == Decimal("1182.312496")


@pytest.mark.parametrize(
    ("name", "user", "tolerance"),
    [
        pytest.param(STATE_08C14B, USER_08C14B, NOTIONAL_TOLERANCE, id="2026"),
        pytest.param(STATE_5E9EE1, USER_5E9EE1, Decimal(0), id="2023"),
    ],
)
def test_position_values_add_up_to_the_margin_summary(
    name: str, user: str, tolerance: Decimal
) -> None:
    state = parse_clearinghouse_state(load(name), user=user)

    notional = sum((p.position_value for p in state.positions), Decimal(0))
    margin = sum((p.margin_used for p in state.positions), Decimal(0))

    assert abs(notional - state.margin.total_notional) <= tolerance
    assert margin == state.margin.total_margin_used  # exact in both formats


def test_2026_notional_difference_is_the_venues_rounding() -> None:
    """The tolerance above is needed, and barely: the sum is off by 3e-10."""
    state = parse_clearinghouse_state(load(STATE_08C14B), user=USER_08C14B)

    notional = sum((p.position_value for p in state.positions), Decimal(0))

    assert notional - state.margin.total_notional == Decimal("-3E-10")


def test_displayed_entry_is_the_exact_entry_truncated() -> None:
    """README: entryPx is shown truncated while unrealizedPnl uses the exact entry; ETHFI's exact
    entry is 0.374608 where 0.3746 is shown."""
    state = parse_clearinghouse_state(load(STATE_08C14B), user=USER_08C14B)

    for position in state.positions:
        shown = position.entry_price
        exact = position.exact_entry_price
        assert exact.quantize(shown, rounding=ROUND_DOWN) == shown, position.coin
    ethfi = state.position("ETHFI")
    assert ethfi is not None
    assert ethfi.exact_entry_price.quantize(Decimal("0.000001")) == Decimal("0.374608")


def test_portfolio_last_perp_account_value_equals_the_state() -> None:
    state = parse_clearinghouse_state(load(STATE_08C14B), user=USER_08C14B)
    windows = parse_portfolio(load(PORTFOLIO_08C14B))

    assert windows["perpAllTime"].last_account_value == Decimal("2225318.2230509999")
    assert windows["perpAllTime"].last_account_value == state.account_value


def test_cum_funding_is_what_was_paid() -> None:
    """Every long of 08c14b (in a market where longs mostly pay) shows positive cumFunding,
    and the BTC and ENA shorts negative: positive means paid, the opposite of userFunding."""
    state = parse_clearinghouse_state(load(STATE_08C14B), user=USER_08C14B)

    signs = {
        p.coin: (p.side, p.cum_funding_since_open is not None and p.cum_funding_since_open > 0)
        for p in state.positions
    }

    assert all(paid for side, paid in signs.values() if side is Side.LONG)
    assert (signs["BTC"][1], signs["ENA"][1]) == (False, False)


def test_isolated_leverage_and_extra_fields() -> None:
    # given a position switched to isolated margin, with fields the venue added later
    payload = load(STATE_08C14B)
    position = payload["assetPositions"][0]["position"]
    position["leverage"] = {"type": "isolated", "value": 7, "rawUsd": "-1234.5"}
    position["somethingNew"] = {"nested": [1, 2]}
    payload["newTopLevel"] = True

    state = parse_clearinghouse_state(payload, user=USER_08C14B)

    assert (state.positions[0].leverage_type, state.positions[0].leverage) == ("isolated", 7.0)


def edit_position(**fields: object) -> object:
    payload = load(STATE_08C14B)
    payload["assetPositions"][1]["position"].update(fields)
    return payload


@pytest.mark.parametrize(
    ("payload", "message"),
    [
        pytest.param([], "clearinghouseState: expected a JSON object, got a list", id="a list"),
        pytest.param(
            edit_position(szi="0.0"),
            "clearinghouseState position #1 (ARB): field 'position.szi' must not be zero",
            id="zero size",
        ),
        pytest.param(
            edit_position(leverage={"type": "portfolio", "value": 3}),
            "position #1 (ARB): field 'position.leverage.type' must be 'cross' or 'isolated'",
            id="unknown leverage type",
        ),
        pytest.param(
            edit_position(leverage={"type": "cross", "value": 0}),
            "position #1 (ARB): field 'position.leverage.value' must be a number > 0",
            id="zero leverage",
        ),
        pytest.param(
            edit_position(coin="BTC"),
            "clearinghouseState position #1: field 'coin' repeats position #0 ('BTC')",
            id="repeated coin",
        ),
        pytest.param(
            edit_position(cumFunding={"allTime": "1.0", "sinceOpen": "1.0"}),
            "position #1 (ARB): field 'position.cumFunding.sinceChange' is missing",
            id="partial cumFunding",
        ),
        pytest.param(
            {**load(STATE_08C14B), "time": "1790951246099"},
            "clearinghouseState: field 'time' must be a time in whole ms since the epoch",
            id="time a string",
        ),
        pytest.param(
            {**load(STATE_08C14B), "withdrawable": "-1.0"},
            "clearinghouseState: field 'withdrawable' must not be negative",
            id="negative withdrawable",
        ),
    ],
)
def test_malformed_state(payload: object, message: str) -> None:
    with pytest.raises(HyperliquidFormatError, match=re.escape(message)):
        parse_clearinghouse_state(payload, user=USER_08C14B)


@pytest.mark.parametrize("name", [STATE_08C14B, STATE_5E9EE1])
def test_no_hostile_edit_escapes_as_another_exception(name: str) -> None:
    payload = load(name)
    payload["assetPositions"] = payload["assetPositions"][:2]

    refused = check_every_edit(lambda p: parse_clearinghouse_state(p, user=USER_08C14B), payload)

    assert refused > 300

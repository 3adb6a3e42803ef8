"""``userFunding`` payments and a coin's ``fundingHistory``."""

from __future__ import annotations

import re
from collections import Counter
from datetime import UTC, datetime
from decimal import Decimal

import pytest

from ingest.hyperliquid.errors import HyperliquidFormatError
from ingest.hyperliquid.funding import (
    FundingPayment,
    FundingRate,
    funding_id,
    parse_funding_history,
    parse_user_funding,
)
from tests.ingest.hyperliquid.hostile import check_every_edit
from tests.ingest.hyperliquid.recorded import (
    FUNDING_B7B6F3,
    FUNDING_HISTORY_BTC,
    USER_08C14B,
    USER_B7B6F3,
    load,
)


def test_recorded_user_funding() -> None:
    # given 16 days of daily payments on 15 coins
    payments = parse_user_funding(load(FUNDING_B7B6F3), user=USER_B7B6F3.upper())

    # then all 218 parse, oldest first, each with its own id, all for the user
    assert len(payments) == 218
    assert [p.time for p in payments] == sorted(p.time for p in payments)
    assert len({p.funding_id for p in payments}) == 218
    assert {p.user for p in payments} == {USER_B7B6F3}
    assert (payments[0].time, payments[-1].time) == (
        datetime(2023, 4, 20, tzinfo=UTC),
        datetime(2023, 5, 5, tzinfo=UTC),
    )
    assert Counter(p.coin for p in payments)["BTC"] == 16
    assert Counter(p.samples for p in payments) == {3: 203, 1: 15}


def test_first_payment_is_exactly_as_recorded() -> None:
    payments = parse_user_funding(load(FUNDING_B7B6F3), user=USER_B7B6F3)

    assert payments[0] == FundingPayment(
        funding_id=funding_id(user=USER_B7B6F3, coin="APE", time_ms=1681948800000),
        user=USER_B7B6F3,
        time=datetime(2023, 4, 20, tzinfo=UTC),
        coin="APE",
        usdc=Decimal("0.145796"),
        szi=Decimal("40.13333333"),
        funding_rate=-0.00029319,
        samples=3,
        tx_hash="0xe3f4c682738ae2ee62510a7282db05c55f1b2032b6a366be9af99d6c809ac899",
    )


def test_usdc_is_positive_when_received() -> None:
    """A position receives funding when it is on the side the rate favours: shorts when the
    rate is positive, longs when it is negative. All 218 payments agree (151 received)."""
    payments = parse_user_funding(load(FUNDING_B7B6F3), user=USER_B7B6F3)

    assert all((p.usdc > 0) == (p.szi * Decimal(p.funding_rate) < 0) for p in payments)
    assert sum(p.usdc > 0 for p in payments) == 151
    assert sum(p.usdc < 0 for p in payments) == 67


def test_ids_are_deterministic_and_per_user() -> None:
    first = parse_user_funding(load(FUNDING_B7B6F3), user=USER_B7B6F3)
    again = parse_user_funding(load(FUNDING_B7B6F3), user=USER_B7B6F3.upper())
    other = parse_user_funding(load(FUNDING_B7B6F3), user=USER_08C14B)

    assert [p.funding_id for p in again] == [p.funding_id for p in first]
    assert not {p.funding_id for p in other} & {p.funding_id for p in first}
    assert all(p.funding_id.startswith("funding-") for p in first)


def test_recorded_funding_history() -> None:
    # given BTC's rates from 2023-05-12 to 2023-07-17 (8-hourly, then hourly)
    rates = parse_funding_history(load(FUNDING_HISTORY_BTC))

    # then all 1038 parse, in time order, with the venue's millisecond jitter kept
    assert len(rates) == 1038
    assert {r.coin for r in rates} == {"BTC"}
    assert [r.time for r in rates] == sorted(r.time for r in rates)
    assert rates[0] == FundingRate(
        coin="BTC",
        time=datetime(2023, 5, 12, 0, 0, 0, 48000, tzinfo=UTC),
        funding_rate=-0.00061334,
        premium=Decimal("-0.00091334"),
    )
    assert rates[-1].time == datetime(2023, 7, 17, 21, 0, 0, 65000, tzinfo=UTC)


def payment(**delta: object) -> dict[str, object]:
    base: dict[str, object] = {
        "coin": "APE",
        "fundingRate": "-0.00029319",
        "nSamples": 3,
        "szi": "40.13333333",
        "type": "funding",
        "usdc": "0.145796",
    }
    base.update(delta)
    return {"delta": base, "hash": "0x" + "ab" * 32, "time": 1681948800000}


@pytest.mark.parametrize(
    ("payload", "message"),
    [
        pytest.param({}, "userFunding: expected a JSON list, got an object", id="object"),
        pytest.param(
            [payment(), payment(type="liquidation")],
            "userFunding #1: field 'delta.type' must be 'funding', got 'liquidation'",
            id="other ledger delta",
        ),
        pytest.param(
            [payment(usdc=0.145796)],
            "userFunding #0: field 'delta.usdc' must be a decimal string",
            id="usdc a float",
        ),
        pytest.param(
            [payment(), payment()],
            "userFunding #1: fields 'time' and 'delta.coin' repeat #0",
            id="same coin and time twice",
        ),
        pytest.param(
            [payment(nSamples=0)],
            "userFunding #0: field 'delta.nSamples' must be a whole number ≥ 1",
            id="no samples",
        ),
        pytest.param(
            [{"hash": "0x1", "time": 1681948800000}],
            "userFunding #0: field 'delta' is missing",
            id="no delta",
        ),
    ],
)
def test_malformed_user_funding(payload: object, message: str) -> None:
    with pytest.raises(HyperliquidFormatError, match=re.escape(message)):
        parse_user_funding(payload, user=USER_B7B6F3)


def test_zero_hash_and_missing_samples_become_none() -> None:
    record = payment(nSamples=None)
    record["hash"] = "0x" + "0" * 64

    (parsed,) = parse_user_funding([record], user=USER_B7B6F3)

    assert (parsed.samples, parsed.tx_hash) == (None, None)


@pytest.mark.parametrize(
    ("payload", "message"),
    [
        pytest.param(
            [{"coin": "BTC", "fundingRate": "x", "premium": "0", "time": 1}],
            "fundingHistory #0: field 'fundingRate' is not a number: 'x'",
            id="rate not numeric",
        ),
        pytest.param(
            [{"coin": "BTC", "fundingRate": "0", "premium": "0", "time": -1}],
            "fundingHistory #0: field 'time' must be a time in whole ms",
            id="negative time",
        ),
    ],
)
def test_malformed_funding_history(payload: object, message: str) -> None:
    with pytest.raises(HyperliquidFormatError, match=re.escape(message)):
        parse_funding_history(payload)


def test_no_hostile_edit_escapes_as_another_exception() -> None:
    payments = load(FUNDING_B7B6F3)[:2]
    history = load(FUNDING_HISTORY_BTC)[:2]

    assert check_every_edit(lambda p: parse_user_funding(p, user=USER_B7B6F3), payments) > 150
    assert check_every_edit(parse_funding_history, history) > 100

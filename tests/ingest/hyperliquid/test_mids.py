"""``allMids``: perps only by default, every market on request."""

from __future__ import annotations

import re
from decimal import Decimal

import pytest

from ingest.hyperliquid.errors import HyperliquidFormatError
from ingest.hyperliquid.meta import parse_meta_and_asset_ctxs
from ingest.hyperliquid.mids import is_perp_name, parse_all_mids
from tests.ingest.hyperliquid.hostile import check_every_edit
from tests.ingest.hyperliquid.recorded import META_AND_CTXS_2026, MIDS_2023, MIDS_2025, load


@pytest.mark.parametrize(
    ("name", "perps", "everything", "btc"),
    [
        pytest.param(MIDS_2025, 223, 482, "89926.5", id="2025-12-13"),
        pytest.param(MIDS_2023, 28, 28, "30135.0", id="2023-07-17"),
    ],
)
def test_recorded_mids(name: str, perps: int, everything: int, btc: str) -> None:
    # given a recorded response
    payload = load(name)

    # when it is parsed with and without spot markets
    perp_mids = parse_all_mids(payload)
    all_mids = parse_all_mids(payload, perps_only=False)

    # then the counts are the file's and values are exact
    assert (len(perp_mids), len(all_mids)) == (perps, everything)
    assert perp_mids["BTC"] == all_mids["BTC"] == Decimal(btc)
    assert all_mids == {key: Decimal(value) for key, value in payload.items()}


def test_spot_keys_are_the_ones_dropped() -> None:
    all_mids = parse_all_mids(load(MIDS_2025), perps_only=False)
    perp_mids = parse_all_mids(load(MIDS_2025))

    dropped = set(all_mids) - set(perp_mids)

    assert len([key for key in dropped if key.startswith("@")]) == 258
    assert dropped - {key for key in dropped if key.startswith("@")} == {"PURR/USDC"}
    assert all_mids["@1"] == Decimal("21.522")


def test_every_perp_mid_is_a_listed_perp() -> None:
    """The 223 keys kept on 2025-12-13 are all in the 2026-02-06 universe."""
    universe = {c.coin for c in parse_meta_and_asset_ctxs(load(META_AND_CTXS_2026))}

    assert set(parse_all_mids(load(MIDS_2025))) <= universe


@pytest.mark.parametrize(
    ("name", "perp"),
    [("BTC", True), ("kPEPE", True), ("xyz:TSLA", True), ("@107", False), ("PURR/USDC", False)],
)
def test_perp_names(name: str, perp: bool) -> None:
    assert is_perp_name(name) is perp


@pytest.mark.parametrize(
    ("payload", "message"),
    [
        pytest.param(None, "allMids: expected a JSON object, got null", id="null"),
        pytest.param({"BTC": "NaN"}, "allMids: field 'BTC' is not a number: 'NaN'", id="NaN"),
        pytest.param({"BTC": "-1"}, "allMids: field 'BTC' must be positive", id="negative"),
        pytest.param({"BTC": 97000.5}, "allMids: field 'BTC' must be a decimal string", id="float"),
        pytest.param(
            {"@1": "abc"}, "allMids: field '@1' is not a number", id="spot keys checked too"
        ),
        pytest.param({"": "1.0"}, "allMids: field '' is not a market name", id="empty name"),
    ],
)
def test_malformed_mids(payload: object, message: str) -> None:
    with pytest.raises(HyperliquidFormatError, match=re.escape(message)):
        parse_all_mids(payload)


def test_no_hostile_edit_escapes_as_another_exception() -> None:
    assert check_every_edit(parse_all_mids, load(MIDS_2023)) > 300

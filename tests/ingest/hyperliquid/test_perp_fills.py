"""Perpetual fills set apart from the spot trades ``userFills`` also returns; fee tokens and
TWAP ids are read, not dropped."""

from __future__ import annotations

from ingest.hyperliquid.fills import parse_user_fills, perp_fills
from tests.ingest.hyperliquid.recorded import USER_109A42, load, with_non_perp_fills

FILLS_109A42 = "user_fills_109a42_2025-10-07_to_2025-10-21.json"


def test_spot_trades_are_set_apart_and_other_fee_tokens_counted() -> None:
    # given the recorded fills of 109a42 with two spot trades, a TWAP fill paying USDH and a
    # fill in a builder-deployed market added
    fills = parse_user_fills(with_non_perp_fills(load(FILLS_109A42)), user=USER_109A42)
    # when the perpetual fills are taken
    perps = perp_fills(fills)
    # then the spot trades are set apart, the rest kept (the market check is the writer's)
    assert perps.spot_skipped == 2
    assert {f.fill.coin for f in fills} - {f.fill.coin for f in perps.fills} == {
        "@107",
        "PURR/USDC",
    }
    assert len(perps.fills) == 50 + 1
    # and the fee token and TWAP id are read from every fill
    assert perps.fees_in_other_tokens == 1
    assert [(f.fee_token, f.twap_id) for f in perps.fills if f.twap_id is not None] == [
        ("USDH", 4321)
    ]
    assert {f.fee_token for f in fills} == {"USDC", "USDH", "HYPE", "PURR"}


def test_the_recorded_fills_are_all_perpetuals_paid_in_usdc() -> None:
    perps = perp_fills(parse_user_fills(load(FILLS_109A42), user=USER_109A42))
    assert (len(perps.fills), perps.spot_skipped, perps.fees_in_other_tokens) == (50, 0, 0)

"""``meta`` and ``metaAndAssetCtxs``: every perp's parameters and live context."""

from __future__ import annotations

import re
from decimal import Decimal

import pytest

from ingest.hyperliquid.errors import HyperliquidFormatError
from ingest.hyperliquid.meta import (
    AssetContext,
    AssetMeta,
    parse_meta,
    parse_meta_and_asset_ctxs,
    sz_decimals_by_coin,
)
from tests.ingest.hyperliquid.hostile import check_every_edit
from tests.ingest.hyperliquid.recorded import (
    META_2023,
    META_AND_CTXS_2025,
    META_AND_CTXS_2026,
    META_AND_CTXS_XYZ,
    load,
)


@pytest.mark.parametrize(
    ("name", "count", "delisted", "isolated_only"),
    [
        pytest.param(META_AND_CTXS_2026, 228, 38, 9, id="2026-02-06"),
        pytest.param(META_AND_CTXS_2025, 203, 32, 8, id="2025-08-22"),
        pytest.param(META_AND_CTXS_XYZ, 43, 10, 43, id="dex-xyz"),
    ],
)
def test_every_recorded_meta_and_asset_ctxs_parses(
    name: str, count: int, delisted: int, isolated_only: int
) -> None:
    # given a recorded response
    payload = load(name)

    # when it is parsed
    contexts = parse_meta_and_asset_ctxs(payload)

    # then there is one context per universe entry, in order, with the same szDecimals
    assert len(contexts) == count
    assert [c.coin for c in contexts] == [asset["name"] for asset in payload[0]["universe"]]
    assert {c.coin: c.sz_decimals for c in contexts} == sz_decimals_by_coin(payload)
    assert sum(c.is_delisted for c in contexts) == delisted
    assert sum(a.only_isolated for a in parse_meta(payload[0])) == isolated_only
    # and every delisted market, and only those, has no book
    for context in contexts:
        no_book = (context.mid_price, context.premium, context.impact_bid, context.impact_ask)
        assert (no_book == (None, None, None, None)) is context.is_delisted, context.coin


def test_btc_context_is_exactly_as_recorded() -> None:
    # given the 2026-02-06 main-dex response
    contexts = {c.coin: c for c in parse_meta_and_asset_ctxs(load(META_AND_CTXS_2026))}

    # then BTC carries the file's values, digit for digit
    assert contexts["BTC"] == AssetContext(
        coin="BTC",
        mark_price=Decimal("66344.0"),
        oracle_price=Decimal("66383.0"),
        mid_price=Decimal("66371.5"),
        previous_day_price=Decimal("69557.0"),
        funding_rate=-0.000003688,
        open_interest=Decimal("22727.78266"),
        day_notional_volume=Decimal("12377419030.3486595154"),
        day_base_volume=Decimal("189106.61428"),
        premium=Decimal("-0.0001657051"),
        impact_bid=Decimal("66371.0"),
        impact_ask=Decimal("66372.0"),
        sz_decimals=5,
        max_leverage=40,
        is_delisted=False,
    )
    assert str(contexts["BTC"].day_notional_volume) == "12377419030.3486595154"
    # and a delisted market keeps its last prices but has no book
    matic = contexts["MATIC"]
    assert (matic.is_delisted, matic.mark_price, matic.mid_price) == (
        True,
        Decimal("0.37621"),
        None,
    )


def test_2025_btc_and_the_sz_decimals_the_fills_need() -> None:
    contexts = {c.coin: c for c in parse_meta_and_asset_ctxs(load(META_AND_CTXS_2025))}

    assert (contexts["BTC"].mark_price, contexts["BTC"].funding_rate) == (
        Decimal("113080.0"),
        0.0000125,
    )
    assert (contexts["ETHFI"].sz_decimals, contexts["ENA"].sz_decimals) == (1, 0)


def test_hip3_dex_names_keep_their_prefix() -> None:
    # given the builder-deployed "xyz" dex
    contexts = parse_meta_and_asset_ctxs(load(META_AND_CTXS_XYZ))
    by_coin = {c.coin: c for c in contexts}

    # then every name is kept as given, prefix included
    assert all(c.coin.startswith("xyz:") for c in contexts)
    assert contexts[0].coin == "xyz:XYZ100"
    tsla = by_coin["xyz:TSLA"]
    assert (tsla.sz_decimals, tsla.max_leverage, tsla.mark_price) == (3, 10, Decimal("399.52"))


def test_plain_meta_of_2023() -> None:
    # given the 2023 ``meta`` response (no context, no delisting, no margin tables)
    assets = parse_meta(load(META_2023))

    # then its 28 assets come in order with their parameters
    assert len(assets) == 28
    assert assets[0] == AssetMeta(coin="BTC", sz_decimals=5, max_leverage=50)
    assert {a.coin: a.sz_decimals for a in assets} == sz_decimals_by_coin(load(META_2023))
    assert not any(a.is_delisted or a.only_isolated for a in assets)


def test_context_halves_round_trip() -> None:
    meta = parse_meta(load(META_AND_CTXS_2026)[0])[0]
    context = parse_meta_and_asset_ctxs(load(META_AND_CTXS_2026))[0]

    assert AssetContext.of(meta, context.market) == context


def test_extra_fields_are_ignored() -> None:
    # given a response where the venue added fields at every level
    payload = load(META_AND_CTXS_2026)
    payload[0]["newTopLevel"] = {"x": 1}
    payload[0]["universe"][0]["newAssetField"] = "y"
    payload[1][0]["newCtxField"] = ["z"]

    # then it parses as before
    assert parse_meta_and_asset_ctxs(payload) == parse_meta_and_asset_ctxs(load(META_AND_CTXS_2026))


def small_pair() -> list[object]:
    """The first two perps of the 2026 response (BTC, and a delisted one later on)."""
    meta, ctxs = load(META_AND_CTXS_2026)
    delisted = next(i for i, asset in enumerate(meta["universe"]) if asset.get("isDelisted"))
    meta["universe"] = [meta["universe"][0], meta["universe"][delisted]]
    meta["marginTables"] = meta["marginTables"][:1]
    return [meta, [ctxs[0], ctxs[delisted]]]


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        pytest.param(
            lambda p: p[1].pop(),
            "metaAndAssetCtxs: the universe lists 2 assets but there are 1 contexts",
            id="fewer contexts",
        ),
        pytest.param(
            lambda p: p[1][0].update(impactPxs=["1.0", "2.0", "3.0"]),
            "metaAndAssetCtxs ctx #0 (BTC): field 'impactPxs' must be a pair [bid, ask]",
            id="three impact prices",
        ),
        pytest.param(
            lambda p: p[1][0].update(impactPxs=["1.0", "-2.0"]),
            "metaAndAssetCtxs ctx #0 (BTC): field 'impactPxs[1]' must be positive",
            id="negative impact price",
        ),
        pytest.param(
            lambda p: p[1][0].update(markPx="0.0"),
            "metaAndAssetCtxs ctx #0 (BTC): field 'markPx' must be positive",
            id="zero mark",
        ),
        pytest.param(
            lambda p: p[1][0].update(openInterest="-5"),
            "metaAndAssetCtxs ctx #0 (BTC): field 'openInterest' must not be negative",
            id="negative open interest",
        ),
        pytest.param(
            lambda p: p[0]["universe"][0].update(szDecimals="5"),
            "metaAndAssetCtxs meta universe #0 (BTC): field 'szDecimals' must be a whole number",
            id="szDecimals a string",
        ),
        pytest.param(
            lambda p: p[0]["universe"][1].update(name="BTC"),
            "metaAndAssetCtxs meta universe #1: field 'name' repeats #0 ('BTC')",
            id="repeated name",
        ),
        pytest.param(
            lambda p: p[0]["universe"][0].update(isDelisted="yes"),
            "field 'isDelisted' must be true or false",
            id="isDelisted a string",
        ),
    ],
)
def test_malformed_meta_and_asset_ctxs(edit: object, message: str) -> None:
    payload = small_pair()
    assert callable(edit)
    edit(payload)

    with pytest.raises(HyperliquidFormatError, match=re.escape(message)):
        parse_meta_and_asset_ctxs(payload)


def test_no_hostile_edit_escapes_as_another_exception() -> None:
    refused = check_every_edit(parse_meta_and_asset_ctxs, small_pair())

    assert refused > 300


def test_plain_meta_refuses_a_pair() -> None:
    with pytest.raises(HyperliquidFormatError, match="meta: expected a JSON object, got a list"):
        parse_meta(load(META_AND_CTXS_2026))

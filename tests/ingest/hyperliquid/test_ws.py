"""WebSocket messages: each channel as a typed value, control messages, and refusals.

No WebSocket traffic was recorded, so the envelopes follow Hyperliquid's documented shapes and
the inner objects (fills, asset contexts, mids) are taken from the recorded REST responses,
which the venue sends in the same form on both transports.
"""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import pytest

from ingest.fills import Direction
from ingest.hyperliquid.errors import HyperliquidFormatError
from ingest.hyperliquid.fills import parse_user_fills
from ingest.hyperliquid.meta import parse_meta_and_asset_ctxs
from ingest.hyperliquid.mids import parse_all_mids
from ingest.hyperliquid.ws import (
    AllMidsUpdate,
    AssetContextUpdate,
    ControlMessage,
    PublicTrade,
    PublicTrades,
    UserFillsUpdate,
    parse_ws_message,
)
from tests.ingest.hyperliquid.hostile import check_every_edit
from tests.ingest.hyperliquid.recorded import (
    FILLS_109A42,
    META_AND_CTXS_2026,
    MIDS_2025,
    USER_08C14B,
    USER_109A42,
    load,
)

BUYER = USER_109A42
SELLER = USER_08C14B
TX_HASH = "0xf63235c6d2d4111bf7ab042de3d5590110004dac6dd72fee99fae11991d7eb06"


def trade(**fields: object) -> dict[str, object]:
    base: dict[str, object] = {
        "coin": "BTC",
        "side": "B",
        "px": "97000.0",
        "sz": "0.01",
        "time": 1733000000000,
        "hash": TX_HASH,
        "tid": 123,
        "users": [BUYER, SELLER],
    }
    base.update(fields)
    return {key: value for key, value in base.items() if value is not None}


def message(channel: str, data: object) -> str:
    return json.dumps({"channel": channel, "data": data})


def test_trades_carry_both_counterparties() -> None:
    # given a trades message of two trades, the second a TWAP slice with a zero hash
    raw = message("trades", [trade(), trade(side="A", tid=124, hash="0x" + "0" * 64)])

    # when it is parsed
    parsed = parse_ws_message(raw)

    # then each trade is typed, with the buyer and the seller lower-cased
    assert isinstance(parsed, PublicTrades)
    first, second = parsed.trades
    assert first == PublicTrade(
        coin="BTC",
        side=Direction.BUY,
        price=Decimal("97000.0"),
        size=Decimal("0.01"),
        time=datetime(2024, 11, 30, 20, 53, 20, tzinfo=UTC),
        tx_hash=TX_HASH,
        tid=123,
        buyer=BUYER.lower(),
        seller=SELLER,
    )
    assert first.users == (BUYER.lower(), SELLER)
    assert (first.taker, first.maker) == (BUYER.lower(), SELLER)
    assert (second.side, second.taker, second.tx_hash) == (Direction.SELL, SELLER, None)


def test_user_fills_reuse_the_rest_parser() -> None:
    # given a snapshot of the first five recorded fills of 109a42 (newest first, as in REST)
    fills = load(FILLS_109A42)[:5]
    raw = message("userFills", {"user": USER_109A42, "isSnapshot": True, "fills": fills})

    # when it is parsed
    parsed = parse_ws_message(raw.encode())

    # then the fills are exactly what the REST parser makes of them
    assert isinstance(parsed, UserFillsUpdate)
    assert (parsed.user, parsed.is_snapshot) == (USER_109A42.lower(), True)
    assert parsed.fills == parse_user_fills(fills, user=USER_109A42)
    assert parsed.fills[-1].fill.fill_id == "701625364644192"
    assert parsed.fills[-1].fill.is_liquidation


def test_a_live_user_fills_update_is_not_a_snapshot() -> None:
    raw = message("userFills", {"user": USER_109A42, "fills": load(FILLS_109A42)[:1]})

    parsed = parse_ws_message(raw)

    assert isinstance(parsed, UserFillsUpdate)
    assert not parsed.is_snapshot
    assert len(parsed.fills) == 1


def test_all_mids_drop_spot_unless_asked() -> None:
    mids = load(MIDS_2025)
    raw = message("allMids", {"mids": mids})

    perps = parse_ws_message(raw)
    everything = parse_ws_message(raw, perps_only=False)

    assert perps == AllMidsUpdate(parse_all_mids(mids))
    assert isinstance(everything, AllMidsUpdate)
    assert len(everything.mids) == 482
    assert isinstance(perps, AllMidsUpdate)
    assert len(perps.mids) == 223


def test_active_asset_ctx_is_a_market_context() -> None:
    # given BTC's recorded context sent as an activeAssetCtx update
    meta, ctxs = load(META_AND_CTXS_2026)
    raw = message("activeAssetCtx", {"coin": "BTC", "ctx": ctxs[0]})

    parsed = parse_ws_message(raw)

    # then it equals the context half of the REST parse
    rest = parse_meta_and_asset_ctxs([meta, ctxs])[0]
    assert parsed == AssetContextUpdate(coin="BTC", context=rest.market)


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        pytest.param(
            message(
                "subscriptionResponse",
                {"method": "subscribe", "subscription": {"type": "trades", "coin": "BTC"}},
            ),
            ControlMessage(
                "subscriptionResponse",
                {"method": "subscribe", "subscription": {"type": "trades", "coin": "BTC"}},
            ),
            id="subscriptionResponse",
        ),
        pytest.param('{"channel":"pong"}', ControlMessage("pong"), id="pong"),
        pytest.param(
            message("error", "Invalid subscription"),
            ControlMessage("error", "Invalid subscription"),
            id="error",
        ),
    ],
)
def test_control_messages(raw: str, expected: ControlMessage) -> None:
    assert parse_ws_message(raw) == expected


def test_extra_fields_are_ignored() -> None:
    raw = json.dumps(
        {"channel": "trades", "data": [{**trade(), "new": 1}], "seq": 7, "cursor": "x"}
    )

    parsed = parse_ws_message(raw)

    assert isinstance(parsed, PublicTrades)
    assert parsed.trades[0].tid == 123


def fills_message(**overrides: object) -> str:
    fill: dict[str, Any] = load(FILLS_109A42)[0]
    fill.update(overrides)
    return message("userFills", {"user": USER_109A42, "fills": [fill]})


@pytest.mark.parametrize(
    ("raw", "message_part"),
    [
        pytest.param(
            message("trades", [trade(users=None)]),
            "trades message: trade #0: field 'users' is missing",
            id="trade without users",
        ),
        pytest.param(
            message("trades", [trade(users=["0xbuyer", "0xseller"])]),
            "trades message: trade #0: field 'users[0]' must be a 0x-prefixed",
            id="placeholder addresses",
        ),
        pytest.param(
            message("trades", [trade(px="97000.0", sz="0")]),
            "trades message: trade #0: field 'sz' must be positive",
            id="zero size",
        ),
        pytest.param(
            message("trades", {"coin": "BTC"}),
            "trades message: expected a JSON list, got an object",
            id="trades not a list",
        ),
        pytest.param(
            fills_message(coin=None),
            "userFills message: fill #0: field 'coin' is missing",
            id="fill without coin",
        ),
        pytest.param(
            fills_message(closedPnl="1e40"),
            "userFills message: fill #0: field 'closedPnl' is out of range",
            id="huge closedPnl",
        ),
        pytest.param(
            message("activeAssetCtx", {"coin": "BTC"}),
            "activeAssetCtx message: field 'ctx' is missing",
            id="context without ctx",
        ),
        pytest.param(
            message("allMids", {"BTC": "1.0"}),
            "allMids message: field 'mids' is missing",
            id="mids not wrapped",
        ),
        pytest.param('{"channel":"trades"}', "ws message: field 'data' is missing", id="no data"),
        pytest.param(
            '{"channel":""}', "ws message: field 'channel' must be a non-empty string", id="blank"
        ),
    ],
)
def test_malformed_messages(raw: str, message_part: str) -> None:
    with pytest.raises(HyperliquidFormatError, match=re.escape(message_part)):
        parse_ws_message(raw)


@pytest.mark.parametrize(
    "document",
    [
        pytest.param({"channel": "trades", "data": [trade()]}, id="trades"),
        pytest.param(
            {"channel": "userFills", "data": {"user": USER_109A42, "fills": [None]}},
            id="userFills",
        ),
        pytest.param({"channel": "activeAssetCtx", "data": {"coin": "BTC", "ctx": None}}, id="ctx"),
        pytest.param(
            {"channel": "allMids", "data": {"mids": {"BTC": "1.5", "@1": "2"}}}, id="mids"
        ),
    ],
)
def test_no_hostile_edit_escapes_as_another_exception(document: dict[str, Any]) -> None:
    # given a valid message, with the inner records taken from the recordings
    if document["channel"] == "userFills":
        document["data"]["fills"] = load(FILLS_109A42)[:2]
    if document["channel"] == "activeAssetCtx":
        document["data"]["ctx"] = load(META_AND_CTXS_2026)[1][0]

    # then every hostile edit of it either parses or raises the format error
    refused = check_every_edit(lambda d: parse_ws_message(json.dumps(d)), document)

    assert refused > 50

"""Hostile input across every Hyperliquid parser: one table, one error type, useful messages.

Each case must raise HyperliquidFormatError (never KeyError, TypeError, ValueError,
OverflowError or a decimal signal) with a message naming the record and the field.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from typing import Any

import pytest

from ingest.hyperliquid.errors import HyperliquidFormatError
from ingest.hyperliquid.funding import parse_funding_history, parse_user_funding
from ingest.hyperliquid.leaderboard import parse_leaderboard
from ingest.hyperliquid.meta import parse_meta, parse_meta_and_asset_ctxs
from ingest.hyperliquid.mids import parse_all_mids
from ingest.hyperliquid.portfolio import parse_portfolio
from ingest.hyperliquid.state import parse_clearinghouse_state
from ingest.hyperliquid.ws import parse_ws_message
from tests.ingest.hyperliquid.recorded import (
    FILLS_109A42,
    META_AND_CTXS_2026,
    STATE_08C14B,
    USER_08C14B,
    USER_109A42,
    USER_B7B6F3,
    load,
)

ADDRESS = USER_08C14B


def state(**position: object) -> Callable[[], Any]:
    def build() -> Any:
        payload = load(STATE_08C14B)
        payload["assetPositions"][0]["position"].update(position)
        return payload

    return build


def ctx(**fields: object) -> Callable[[], Any]:
    def build() -> Any:
        meta, ctxs = load(META_AND_CTXS_2026)
        ctxs[0].update(fields)
        return [meta, ctxs]

    return build


def fills_ws(**fields: object) -> Callable[[], str]:
    """A userFills message around the first recorded fill of 109a42, with fields replaced."""

    def build() -> str:
        fill = {**load(FILLS_109A42)[0], **fields}
        return json.dumps({"channel": "userFills", "data": {"user": USER_109A42, "fills": [fill]}})

    return build


def trade_ws(**fields: object) -> Callable[[], str]:
    """A trades message of one valid trade, with fields replaced (None removes one)."""
    trade: dict[str, object] = {
        "coin": "BTC", "side": "B", "px": "97000.0", "sz": "0.01", "time": 1733000000000,
        "hash": "0x01", "tid": 123, "users": [USER_109A42, ADDRESS],
    }  # fmt: skip
    trade.update(fields)
    trade = {key: value for key, value in trade.items() if value is not None}
    return fixed(json.dumps({"channel": "trades", "data": [trade]}))


def fixed(value: object) -> Callable[[], Any]:
    return lambda: value


def funding(**delta: object) -> Callable[[], Any]:
    base = {"coin": "ETH", "fundingRate": "0.0001", "szi": "1.0", "type": "funding", "usdc": "-1"}
    return fixed([{"delta": {**base, **delta}, "hash": "0x01", "time": 1681948800000}])


def ws(raw: str | bytes) -> Callable[[], object]:
    return fixed(raw)


def state_parser(payload: object) -> object:
    return parse_clearinghouse_state(payload, user=ADDRESS)


def funding_parser(payload: object) -> object:
    return parse_user_funding(payload, user=USER_B7B6F3)


WS = parse_ws_message
STATE = state_parser
FUNDING = funding_parser

CASES: list[Any] = [
    # --- transport: not JSON, not text, not an object -------------------------------------
    pytest.param(WS, ws('{"channel":"trades","data":[{"coin":"BT'), "ws message: not JSON",
                 id="truncated JSON"),
    pytest.param(WS, ws(b'{"channel":"pong"}\xff\xfe'), "ws message: not UTF-8 text",
                 id="bytes not UTF-8"),
    pytest.param(WS, ws(""), "ws message: not JSON", id="empty frame"),
    pytest.param(WS, ws("null"), "ws message: expected a JSON object, got null",
                 id="null message"),
    pytest.param(WS, ws('[{"channel":"pong"}]'), "ws message: expected a JSON object, got a list",
                 id="list message"),
    pytest.param(WS, ws('{"channel":"allMids","data":{"mids":{"BTC":NaN}}}'),
                 "ws message: NaN is not valid JSON", id="NaN literal"),
    pytest.param(WS, ws('{"channel":"trades","data":[{"time":' + "9" * 5000 + "}]}"),
                 "ws message: not decodable JSON", id="5000-digit integer"),
    pytest.param(WS, ws("[" * 100_000), "ws message: not", id="nesting bomb"),
    pytest.param(WS, ws('{"channel":"l2Book","data":{}}'),
                 "ws message: field 'channel' names an unknown channel 'l2Book'",
                 id="unknown channel"),
    pytest.param(WS, ws('{"channel":7,"data":{}}'),
                 "ws message: field 'channel' must be a non-empty string", id="channel a number"),
    # --- trades ----------------------------------------------------------------------------
    pytest.param(WS, trade_ws(side="S"),
                 "trades message: trade #0: field 'side' must be 'B' or 'A', got 'S'",
                 id="bad side letter"),
    pytest.param(WS, trade_ws(users=None), "trades message: trade #0: field 'users' is missing",
                 id="missing users"),
    pytest.param(WS, trade_ws(users=[ADDRESS]),
                 "trades message: trade #0: field 'users' must be [buyer, seller], got 1 addresses",
                 id="one counterparty"),
    pytest.param(WS, trade_ws(time=10**20),
                 "trades message: trade #0: field 'time' must be a time in whole ms",
                 id="time beyond year 9999"),
    pytest.param(WS, trade_ws(sz="-1"), "trades message: trade #0: field 'sz' must be positive",
                 id="negative trade size"),
    # --- userFills over WS (the REST fill parser underneath) ---------------------------------
    pytest.param(WS, fills_ws(sz="-1"), "userFills message: fill #0: field 'sz' must be positive",
                 id="negative fill size"),
    pytest.param(WS, fills_ws(time=10**20),
                 "userFills message: fill #0: field 'time' is out of range", id="fill time huge"),
    pytest.param(WS, fills_ws(px="1e999999999"),
                 "userFills message: fill #0: field 'px' is out of range", id="fill price huge"),
    pytest.param(WS, fills_ws(side="X"),
                 "userFills message: fill #0: field 'side' must be 'B' or 'A'",
                 id="fill side unknown"),
    # --- REST parsers --------------------------------------------------------------------------
    pytest.param(parse_meta_and_asset_ctxs, fixed(None),
                 "metaAndAssetCtxs: expected a JSON pair [meta, ctxs], got null", id="null pair"),
    pytest.param(parse_meta_and_asset_ctxs, ctx(markPx="NaN"),
                 "metaAndAssetCtxs ctx #0 (BTC): field 'markPx' is not a number: 'NaN'",
                 id="NaN mark"),
    pytest.param(parse_meta_and_asset_ctxs, ctx(funding="Infinity"),
                 "metaAndAssetCtxs ctx #0 (BTC): field 'funding' is not a number",
                 id="infinite funding"),
    pytest.param(parse_meta_and_asset_ctxs, ctx(dayNtlVlm="9" * 100),
                 "metaAndAssetCtxs ctx #0 (BTC): field 'dayNtlVlm' is too long for a number",
                 id="100-digit volume"),
    pytest.param(parse_meta, fixed({"universe": [{"name": "BTC", "szDecimals": -1}]}),
                 "meta universe #0 (BTC): field 'szDecimals' must be a whole number ≥ 0",
                 id="negative szDecimals"),
    pytest.param(STATE, fixed([]), "clearinghouseState: expected a JSON object, got a list",
                 id="state a list"),
    pytest.param(STATE, state(szi="1e40"),
                 "clearinghouseState position #0 (BTC): field 'position.szi' is out of range",
                 id="huge size"),
    pytest.param(STATE, state(marginUsed="-1"),
                 "position #0 (BTC): field 'position.marginUsed' must not be negative",
                 id="negative margin"),
    pytest.param(STATE, state(entryPx=61884.8),
                 "position #0 (BTC): field 'position.entryPx' must be a decimal string",
                 id="float entry"),
    pytest.param(STATE, state(leverage=None),
                 "position #0 (BTC): field 'position.leverage' is missing", id="no leverage"),
    pytest.param(STATE, state(leverage=[20]),
                 "position #0 (BTC): field 'position.leverage': expected a JSON object, got a list",
                 id="leverage a list"),
    pytest.param(parse_all_mids, fixed({"BTC": " 97000 "}),
                 "allMids: field 'BTC' is not a number: ' 97000 '", id="padded mid"),
    pytest.param(parse_all_mids, fixed(["BTC", "1"]),
                 "allMids: expected a JSON object, got a list", id="mids a list"),
    pytest.param(FUNDING, funding(usdc="NaN"),
                 "userFunding #0: field 'delta.usdc' is not a number: 'NaN'", id="NaN usdc"),
    pytest.param(FUNDING, fixed(None), "userFunding: expected a JSON list, got null",
                 id="null funding"),
    pytest.param(parse_funding_history, fixed([{"coin": "BTC"}]),
                 "fundingHistory #0: field 'time' is missing", id="rate without time"),
    pytest.param(parse_leaderboard, fixed({"leaderboardRows": [None]}),
                 "leaderboard row #0: expected a JSON object, got null", id="null row"),
    pytest.param(parse_portfolio, fixed([["day", None]]),
                 "portfolio window #0 (day): expected a JSON object, got null", id="null window"),
]  # fmt: skip


@pytest.mark.parametrize(("parse", "build", "message"), CASES)
def test_hostile_input_raises_the_format_error(
    parse: Callable[[Any], object], build: Callable[[], object], message: str
) -> None:
    # given hostile input
    payload = build()

    # when it is parsed, then only the format error comes out, naming record and field
    with pytest.raises(HyperliquidFormatError, match=re.escape(message)):
        parse(payload)


def test_the_table_is_wide() -> None:
    assert len(CASES) >= 15


def test_the_error_is_a_value_error_and_re_exported_by_fills() -> None:
    """Callers that caught the fills parser's error (a ValueError) keep working."""
    from ingest.hyperliquid import fills

    assert fills.HyperliquidFormatError is HyperliquidFormatError
    assert issubclass(HyperliquidFormatError, ValueError)

"""Messages from Hyperliquid's WebSocket (``wss://api.hyperliquid.xyz/ws``), as typed values.

Every message is ``{"channel": ..., "data": ...}``. The channels the ingester subscribes to are
parsed into their own types; ``subscriptionResponse`` (the acknowledgement of a subscribe),
``pong`` (the answer to ``{"method": "ping"}``) and ``error`` (the venue refusing a request)
are known control messages. Anything else is a :class:`HyperliquidFormatError`, so that a new
or mistyped subscription is noticed instead of silently dropped.

The inner objects are the REST ones: a ``userFills`` fill is a ``userFills`` record, an
``activeAssetCtx`` ctx is a ``metaAndAssetCtxs`` ctx, and they are parsed by the same code.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal, InvalidOperation
from typing import Literal

from ingest.fills import Direction
from ingest.hyperliquid._records import (
    MAX_TIME_MS,
    Record,
    Sign,
    check_address,
    is_out_of_range,
    is_zero_hash,
    top_level_list,
)
from ingest.hyperliquid.errors import HyperliquidFormatError, decode_json
from ingest.hyperliquid.fills import HyperliquidFill, parse_user_fills
from ingest.hyperliquid.meta import MarketContext, parse_market_context
from ingest.hyperliquid.mids import parse_mids_object

ControlChannel = Literal["subscriptionResponse", "pong", "error"]
_CONTROL_CHANNELS: tuple[ControlChannel, ...] = ("subscriptionResponse", "pong", "error")
_DIRECTION_BY_SIDE = {"B": Direction.BUY, "A": Direction.SELL}


@dataclass(frozen=True, slots=True)
class PublicTrade:
    """One trade on a market's public tape.

    ``side`` is the aggressor's: BUY when the taker bought (``"B"``), SELL when it sold
    (``"A"``). ``buyer`` and ``seller`` are both counterparties, lower-cased, as the venue lists
    them in ``users``. ``tx_hash`` is None for the all-zero hash of TWAP slices.
    """

    coin: str
    side: Direction
    price: Decimal
    size: Decimal
    time: datetime
    tx_hash: str | None
    tid: int
    buyer: str
    seller: str

    @property
    def users(self) -> tuple[str, str]:
        """``(buyer, seller)``, the venue's ``users`` order."""
        return self.buyer, self.seller

    @property
    def taker(self) -> str:
        return self.buyer if self.side is Direction.BUY else self.seller

    @property
    def maker(self) -> str:
        return self.seller if self.side is Direction.BUY else self.buyer


@dataclass(frozen=True, slots=True)
class PublicTrades:
    """A ``trades`` message: one or more trades, in the venue's order."""

    trades: list[PublicTrade]


@dataclass(frozen=True, slots=True)
class UserFillsUpdate:
    """A ``userFills`` message: a user's fills, oldest first.

    The first message after subscribing is a snapshot of recent fills (``is_snapshot``);
    later ones carry new fills only. Snapshot fills may already be stored, which the trade
    table's unique fill ids make harmless.
    """

    user: str
    is_snapshot: bool
    fills: list[HyperliquidFill]


@dataclass(frozen=True, slots=True)
class AllMidsUpdate:
    """An ``allMids`` message: mid prices by market name (perps only unless asked)."""

    mids: dict[str, Decimal]


@dataclass(frozen=True, slots=True)
class AssetContextUpdate:
    """An ``activeAssetCtx`` message: one perp's live context."""

    coin: str
    context: MarketContext


@dataclass(frozen=True, slots=True)
class ControlMessage:
    """A message about the connection rather than the market; ``data`` is kept as decoded."""

    channel: ControlChannel
    data: object = None


WsMessage = PublicTrades | UserFillsUpdate | AllMidsUpdate | AssetContextUpdate | ControlMessage


def parse_ws_message(raw: str | bytes, *, perps_only: bool = True) -> WsMessage:
    """Parse one WebSocket text frame.

    ``perps_only`` drops spot markets from ``allMids`` updates, as
    :func:`ingest.hyperliquid.mids.parse_all_mids` does.
    """
    message = Record("ws message", decode_json(raw, what="ws message"))
    channel = message.text("channel")
    if channel in _CONTROL_CHANNELS:
        return ControlMessage(channel, message.get("data"))
    data = message.required("data")
    if channel == "trades":
        return PublicTrades(_parse_trades(data))
    if channel == "userFills":
        return _parse_user_fills(data)
    if channel == "allMids":
        mids = Record("allMids message", data).required("mids")
        return AllMidsUpdate(
            parse_mids_object(mids, "allMids message: field 'mids'", perps_only=perps_only)
        )
    if channel == "activeAssetCtx":
        record = Record("activeAssetCtx message", data)
        coin = record.text("coin")
        context = parse_market_context(
            record.required("ctx"), f"activeAssetCtx message ({coin}): ctx"
        )
        return AssetContextUpdate(coin, context)
    raise message.error("channel", f"names an unknown channel {channel!r}")


def _parse_trades(data: object) -> list[PublicTrade]:
    trades = []
    for index, item in enumerate(top_level_list(data, "trades message")):
        record = Record(f"trades message: trade #{index}", item)
        side = record.choice("side", tuple(_DIRECTION_BY_SIDE))
        users = record.items("users")
        if len(users) != 2:
            raise record.error("users", f"must be [buyer, seller], got {len(users)} addresses")
        tx_hash = record.text("hash")
        trades.append(
            PublicTrade(
                coin=record.text("coin"),
                side=_DIRECTION_BY_SIDE[side],
                price=record.decimal("px", sign=Sign.POSITIVE),
                size=record.decimal("sz", sign=Sign.POSITIVE),
                time=record.time("time"),
                tx_hash=None if is_zero_hash(tx_hash) else tx_hash,
                tid=record.integer("tid"),
                buyer=check_address(users[0], record.failing("users[0]")),
                seller=check_address(users[1], record.failing("users[1]")),
            )
        )
    return trades


def _parse_user_fills(data: object) -> UserFillsUpdate:
    what = "userFills message"
    record = Record(what, data)
    user = record.address("user")
    fills = record.items("fills")
    for index, fill in enumerate(fills):
        _check_ranges(index, fill)
    try:
        parsed = parse_user_fills(fills, user=user)
    except HyperliquidFormatError as error:
        raise HyperliquidFormatError(f"{what}: {error}") from None
    except (ArithmeticError, ValueError) as error:  # pragma: no cover - _check_ranges guards
        raise HyperliquidFormatError(f"{what}: fills out of range ({error!r})") from None
    return UserFillsUpdate(user=user, is_snapshot=record.flag("isSnapshot"), fills=parsed)


_FILL_AMOUNTS = ("px", "sz", "startPosition", "closedPnl", "fee")


def _check_ranges(index: int, fill: object) -> None:
    """Name out-of-range times and amounts as such ("is out of range").

    :func:`parse_user_fills` refuses them too (through the shared strict readers), with the
    reader's message; this check keeps the WebSocket's messages specific. Fields of the wrong
    type are left to the parser.
    """
    if not isinstance(fill, Mapping):
        return
    where = f"userFills message: fill #{index}"
    time = fill.get("time")
    if isinstance(time, int) and not isinstance(time, bool) and not 0 <= time <= MAX_TIME_MS:
        raise HyperliquidFormatError(f"{where}: field 'time' is out of range: {time!r}")
    for name in _FILL_AMOUNTS:
        value = fill.get(name)
        if not isinstance(value, str):
            continue
        try:
            number = Decimal(value)
        except InvalidOperation:
            continue
        if number.is_finite() and is_out_of_range(number):
            raise HyperliquidFormatError(f"{where}: field {name!r} is out of range: {value!r}")

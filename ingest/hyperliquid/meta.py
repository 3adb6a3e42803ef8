"""Per-coin facts from Hyperliquid's ``meta`` / ``metaAndAssetCtxs`` responses.

:func:`parse_meta` gives each perp's static parameters, :func:`parse_meta_and_asset_ctxs` adds
the live context (mark, oracle and mid prices, funding, open interest, volumes) that the
``market`` table and unrealized PnL need.

The venue truncates average entries to ``6 - szDecimals`` decimals when it books realized PnL,
so the position engine needs each coin's ``szDecimals``. It changes when markets are listed or
re-parameterised, so it is read from the venue rather than written into code.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from ingest.hyperliquid._records import Record, Sign, json_kind, to_decimal, top_level_list
from ingest.hyperliquid.errors import HyperliquidFormatError


def sz_decimals_by_coin(payload: object) -> dict[str, int]:
    """Map each perp's name to its ``szDecimals``.

    Accepts a ``meta`` object (``{"universe": [...]}``) or a ``metaAndAssetCtxs`` pair
    (``[meta, ctxs]``), because both endpoints carry the same universe and callers record
    whichever one they already fetch.
    """
    meta = payload[0] if isinstance(payload, list) and len(payload) == 2 else payload
    if not isinstance(meta, dict) or not isinstance(meta.get("universe"), list):
        raise HyperliquidFormatError(
            "meta: expected {'universe': [...]} or a metaAndAssetCtxs pair [meta, ctxs]"
        )
    decimals: dict[str, int] = {}
    for index, asset in enumerate(meta["universe"]):
        name = asset.get("name") if isinstance(asset, dict) else None
        sz_decimals = asset.get("szDecimals") if isinstance(asset, dict) else None
        if not isinstance(name, str) or not name:
            raise HyperliquidFormatError(f"meta universe #{index}: field 'name' is missing")
        if not isinstance(sz_decimals, int) or isinstance(sz_decimals, bool) or sz_decimals < 0:
            raise HyperliquidFormatError(
                f"meta universe #{index} ({name}): field 'szDecimals' must be a whole number ≥ 0"
            )
        decimals[name] = sz_decimals
    return decimals


@dataclass(frozen=True, slots=True)
class AssetMeta:
    """One perp of the venue's universe, from ``meta`` (or the first half of
    ``metaAndAssetCtxs``).

    ``coin`` is the name exactly as the venue gives it: builder-deployed (HIP-3) dexes prefix
    it with the dex (``xyz:TSLA``). ``only_isolated`` is true for markets that refuse cross
    margin (``onlyIsolated``, or a ``marginMode`` of ``strictIsolated``/``noCross``).
    """

    coin: str
    sz_decimals: int
    max_leverage: int
    is_delisted: bool = False
    only_isolated: bool = False
    margin_table_id: int | None = None


@dataclass(frozen=True, slots=True)
class MarketContext:
    """The live state of one perp: one ``ctx`` of ``metaAndAssetCtxs`` or ``activeAssetCtx``.

    Prices and amounts are exact decimals; ``funding_rate`` (the current hourly rate) is a
    float, as the ``market`` table stores it. ``mid_price``, ``premium`` and the impact prices
    are None for a market with no book, which is what every delisted market looks like.
    """

    mark_price: Decimal
    oracle_price: Decimal
    mid_price: Decimal | None
    previous_day_price: Decimal
    funding_rate: float
    open_interest: Decimal
    day_notional_volume: Decimal
    day_base_volume: Decimal
    premium: Decimal | None
    impact_bid: Decimal | None
    impact_ask: Decimal | None


@dataclass(frozen=True, slots=True)
class AssetContext:
    """One perp of ``metaAndAssetCtxs``: its universe entry and its context side by side."""

    coin: str
    mark_price: Decimal
    oracle_price: Decimal
    mid_price: Decimal | None
    previous_day_price: Decimal
    funding_rate: float
    open_interest: Decimal
    day_notional_volume: Decimal
    day_base_volume: Decimal
    premium: Decimal | None
    impact_bid: Decimal | None
    impact_ask: Decimal | None
    sz_decimals: int
    max_leverage: int
    is_delisted: bool

    @classmethod
    def of(cls, meta: AssetMeta, market: MarketContext) -> AssetContext:
        return cls(
            coin=meta.coin,
            mark_price=market.mark_price,
            oracle_price=market.oracle_price,
            mid_price=market.mid_price,
            previous_day_price=market.previous_day_price,
            funding_rate=market.funding_rate,
            open_interest=market.open_interest,
            day_notional_volume=market.day_notional_volume,
            day_base_volume=market.day_base_volume,
            premium=market.premium,
            impact_bid=market.impact_bid,
            impact_ask=market.impact_ask,
            sz_decimals=meta.sz_decimals,
            max_leverage=meta.max_leverage,
            is_delisted=meta.is_delisted,
        )

    @property
    def market(self) -> MarketContext:
        """The context half, as ``activeAssetCtx`` updates carry it."""
        return MarketContext(
            mark_price=self.mark_price,
            oracle_price=self.oracle_price,
            mid_price=self.mid_price,
            previous_day_price=self.previous_day_price,
            funding_rate=self.funding_rate,
            open_interest=self.open_interest,
            day_notional_volume=self.day_notional_volume,
            day_base_volume=self.day_base_volume,
            premium=self.premium,
            impact_bid=self.impact_bid,
            impact_ask=self.impact_ask,
        )


_ISOLATED_MARGIN_MODES = frozenset({"strictIsolated", "noCross"})


def parse_meta(payload: object) -> list[AssetMeta]:
    """Parse a ``meta`` response (``{"universe": [...], ...}``), in the venue's order.

    The order matters: an asset's index in the universe is its asset id in orders, and the
    ``ctxs`` of ``metaAndAssetCtxs`` are matched to it by position.
    """
    return _parse_universe(payload, "meta")


def parse_meta_and_asset_ctxs(payload: object) -> list[AssetContext]:
    """Parse a ``metaAndAssetCtxs`` response ``[meta, ctxs]`` into one context per perp.

    Works for the main dex and for HIP-3 dexes (``"dex": "xyz"``), whose coin names keep their
    ``xyz:`` prefix. The universe and the contexts are matched by position, so they must be
    equally long.
    """
    what = "metaAndAssetCtxs"
    if not isinstance(payload, list) or len(payload) != 2:
        shape = f"a list of {len(payload)}" if isinstance(payload, list) else json_kind(payload)
        raise HyperliquidFormatError(f"{what}: expected a JSON pair [meta, ctxs], got {shape}")
    meta, ctxs = payload
    assets = _parse_universe(meta, f"{what} meta")
    contexts = top_level_list(ctxs, f"{what} ctxs")
    if len(contexts) != len(assets):
        raise HyperliquidFormatError(
            f"{what}: the universe lists {len(assets)} assets but there are "
            f"{len(contexts)} contexts"
        )
    return [
        AssetContext.of(asset, parse_market_context(ctx, f"{what} ctx #{index} ({asset.coin})"))
        for index, (asset, ctx) in enumerate(zip(assets, contexts, strict=True))
    ]


def parse_market_context(ctx: object, where: str) -> MarketContext:
    """Parse one asset context object; ``where`` names it in errors."""
    record = Record(where, ctx)
    impact_bid, impact_ask = _impact_prices(record)
    return MarketContext(
        mark_price=record.decimal("markPx", sign=Sign.POSITIVE),
        oracle_price=record.decimal("oraclePx", sign=Sign.POSITIVE),
        mid_price=record.optional_decimal("midPx", sign=Sign.POSITIVE),
        previous_day_price=record.decimal("prevDayPx", sign=Sign.NON_NEGATIVE),
        funding_rate=record.rate("funding"),
        open_interest=record.decimal("openInterest", sign=Sign.NON_NEGATIVE),
        day_notional_volume=record.decimal("dayNtlVlm", sign=Sign.NON_NEGATIVE),
        day_base_volume=record.decimal("dayBaseVlm", sign=Sign.NON_NEGATIVE),
        premium=record.optional_decimal("premium"),
        impact_bid=impact_bid,
        impact_ask=impact_ask,
    )


def _impact_prices(record: Record) -> tuple[Decimal | None, Decimal | None]:
    """``impactPxs`` is ``[bid, ask]``: the average prices of a standard-sized market order."""
    if not record.present("impactPxs"):
        return None, None
    prices = record.items("impactPxs")
    if len(prices) != 2:
        raise record.error("impactPxs", f"must be a pair [bid, ask], got {len(prices)} items")
    bid, ask = (
        to_decimal(price, record.failing(f"impactPxs[{side}]"), Sign.POSITIVE)
        for side, price in enumerate(prices)
    )
    return bid, ask


def _parse_universe(payload: object, what: str) -> list[AssetMeta]:
    meta = Record(what, payload)
    assets = [
        _parse_asset(f"{what} universe #{index}", asset)
        for index, asset in enumerate(meta.items("universe"))
    ]
    seen: dict[str, int] = {}
    for index, asset in enumerate(assets):
        if asset.coin in seen:
            raise HyperliquidFormatError(
                f"{what} universe #{index}: field 'name' repeats #{seen[asset.coin]} "
                f"({asset.coin!r})"
            )
        seen[asset.coin] = index
    return assets


def _parse_asset(where: str, payload: object) -> AssetMeta:
    record = Record(where, payload)
    coin = record.text("name")
    record = Record(f"{where} ({coin})", payload)
    margin_mode = record.optional_text("marginMode")
    return AssetMeta(
        coin=coin,
        sz_decimals=record.integer("szDecimals"),
        max_leverage=record.integer("maxLeverage", minimum=1),
        is_delisted=record.flag("isDelisted"),
        only_isolated=record.flag("onlyIsolated") or margin_mode in _ISOLATED_MARGIN_MODES,
        margin_table_id=record.optional_integer("marginTableId"),
    )

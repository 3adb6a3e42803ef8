"""Hyperliquid ``userFills`` / ``userFillsByTime`` responses as venue-neutral fills.

Each record also carries the venue's own view of the fill (``dir``, ``startPosition``,
``closedPnl``); :class:`HyperliquidFill` keeps them next to the :class:`Fill` so ingestion can
cross-check the position engine against the venue instead of trusting either blindly.

Ordering matters to the engine and the venue does not give it directly: ``userFills`` lists the
newest fill first and ``userFillsByTime`` the oldest first, and many fills of one sweep share a
millisecond. Within a millisecond the only evidence of execution order is ``startPosition``,
the trader's position just before each fill, so equal-time fills of one coin are put in the
order in which those positions chain.
"""

from __future__ import annotations

import hashlib
from collections import Counter, defaultdict
from dataclasses import dataclass, replace
from decimal import Decimal
from itertools import groupby

from ingest.fills import ZERO, Direction, Fill
from ingest.hyperliquid._records import Record, Sign, is_zero_hash, top_level_list
from ingest.hyperliquid.errors import HyperliquidFormatError

__all__ = [
    "VENUE",
    "HyperliquidFill",
    "HyperliquidFormatError",
    "PerpFills",
    "parse_user_fills",
    "perp_fills",
]

VENUE = "hyperliquid"
#: The token perpetual fees are paid in; a fee in another token is booked as USD all the same
#: (perp collateral tokens are USD stablecoins) and counted.
PERP_FEE_CURRENCY = "USDC"

_DIRECTION_BY_SIDE = {"B": Direction.BUY, "A": Direction.SELL}


@dataclass(frozen=True, slots=True)
class HyperliquidFill:
    """One fill, with the venue's own answers kept for cross-checks.

    ``dir`` is Hyperliquid's label (``Open Long``, ``Close Short``, ``Long > Short``, ...),
    ``start_position`` the signed position before the fill, ``closed_pnl`` what the venue
    booked for it, gross of fees.
    """

    fill: Fill
    dir: str
    start_position: Decimal
    closed_pnl: Decimal
    fee_token: str | None = None
    """The token the fee was paid in; None in early-mainnet fills (they were free)."""
    twap_id: int | None = None
    """The TWAP order the fill belongs to; None for an ordinary order's fill."""

    @property
    def is_spot(self) -> bool:
        """A spot trade (``@107``, ``PURR/USDC``), not a perpetual: no position to track."""
        coin = self.fill.coin
        return coin.startswith("@") or "/" in coin

    @property
    def end_position(self) -> Decimal:
        """The signed position the venue implies after this fill."""
        size = self.fill.size
        return self.start_position + (size if self.fill.direction is Direction.BUY else -size)


def parse_user_fills(payload: object, *, user: str) -> list[HyperliquidFill]:
    """Parse a ``userFills`` or ``userFillsByTime`` response for ``user``, oldest fill first.

    The response does not name its user, so the caller says whose fills these are; that also
    decides which ``liquidation`` objects are the user's own liquidations.
    """
    records = top_level_list(payload, "userFills response")
    address = user.lower()
    parsed = [_parse_fill(index, record, address) for index, record in enumerate(records)]
    return _with_unique_derived_ids(_oldest_first(parsed))


def _parse_fill(index: int, record: object, address: str) -> HyperliquidFill:
    fields = Record(f"fill #{index}", record)
    side = fields.choice("side", ("B", "A"))
    time = fields.time("time")
    time_ms = fields.integer("time")
    tx_hash = fields.text("hash")
    oid = fields.integer("oid")
    price = fields.decimal("px", sign=Sign.POSITIVE)
    size = fields.decimal("sz", sign=Sign.POSITIVE)
    start_position = fields.decimal("startPosition")
    tid = fields.optional_integer("tid")
    fill_id = (
        str(tid)
        if tid is not None
        else _derived_fill_id(
            tx_hash=tx_hash,
            oid=oid,
            time_ms=time_ms,
            price=price,
            size=size,
            side=side,
            start_position=start_position,
        )
    )
    fee = fields.optional_decimal("fee")
    closed_pnl = fields.decimal("closedPnl")
    fill = Fill(
        venue=VENUE,
        fill_id=fill_id,
        address=address,
        coin=fields.text("coin"),
        direction=_DIRECTION_BY_SIDE[side],
        size=size,
        price=price,
        timestamp=time,
        # Early-mainnet fills have no ``fee``; they were free, so zero is meaningful.
        fee=ZERO if fee is None else fee,
        is_liquidation=_liquidated_user(fields) == address,
        tx_hash=None if is_zero_hash(tx_hash) else tx_hash,
        venue_start_position=start_position,
        venue_closed_pnl=closed_pnl,
    )
    return HyperliquidFill(
        fill=fill,
        dir=fields.text("dir"),
        start_position=start_position,
        closed_pnl=closed_pnl,
        fee_token=fields.optional_text("feeToken"),
        twap_id=fields.optional_integer("twapId"),
    )


@dataclass(frozen=True, slots=True)
class PerpFills:
    """A response's perpetual fills, and what was set apart from them."""

    fills: list[HyperliquidFill]
    spot_skipped: int
    """Spot trades: they open no perpetual position, so perpgraph does not store them."""
    fees_in_other_tokens: int
    """Perpetual fills whose fee token is not USDC (booked as USD all the same)."""


def perp_fills(fills: list[HyperliquidFill]) -> PerpFills:
    """Set spot trades apart from perpetual fills (``userFills`` returns both)."""
    perps = [f for f in fills if not f.is_spot]
    other_fee = sum(1 for f in perps if f.fee_token not in (None, PERP_FEE_CURRENCY))
    return PerpFills(perps, len(fills) - len(perps), other_fee)


def _liquidated_user(fields: Record) -> str | None:
    """Whose position the fill liquidated, lower-cased; None for an ordinary fill.

    The object is also present on the fills of whoever took over the liquidated position
    (08c14b's ENA fills name 35 other accounts), so presence alone does not mean the user
    was liquidated.
    """
    liquidation = fields.optional_record("liquidation")
    if liquidation is None:
        return None
    return liquidation.address("liquidatedUser")


def _derived_fill_id(
    *,
    tx_hash: str,
    oid: int,
    time_ms: int,
    price: Decimal,
    size: Decimal,
    side: str,
    start_position: Decimal,
) -> str:
    """A stable id for a fill that has no ``tid``.

    Fills from early mainnet (the 2023 recordings) carry no trade id, yet the trade table needs
    one per fill so that re-ingesting a response is idempotent. The six fields that describe
    the execution are not always enough: in the Feb 2023 file two fills of one order share
    hash, oid, time, price, size and side, and differ only in ``startPosition``, so it is
    hashed too. Amounts are normalised so that ``"1.0"`` and ``"1"`` give the same id. The
    ``legacy-`` prefix keeps these ids apart from numeric tids.
    """
    amounts = (str(amount.normalize()) for amount in (price, size, start_position))
    key = "|".join([tx_hash, str(oid), str(time_ms), side, *amounts])
    return "legacy-" + hashlib.sha256(key.encode()).hexdigest()[:32]


def _with_unique_derived_ids(fills: list[HyperliquidFill]) -> list[HyperliquidFill]:
    """Number repeats of a derived id, oldest first.

    Only fills equal in every field the id is made of collide (two self-trades of one order at
    the same price and size from the same position could; none do in the recorded files).
    Nothing tells such fills apart, so numbering them in order is as stable as anything can be.
    """
    counts = Counter(f.fill.fill_id for f in fills if f.fill.fill_id.startswith("legacy-"))
    seen: Counter[str] = Counter()
    unique: list[HyperliquidFill] = []
    for item in fills:
        fill_id = item.fill.fill_id
        if counts[fill_id] > 1:
            seen[fill_id] += 1
            numbered = replace(item.fill, fill_id=f"{fill_id}-{seen[fill_id]}")
            unique.append(replace(item, fill=numbered))
        else:
            unique.append(item)
    return unique


def _oldest_first(fills: list[HyperliquidFill]) -> list[HyperliquidFill]:
    """Order the fills by time, and fills of one coin within a millisecond by chaining.

    A newest-first response is reversed before the stable sort, so that equal-time fills start
    from the reverse of the order the venue listed them in, which is usually already right.
    """
    if fills and fills[0].fill.timestamp > fills[-1].fill.timestamp:
        fills = fills[::-1]
    by_time = sorted(fills, key=lambda f: f.fill.timestamp)
    position_by_coin: dict[str, Decimal] = {}
    ordered: list[HyperliquidFill] = []
    for _, same_time in groupby(by_time, key=lambda f: f.fill.timestamp):
        ordered.extend(_chain_within_millisecond(list(same_time), position_by_coin))
    return ordered


def _chain_within_millisecond(
    same_time: list[HyperliquidFill], position_by_coin: dict[str, Decimal]
) -> list[HyperliquidFill]:
    """Reorder each coin's fills so each starts where the previous one ended.

    Each coin keeps the slots it had in ``same_time``; only which of its fills fills which slot
    changes. Where the chain cannot continue (a self-trade leaves the position where it was,
    or the response has a gap) the next run starts at the earliest remaining fill that no other
    remaining fill leads to, and failing that at the earliest remaining fill. On the recorded
    files this gives the README's continuity counts exactly.
    """
    by_coin: defaultdict[str, list[HyperliquidFill]] = defaultdict(list)
    for item in same_time:
        by_coin[item.fill.coin].append(item)
    chained: dict[str, list[HyperliquidFill]] = {}
    for coin, remaining in by_coin.items():
        position = position_by_coin.get(coin)
        chain: list[HyperliquidFill] = []
        while remaining:
            following = next((f for f in remaining if f.start_position == position), None)
            if following is None:
                ends = {f.end_position for f in remaining}
                following = next(
                    (f for f in remaining if f.start_position not in ends), remaining[0]
                )
            remaining.remove(following)
            chain.append(following)
            position = following.end_position
        if position is not None:
            position_by_coin[coin] = position
        chained[coin] = chain
    slots = {coin: iter(chain) for coin, chain in chained.items()}
    return [next(slots[item.fill.coin]) for item in same_time]

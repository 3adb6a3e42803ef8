"""Hyperliquid funding: one trader's payments (``userFunding``) and a coin's rate history
(``fundingHistory``).

Payment signs are the venue's: ``usdc`` is positive when the trader **received** funding and
negative when they paid it (a long pays when the rate is positive). That is the opposite sign
to ``cumFunding`` in ``clearinghouseState``, which counts what was paid.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from ingest.hyperliquid._records import Record, is_zero_hash, top_level_list
from ingest.hyperliquid.errors import HyperliquidFormatError


@dataclass(frozen=True, slots=True)
class FundingPayment:
    """One funding settlement of one trader's position in one coin.

    ``funding_id`` is derived from user, coin and time (the venue settles each position once
    per funding time), so re-ingesting a response is idempotent. ``szi`` is the signed position
    the payment was computed on (an average over ``samples`` samples in early data), and
    ``funding_rate`` the rate applied.
    """

    funding_id: str
    user: str
    time: datetime
    coin: str
    usdc: Decimal
    szi: Decimal
    funding_rate: float
    samples: int | None = None
    tx_hash: str | None = None


@dataclass(frozen=True, slots=True)
class FundingRate:
    """One funding rate of one coin: the rate applied at ``time`` and the premium behind it."""

    coin: str
    time: datetime
    funding_rate: float
    premium: Decimal


def funding_id(*, user: str, coin: str, time_ms: int) -> str:
    """The stable id of the payment to ``user`` in ``coin`` at ``time_ms``."""
    key = f"{user.lower()}|{coin}|{time_ms}"
    return "funding-" + hashlib.sha256(key.encode()).hexdigest()[:32]


def parse_user_funding(payload: object, *, user: str) -> list[FundingPayment]:
    """Parse a ``userFunding`` response for ``user``, oldest payment first.

    The response does not name its user, so the caller says whose payments these are. Two
    payments of one coin at one time would share an id, so they are refused.
    """
    what = "userFunding"
    address = user.lower()
    payments: list[FundingPayment] = []
    seen: dict[str, int] = {}
    for index, item in enumerate(top_level_list(payload, what)):
        payment = _parse_payment(f"{what} #{index}", item, address)
        if payment.funding_id in seen:
            first = seen[payment.funding_id]
            raise HyperliquidFormatError(
                f"{what} #{index}: fields 'time' and 'delta.coin' repeat #{first} "
                f"({payment.coin} at {payment.time.isoformat()})"
            )
        seen[payment.funding_id] = index
        payments.append(payment)
    return sorted(payments, key=lambda payment: payment.time)


def _parse_payment(where: str, item: object, address: str) -> FundingPayment:
    record = Record(where, item)
    delta = record.record("delta")
    if delta.text("type") != "funding":
        raise delta.error("type", f"must be 'funding', got {delta.text('type')!r}")
    coin = delta.text("coin")
    time_ms = record.integer("time")
    tx_hash = record.optional_text("hash")
    return FundingPayment(
        funding_id=funding_id(user=address, coin=coin, time_ms=time_ms),
        user=address,
        time=record.time("time"),
        coin=coin,
        usdc=delta.decimal("usdc"),
        szi=delta.decimal("szi"),
        funding_rate=delta.rate("fundingRate"),
        samples=delta.optional_integer("nSamples", minimum=1),
        tx_hash=None if tx_hash is None or is_zero_hash(tx_hash) else tx_hash,
    )


def parse_funding_history(payload: object) -> list[FundingRate]:
    """Parse a ``fundingHistory`` response (one coin's rates), oldest first."""
    what = "fundingHistory"
    rates = []
    for index, item in enumerate(top_level_list(payload, what)):
        record = Record(f"{what} #{index}", item)
        rates.append(
            FundingRate(
                coin=record.text("coin"),
                time=record.time("time"),
                funding_rate=record.rate("fundingRate"),
                premium=record.decimal("premium"),
            )
        )
    return sorted(rates, key=lambda rate: rate.time)

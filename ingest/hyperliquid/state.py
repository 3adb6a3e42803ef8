"""Hyperliquid ``clearinghouseState``: one account's open perp positions and margin.

Two formats are in use and both are read:

* current (2026 recording): each position has ``maxLeverage`` and ``cumFunding``; the response
  has ``time``, top-level ``withdrawable`` and ``crossMaintenanceMarginUsed``;
* early mainnet (2023 recording): positions carry ``maxTradeSzs`` instead, and there is no
  ``cumFunding``, ``time`` or top-level ``withdrawable``; ``withdrawable`` sits inside the
  margin summaries instead, and is read from there.

Sign conventions are the venue's: ``szi`` is negative for a short; ``cumFunding`` is what the
trader **paid** (positive = paid, negative = received), which is the opposite sign to
``userFunding``'s ``usdc`` (positive = received).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Literal, cast

from ingest.fills import Side
from ingest.hyperliquid._records import Record, Sign
from ingest.hyperliquid.errors import HyperliquidFormatError

LeverageType = Literal["cross", "isolated"]
_LEVERAGE_TYPES: tuple[LeverageType, ...] = ("cross", "isolated")


@dataclass(frozen=True, slots=True)
class AccountPosition:
    """One open position as the venue sees it.

    ``szi`` is the signed size (negative = short). ``entry_price`` is the venue's display
    value, truncated; :attr:`exact_entry_price` is the untruncated one.
    ``leverage`` is the leverage the trader set, ``max_leverage`` the market's cap (absent in
    2023). The ``cum_funding_*`` amounts are funding **paid** (positive) or received
    (negative) over the account's life in this coin, since the position opened, and since its
    size last changed; None in the 2023 format.
    """

    coin: str
    szi: Decimal
    entry_price: Decimal
    position_value: Decimal
    unrealized_pnl: Decimal
    return_on_equity: Decimal
    liquidation_price: Decimal | None
    margin_used: Decimal
    leverage_type: LeverageType
    leverage: float
    max_leverage: int | None = None
    cum_funding_all_time: Decimal | None = None
    cum_funding_since_open: Decimal | None = None
    cum_funding_since_change: Decimal | None = None

    @property
    def side(self) -> Side:
        return Side.LONG if self.szi > 0 else Side.SHORT

    @property
    def size(self) -> Decimal:
        return abs(self.szi)

    @property
    def exact_entry_price(self) -> Decimal:
        """The entry the venue's unrealized PnL implies, untruncated.

        ``position_value`` is ``|szi| × mark`` and ``unrealized_pnl`` is ``(mark − entry) × szi``,
        so ``entry = position_value / |szi| − unrealized_pnl / szi``.
        """
        return self.position_value / self.size - self.unrealized_pnl / self.szi


@dataclass(frozen=True, slots=True)
class MarginSummary:
    """``marginSummary`` or ``crossMarginSummary``: totals over the account's positions.

    ``total_notional`` is ``totalNtlPos`` (the sum of position values at mark),
    ``total_raw_usd`` the USDC balance net of what positions owe or are owed.
    """

    account_value: Decimal
    total_notional: Decimal
    total_raw_usd: Decimal
    total_margin_used: Decimal


@dataclass(frozen=True, slots=True)
class AccountState:
    """One account's ``clearinghouseState``: positions in the venue's order, and margin.

    ``time`` is when the venue took the snapshot (None in the 2023 format).
    ``cross_maintenance_margin_used`` is None where the response lacks it.
    """

    user: str
    positions: list[AccountPosition]
    margin: MarginSummary
    cross_margin: MarginSummary | None
    withdrawable: Decimal | None
    cross_maintenance_margin_used: Decimal | None
    time: datetime | None

    @property
    def account_value(self) -> Decimal:
        return self.margin.account_value

    def position(self, coin: str) -> AccountPosition | None:
        return next((p for p in self.positions if p.coin == coin), None)


def parse_clearinghouse_state(payload: object, *, user: str) -> AccountState:
    """Parse a ``clearinghouseState`` response for ``user`` (it does not name its user)."""
    what = "clearinghouseState"
    state = Record(what, payload)
    margin = _margin_summary(state, "marginSummary")
    cross_margin = (
        _margin_summary(state, "crossMarginSummary")
        if state.present("crossMarginSummary")
        else None
    )
    withdrawable = state.optional_decimal("withdrawable", sign=Sign.NON_NEGATIVE)
    if withdrawable is None:
        withdrawable = state.record("marginSummary").optional_decimal(
            "withdrawable", sign=Sign.NON_NEGATIVE
        )
    positions = [
        _parse_position(index, entry) for index, entry in enumerate(state.items("assetPositions"))
    ]
    seen: dict[str, int] = {}
    for index, position in enumerate(positions):
        if position.coin in seen:
            raise HyperliquidFormatError(
                f"{what} position #{index}: field 'coin' repeats position "
                f"#{seen[position.coin]} ({position.coin!r})"
            )
        seen[position.coin] = index
    return AccountState(
        user=user.lower(),
        positions=positions,
        margin=margin,
        cross_margin=cross_margin,
        withdrawable=withdrawable,
        cross_maintenance_margin_used=state.optional_decimal(
            "crossMaintenanceMarginUsed", sign=Sign.NON_NEGATIVE
        ),
        time=state.optional_time("time"),
    )


def _margin_summary(state: Record, name: str) -> MarginSummary:
    summary = state.record(name)
    return MarginSummary(
        account_value=summary.decimal("accountValue"),
        total_notional=summary.decimal("totalNtlPos", sign=Sign.NON_NEGATIVE),
        total_raw_usd=summary.decimal("totalRawUsd"),
        total_margin_used=summary.decimal("totalMarginUsed", sign=Sign.NON_NEGATIVE),
    )


def _parse_position(index: int, entry: object) -> AccountPosition:
    where = f"clearinghouseState position #{index}"
    position = Record(where, entry).record("position")
    coin = position.text("coin")
    position = Record(f"{where} ({coin})", entry).record("position")
    szi = position.decimal("szi")
    if szi == 0:
        raise position.error("szi", "must not be zero for an open position")
    leverage = position.record("leverage")
    funding = position.optional_record("cumFunding")
    return AccountPosition(
        coin=coin,
        szi=szi,
        entry_price=position.decimal("entryPx", sign=Sign.POSITIVE),
        position_value=position.decimal("positionValue", sign=Sign.NON_NEGATIVE),
        unrealized_pnl=position.decimal("unrealizedPnl"),
        return_on_equity=position.decimal("returnOnEquity"),
        liquidation_price=position.optional_decimal("liquidationPx", sign=Sign.NON_NEGATIVE),
        margin_used=position.decimal("marginUsed", sign=Sign.NON_NEGATIVE),
        leverage_type=cast(LeverageType, leverage.choice("type", _LEVERAGE_TYPES)),
        leverage=leverage.number("value"),
        max_leverage=position.optional_integer("maxLeverage", minimum=1),
        cum_funding_all_time=funding.decimal("allTime") if funding else None,
        cum_funding_since_open=funding.decimal("sinceOpen") if funding else None,
        cum_funding_since_change=funding.decimal("sinceChange") if funding else None,
    )

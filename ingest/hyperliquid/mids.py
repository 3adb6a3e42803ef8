"""Hyperliquid ``allMids``: the mid price of every market, keyed by the venue's market name.

The one map mixes perps and spot. Perps are keyed by coin (``BTC``, or ``xyz:TSLA`` on a HIP-3
dex); spot pairs by ``@<index>`` or, for a few early pairs, by ``BASE/QUOTE`` (``PURR/USDC``).
Position marks need perps only, so that is the default.
"""

from __future__ import annotations

from decimal import Decimal

from ingest.hyperliquid._records import Record, Sign


def is_perp_name(name: str) -> bool:
    """Whether an ``allMids`` key names a perp rather than a spot pair."""
    return not name.startswith("@") and "/" not in name


def parse_all_mids(payload: object, *, perps_only: bool = True) -> dict[str, Decimal]:
    """Parse an ``allMids`` response (``{name: "mid", ...}``) into positive decimal mids.

    With ``perps_only`` (the default) spot keys are dropped; every value is checked either way.
    """
    return parse_mids_object(payload, "allMids", perps_only=perps_only)


def parse_mids_object(payload: object, where: str, *, perps_only: bool) -> dict[str, Decimal]:
    """The ``{name: "mid"}`` object shared by the REST response and the WebSocket channel."""
    record = Record(where, payload)
    mids: dict[str, Decimal] = {}
    for name in record.field_names():
        if not name:
            raise record.error(name, "is not a market name")
        mid = record.decimal(name, sign=Sign.POSITIVE)
        if is_perp_name(name) or not perps_only:
            mids[name] = mid
    return mids

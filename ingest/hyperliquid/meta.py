"""Per-coin facts from Hyperliquid's ``meta`` / ``metaAndAssetCtxs`` responses.

The venue truncates average entries to ``6 - szDecimals`` decimals when it books realized PnL,
so the position engine needs each coin's ``szDecimals``. It changes when markets are listed or
re-parameterised, so it is read from the venue rather than written into code.
"""

from __future__ import annotations

from ingest.hyperliquid.fills import HyperliquidFormatError


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

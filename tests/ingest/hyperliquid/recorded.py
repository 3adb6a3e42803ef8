"""The recorded Hyperliquid responses in ``../shared/data/hyperliquid`` (see its README).

They are read in place, never copied into the repository. A missing directory or file fails
the test rather than skipping it: these files are the oracle, and silently not checking them is
the worse outcome.
"""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from typing import Any

import pytest

DATA_DIR = Path(__file__).resolve().parents[3] / ".." / "shared" / "data" / "hyperliquid"

USER_08C14B = "0x08c14b32c8a48894e4b933090ebcc9ce33b21135"
USER_5E9EE1 = "0x5e9ee1089755c3435139848e47e6635505d5a13a"
USER_B7B6F3 = "0xb7b6f3cea3f66bf525f5d8f965f6dbf6d9b017b2"
USER_109A42 = "0x109A42c3eAD059b041560Cb6Da71058516e7Ba3e"

META_2023 = "meta_2023-07-17.json"
META_AND_CTXS_2025 = "meta_and_asset_ctxs_2025-08-22.json"
META_AND_CTXS_2026 = "meta_and_asset_ctxs_2026-02-06.json"
META_AND_CTXS_XYZ = "meta_and_asset_ctxs_dex-xyz_2026-02-06.json"
STATE_08C14B = "clearinghouse_state_08c14b_2026-10-02.json"
STATE_5E9EE1 = "clearinghouse_state_5e9ee1_2023-03-27.json"
PORTFOLIO_08C14B = "portfolio_08c14b_2026-10-02.json"
PORTFOLIO_31CA83 = "portfolio_31ca83_2025-08-22.json"
FUNDING_B7B6F3 = "user_funding_b7b6f3_2023-04-20_to_2023-05-05.json"
FUNDING_HISTORY_BTC = "funding_history_BTC_2023-05-12_to_2023-07-17.json"
LEADERBOARD = "leaderboard_sample_60rows_2026-10-02.json"
MIDS_2023 = "all_mids_2023-07-17.json"
MIDS_2025 = "all_mids_2025-12-13.json"
FILLS_109A42 = "user_fills_109a42_2025-10-07_to_2025-10-21.json"


def path(name: str) -> Path:
    if not DATA_DIR.is_dir():
        pytest.fail(
            f"recorded Hyperliquid data not found at {DATA_DIR.resolve()}; it is expected at "
            "../shared/data/hyperliquid relative to the repository root (not copied into it)"
        )
    file = DATA_DIR / name
    if not file.is_file():
        pytest.fail(f"recorded Hyperliquid file missing: {file.resolve()}")
    return file


@cache
def _text(name: str) -> str:
    return path(name).read_text(encoding="utf-8")


def load(name: str) -> Any:
    """A fresh decoded copy of a recorded response (fresh, so tests may mutate it)."""
    return json.loads(_text(name))


def with_non_perp_fills(fills: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """``fills`` plus what a real ``userFills`` also holds: two spot trades (a ``@107`` pair
    paying its fee in HYPE, and ``PURR/USDC``), a perpetual fill of a TWAP paying USDH, and
    one in ``xyz:TSLA``, a builder-deployed market absent from the main perpetual list. Each
    copies the first recorded fill's fields with its own ids and coin."""
    template = fills[0]
    extra = [
        {**template, "coin": "@107", "dir": "Buy", "feeToken": "HYPE", "tid": 1, "side": "B"},
        {**template, "coin": "PURR/USDC", "dir": "Sell", "feeToken": "PURR", "tid": 2},
        {**template, "coin": "xyz:TSLA", "dir": "Open Long", "feeToken": "USDC", "tid": 3},
    ]
    for fill in extra:
        fill.pop("liquidation", None)
        fill["startPosition"] = "0.0"
        fill["closedPnl"] = "0.0"
    twap = {**fills[-1], "twapId": 4321, "feeToken": "USDH"}
    return [*fills[:-1], twap, *extra]

"""Replay recorded venue responses into the database (``perpgraph ingest replay FILE...``).

Each file is recognised by its shape: Hyperliquid ``meta`` / ``metaAndAssetCtxs`` responses
describe markets (size decimals, leverage limits, marks) and are applied first; ``userFills`` /
``userFillsByTime`` responses are folded and written in batches. Fills are unique per venue
fill id, so replaying a file twice changes nothing. The report compares the engine's realized
PnL with the venue's own ``closedPnl`` on every closing fill.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path

from psycopg import AsyncConnection

from ingest.hyperliquid.fills import HyperliquidFill, HyperliquidFormatError, parse_user_fills
from ingest.hyperliquid.meta import sz_decimals_by_coin
from ingest.writer import MarketSpec, WriteReport, known_markets, upsert_markets, write_fills

VENUE = "hyperliquid"
BATCH_SIZE = 5_000
#: Hyperliquid prices carry at most this many significant decimals plus size decimals.
HYPERLIQUID_PRICE_DECIMALS = 6


class ReplayError(ValueError):
    """A file that cannot be replayed; the message names the file and says what to do."""


@dataclass(slots=True)
class FileReport:
    path: Path
    kind: str
    write: WriteReport = field(default_factory=WriteReport)
    markets: int = 0
    closes_checked: int = 0
    closes_matching_venue: int = 0


@dataclass(frozen=True, slots=True)
class _Loaded:
    path: Path
    payload: object
    kind: str


def _kind_of(payload: object) -> str | None:
    if isinstance(payload, dict) and "universe" in payload:
        return "meta"
    if (
        isinstance(payload, list)
        and len(payload) == 2
        and isinstance(payload[0], dict)
        and "universe" in payload[0]
    ):
        return "metaAndAssetCtxs"
    if isinstance(payload, list) and all(
        isinstance(item, dict) and {"coin", "px", "sz", "side", "time"} <= item.keys()
        for item in payload
    ):
        return "userFills"
    return None


def _load(path: Path) -> _Loaded:
    try:
        payload = json.loads(path.read_bytes())
    except OSError as error:
        raise ReplayError(f"{path}: cannot read it: {error.strerror}") from None
    except (ValueError, UnicodeDecodeError) as error:
        raise ReplayError(f"{path}: not JSON ({error})") from None
    kind = _kind_of(payload)
    if kind is None:
        raise ReplayError(
            f"{path}: not a response replay understands (Hyperliquid userFills, "
            "userFillsByTime, meta or metaAndAssetCtxs)"
        )
    return _Loaded(path, payload, kind)


def _inferred_size_decimals(fills: Sequence[HyperliquidFill], coin: str) -> int:
    """The most decimals any size of ``coin`` shows: a lower bound of the venue's szDecimals."""
    exponents = [
        -int(f.fill.size.normalize().as_tuple().exponent) for f in fills if f.fill.coin == coin
    ]
    return max([0, *exponents])


async def replay(
    connection: AsyncConnection, paths: Sequence[Path], *, user: str | None
) -> list[FileReport]:
    """Replay ``paths`` (market files first, then fills in the order given)."""
    loaded = [_load(path) for path in paths]
    if user is None and any(item.kind == "userFills" for item in loaded):
        raise ReplayError(
            "userFills responses do not say whose fills they are: pass --user ADDRESS"
        )
    reports: list[FileReport] = []
    size_decimals: dict[str, int] = {}
    for item in loaded:
        if item.kind in ("meta", "metaAndAssetCtxs"):
            reports.append(await _replay_markets(connection, item, size_decimals))
    for item in loaded:
        if item.kind == "userFills":
            assert user is not None
            reports.append(await _replay_fills(connection, item, user, size_decimals))
    return reports


async def _replay_markets(
    connection: AsyncConnection, item: _Loaded, size_decimals: dict[str, int]
) -> FileReport:
    try:
        decimals = sz_decimals_by_coin(item.payload)
    except HyperliquidFormatError as error:
        raise ReplayError(f"{item.path}: {error}") from None
    size_decimals.update(decimals)
    await upsert_markets(
        connection,
        [
            MarketSpec(coin, VENUE, places, _max_leverage(item.payload, coin))
            for coin, places in decimals.items()
        ],
    )
    return FileReport(item.path, item.kind, markets=len(decimals))


def _max_leverage(payload: object, coin: str) -> int:
    meta = payload[0] if isinstance(payload, list) else payload
    universe = meta.get("universe", []) if isinstance(meta, dict) else []
    for asset in universe:
        if isinstance(asset, dict) and asset.get("name") == coin:
            leverage = asset.get("maxLeverage")
            if isinstance(leverage, int) and leverage > 0:
                return leverage
    return 1


async def _replay_fills(
    connection: AsyncConnection, item: _Loaded, user: str, size_decimals: dict[str, int]
) -> FileReport:
    try:
        fills = parse_user_fills(item.payload, user=user)
    except HyperliquidFormatError as error:
        raise ReplayError(f"{item.path}: {error}") from None
    report = FileReport(item.path, item.kind)
    stored = await known_markets(connection)
    missing = sorted({f.fill.coin for f in fills} - stored.keys())
    await upsert_markets(
        connection,
        [
            MarketSpec(
                coin, VENUE, size_decimals.get(coin, _inferred_size_decimals(fills, coin)), 1
            )
            for coin in missing
        ],
    )
    decimals = {
        **stored,
        **{c: size_decimals.get(c, _inferred_size_decimals(fills, c)) for c in missing},
    }
    entry_decimals = {
        coin: max(0, HYPERLIQUID_PRICE_DECIMALS - places) for coin, places in decimals.items()
    }
    for start in range(0, len(fills), BATCH_SIZE):
        batch = fills[start : start + BATCH_SIZE]
        report.write.add(
            await write_fills(
                connection,
                [f.fill for f in batch],
                source=f"replay:{item.path.name}:{user.lower()}",
                checkpoint=str(start + len(batch)),
                pnl_entry_decimals=entry_decimals,
            )
        )
    await _compare_closed_pnl(connection, fills, report)
    return report


async def _compare_closed_pnl(
    connection: AsyncConnection, fills: Sequence[HyperliquidFill], report: FileReport
) -> None:
    closing = {
        f.fill.fill_id: f.closed_pnl for f in fills if f.dir.startswith("Close") or ">" in f.dir
    }
    if not closing:
        return
    cursor = await connection.execute(
        "SELECT venue_fill_id, realized_pnl FROM trade "
        "WHERE venue = %s AND venue_fill_id = ANY(%s)",
        (VENUE, list(closing)),
    )
    for fill_id, realized in await cursor.fetchall():
        report.closes_checked += 1
        if realized is not None and Decimal(realized) == closing[fill_id]:
            report.closes_matching_venue += 1

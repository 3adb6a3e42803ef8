"""Replay recorded venue responses into the database (``perpgraph ingest replay FILE...``).

Each file is recognised by its shape and applied in this order, whatever the order given:

1. ``meta`` / ``metaAndAssetCtxs``: markets (size decimals, leverage limits; with contexts also
   marks, oracle and mid prices, funding rates, open interest, day volume);
2. ``allMids``: mid prices (and marks for markets that have none); the stats leaderboard:
   its accounts registered with their display names and (undated) account values;
3. ``userFills`` / ``userFillsByTime``: folded and written in batches, re-seeded from the
   venue's ``startPosition`` where the engine's position differs (:mod:`ingest.batch`); spot
   trades among them (coins such as ``@107`` or ``PURR/USDC``) are counted and skipped;
4. ``clearinghouseState``: the account snapshot reconciles the trader's open positions
   (:func:`ingest.venue_state.reconcile_account`), oldest snapshot first;
5. ``userFunding``: funding payments, credited to the positions open when they were paid.

Fills are unique per venue, trader and fill id, and funding payments per venue id, so
replaying a file twice changes nothing. The report compares the engine's realized PnL with the
venue's own ``closedPnl`` on every closing fill.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path

from psycopg import AsyncConnection

from ingest.hyperliquid.fills import (
    HyperliquidFill,
    HyperliquidFormatError,
    parse_user_fills,
    perp_fills,
)
from ingest.hyperliquid.funding import parse_user_funding
from ingest.hyperliquid.leaderboard import parse_leaderboard
from ingest.hyperliquid.meta import parse_meta_and_asset_ctxs, sz_decimals_by_coin
from ingest.hyperliquid.mids import parse_all_mids
from ingest.hyperliquid.state import parse_clearinghouse_state
from ingest.venue_state import (
    LeaderboardReport,
    ReconcileReport,
    apply_asset_contexts,
    apply_mids,
    reconcile_account,
    store_funding,
    store_leaderboard,
)
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
    reconcile: ReconcileReport | None = None
    funding_written: int = 0
    mids: int = 0
    spot_skipped: int = 0
    fees_in_other_tokens: int = 0
    leaderboard: LeaderboardReport | None = None


@dataclass(frozen=True, slots=True)
class _Loaded:
    path: Path
    payload: object
    kind: str


_NEEDS_USER = ("userFills", "clearinghouseState", "userFunding")
_ORDER = (
    "meta",
    "metaAndAssetCtxs",
    "allMids",
    "leaderboard",
    "userFills",
    "clearinghouseState",
    "userFunding",
)


def _kind_of(payload: object) -> str | None:  # noqa: PLR0911 - one return per shape
    if isinstance(payload, dict) and "universe" in payload:
        return "meta"
    if isinstance(payload, dict) and "leaderboardRows" in payload:
        return "leaderboard"
    if isinstance(payload, dict) and {"assetPositions", "marginSummary"} <= payload.keys():
        return "clearinghouseState"
    if isinstance(payload, dict) and payload and all(isinstance(v, str) for v in payload.values()):
        return "allMids"
    if (
        isinstance(payload, list)
        and payload
        and all(
            isinstance(item, dict)
            and isinstance(item.get("delta"), dict)
            and item["delta"].get("type") == "funding"
            for item in payload
        )
    ):
        return "userFunding"
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
            "userFillsByTime, meta, metaAndAssetCtxs, allMids, clearinghouseState, "
            "userFunding or the stats leaderboard)"
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
    """Replay ``paths`` in the order of the module docstring (files of one kind as given)."""
    loaded = [_load(path) for path in paths]
    needing = [item.path.name for item in loaded if item.kind in _NEEDS_USER]
    if user is None and needing:
        raise ReplayError(
            f"userFills, clearinghouseState and userFunding responses do not say whose they "
            f"are ({', '.join(needing)}): pass --user ADDRESS"
        )
    reports: list[FileReport] = []
    size_decimals: dict[str, int] = {}
    for item in sorted(loaded, key=lambda item: _ORDER.index(item.kind)):
        try:
            reports.append(await _replay_one(connection, item, user, size_decimals))
        except HyperliquidFormatError as error:
            raise ReplayError(f"{item.path}: {error}") from None
    return reports


async def _replay_one(
    connection: AsyncConnection, item: _Loaded, user: str | None, size_decimals: dict[str, int]
) -> FileReport:
    if item.kind in _NEEDS_USER:
        assert user is not None
        return await _replay_account_file(connection, item, user, size_decimals)
    return await _replay_venue_file(connection, item, size_decimals)


async def _replay_venue_file(
    connection: AsyncConnection, item: _Loaded, size_decimals: dict[str, int]
) -> FileReport:
    """A response about the whole venue: markets, mids, the leaderboard."""
    if item.kind == "meta":
        return await _replay_markets(connection, item, size_decimals)
    if item.kind == "metaAndAssetCtxs":
        contexts = parse_meta_and_asset_ctxs(item.payload)
        size_decimals.update({c.coin: c.sz_decimals for c in contexts})
        await apply_asset_contexts(connection, VENUE, contexts)
        return FileReport(item.path, item.kind, markets=len(contexts))
    if item.kind == "allMids":
        mids = await apply_mids(connection, parse_all_mids(item.payload))
        return FileReport(item.path, item.kind, mids=mids)
    # A recorded leaderboard says not when it was taken: its account values are undated.
    rows = parse_leaderboard(item.payload)
    stored = await store_leaderboard(connection, VENUE, rows, at=None)
    return FileReport(item.path, item.kind, leaderboard=stored)


async def _replay_account_file(
    connection: AsyncConnection, item: _Loaded, user: str, size_decimals: dict[str, int]
) -> FileReport:
    """A response about one account: its fills, its snapshot, its funding."""
    if item.kind == "userFills":
        return await _replay_fills(connection, item, user, size_decimals)
    if item.kind == "clearinghouseState":
        state = parse_clearinghouse_state(item.payload, user=user)
        reconciled = await reconcile_account(connection, VENUE, state)
        return FileReport(item.path, item.kind, reconcile=reconciled)
    payments = parse_user_funding(item.payload, user=user)
    written = await store_funding(connection, VENUE, user.lower(), payments)
    return FileReport(item.path, item.kind, funding_written=written)


async def _replay_markets(
    connection: AsyncConnection, item: _Loaded, size_decimals: dict[str, int]
) -> FileReport:
    decimals = sz_decimals_by_coin(item.payload)
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
    perps = perp_fills(parse_user_fills(item.payload, user=user))
    fills = perps.fills
    report = FileReport(
        item.path,
        item.kind,
        spot_skipped=perps.spot_skipped,
        fees_in_other_tokens=perps.fees_in_other_tokens,
    )
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
    await _compare_closed_pnl(connection, fills, user.lower(), report)
    return report


async def _compare_closed_pnl(
    connection: AsyncConnection, fills: Sequence[HyperliquidFill], user: str, report: FileReport
) -> None:
    closing = {
        f.fill.fill_id: f.closed_pnl for f in fills if f.dir.startswith("Close") or ">" in f.dir
    }
    if not closing:
        return
    cursor = await connection.execute(
        "SELECT t.venue_fill_id, t.realized_pnl FROM trade AS t "
        "JOIN trader AS tr ON tr.id = t.trader_id AND tr.address = %s "
        "WHERE t.venue = %s AND t.venue_fill_id = ANY(%s)",
        (user, VENUE, list(closing)),
    )
    for fill_id, realized in await cursor.fetchall():
        report.closes_checked += 1
        if realized is not None and Decimal(realized) == closing[fill_id]:
            report.closes_matching_venue += 1

"""Replaying recorded Hyperliquid responses through the writer: the venue's own numbers.

Tolerances are written next to each check. ``closedPnl`` is compared exactly (the engine
reproduces the venue's truncated entry); unrealized PnL at the recorded marks within 0.5 %.
"""

from __future__ import annotations

import itertools
from collections import Counter
from decimal import Decimal
from pathlib import Path

import psycopg

from db.pool import connect
from ingest.hyperliquid.fills import HyperliquidFill
from ingest.replay import replay
from tests.ingest.test_engine_hyperliquid import (
    DATA_DIR,
    FILLS_08C14B,
    FILLS_109A42,
    FILLS_FEB_2023,
    FILLS_MAY_2023,
    FLIP_DIRS,
    META_2023,
    META_2026,
    STATE_08C14B,
    USER_08C14B,
    USER_109A42,
    USER_B7B6F3,
    fills_of,
    load,
)

FUNDING_B7B6F3 = "user_funding_b7b6f3_2023-04-20_to_2023-05-05.json"
MIDS_2023 = "all_mids_2023-07-17.json"
UNREALIZED_TOLERANCE = Decimal("0.005")


def path(name: str) -> Path:
    load(name)  # fails clearly when the recorded data is missing
    return DATA_DIR / name


def _rows(url: str, query: str, *params: object) -> list[tuple[object, ...]]:
    with psycopg.connect(url) as connection:
        return connection.execute(query, params).fetchall()


async def _replay(url: str, names: list[str], user: str) -> list[object]:
    connection = await connect(url)
    try:
        return list(await replay(connection, [path(n) for n in names], user=user))
    finally:
        await connection.close()


async def test_109a42_every_close_is_the_venues_closed_pnl_and_actions_are_implied(
    empty_url: str,
) -> None:
    # when the 50 fills (two positions were opened before the file) are replayed with markets
    await _replay(empty_url, [FILLS_109A42, META_2026], USER_109A42)
    # then every one of the 26 closes realized exactly the venue's closedPnl (truncated entry)
    venue = {f.fill.fill_id: f.closed_pnl for f in fills_of(FILLS_109A42, USER_109A42)}
    closes = _rows(
        empty_url,
        "SELECT venue_fill_id, realized_pnl FROM trade WHERE action IN ('REDUCE', 'CLOSE')",
    )
    assert len(closes) == 26
    assert [(i, pnl) for i, pnl in closes if pnl != venue[str(i)]] == []
    # and the actions are those the data implies, and every coin ends flat
    actions = Counter(str(a) for (a,) in _rows(empty_url, "SELECT action FROM trade"))
    assert actions == {"OPEN": 7, "ADD": 17, "REDUCE": 17, "CLOSE": 9}
    assert _rows(empty_url, "SELECT count(*) FROM position WHERE closed_at IS NULL") == [(0,)]


def _unrealized_at_recorded_mark(size: Decimal, side: str, entry: Decimal, coin: str) -> Decimal:
    venue = next(
        a["position"] for a in load(STATE_08C14B)["assetPositions"] if a["position"]["coin"] == coin
    )
    mark = Decimal(venue["positionValue"]) / abs(Decimal(venue["szi"]))
    signed = size if side == "LONG" else -size
    return (mark - entry) * signed


def _venue_position(coin: str) -> dict[str, str]:
    return next(
        a["position"] for a in load(STATE_08C14B)["assetPositions"] if a["position"]["coin"] == coin
    )


def _open_positions(url: str) -> dict[str, tuple[Decimal, str, Decimal]]:
    rows = _rows(url, "SELECT coin, size, side, entry_price FROM position WHERE closed_at IS NULL")
    return {str(c): (Decimal(str(s)), str(side), Decimal(str(e))) for c, s, side, e in rows}


async def test_08c14b_fills_alone_end_at_the_venues_sizes(empty_url: str) -> None:
    # when only the fills are replayed (ENA has 40 gaps, ETHFI was opened before the file)
    await _replay(empty_url, [FILLS_08C14B, META_2026], USER_08C14B)
    positions = _open_positions(empty_url)
    # then the sizes are the clearinghouseState's, and ETH (one close) ends flat
    assert set(positions) == {"ENA", "ETHFI"}
    for coin, (size, side, _) in positions.items():
        signed = size if side == "LONG" else -size
        assert signed == Decimal(_venue_position(coin)["szi"])
    # and ETHFI's unrealized PnL at the recorded mark is within 0.5 % of the venue's: its entry
    # is the one every close implies (the venue's, truncated to 0.3746)
    size, side, entry = positions["ETHFI"]
    ethfi = _unrealized_at_recorded_mark(size, side, entry, "ETHFI")
    venue_ethfi = Decimal(_venue_position("ETHFI")["unrealizedPnl"])
    assert abs(ethfi - venue_ethfi) <= UNREALIZED_TOLERANCE * abs(venue_ethfi)
    # ENA's 562 fills are all opens with closedPnl 0 and 30 % of its size comes from gaps, so
    # no fill tells what the carried-in size cost: the fill price stands in for it (ingest.
    # engine.reseed). Its entry is then off by under 1 % of price, which is 8 % of its PnL.
    size, side, entry = positions["ENA"]
    venue_entry = Decimal(_venue_position("ENA")["entryPx"])
    assert abs(entry - venue_entry) <= Decimal("0.01") * venue_entry


async def test_08c14b_with_the_snapshot_ends_at_the_venues_positions_and_pnl(
    empty_url: str,
) -> None:
    # when the fills and then the account snapshot three days later are replayed
    reports = await _replay(empty_url, [STATE_08C14B, FILLS_08C14B, META_2026], USER_08C14B)
    # then the snapshot bootstraps the 8 positions no fill covers and corrects the two entries
    reconcile = reports[-1].reconcile  # type: ignore[attr-defined]
    assert (reconcile.bootstrapped, reconcile.entries_corrected, reconcile.replaced) == (8, 2, 0)
    positions = _open_positions(empty_url)
    assert len(positions) == 10
    # and every position's size and unrealized PnL at the recorded mark are the venue's (0.5 %)
    for coin, (size, side, entry) in positions.items():
        venue = _venue_position(coin)
        assert (size if side == "LONG" else -size) == Decimal(venue["szi"])
        ours = _unrealized_at_recorded_mark(size, side, entry, coin)
        theirs = Decimal(venue["unrealizedPnl"])
        assert abs(ours - theirs) <= UNREALIZED_TOLERANCE * abs(theirs), coin


def _self_trade_pairs(fills: list[HyperliquidFill]) -> list[tuple[str, str]]:
    pairs = []
    for first, second in itertools.pairwise(fills):
        a, b = first.fill, second.fill
        if (
            a.coin == b.coin
            and a.tx_hash is not None
            and a.tx_hash == b.tx_hash
            and first.start_position == second.start_position
            and a.direction is not b.direction
            and (a.size, a.price) == (b.size, b.price)
        ):
            pairs.append((a.fill_id, b.fill_id))
    return pairs


async def test_2023_flips_become_flip_and_self_trades_leave_the_position_unchanged(
    empty_url: str,
) -> None:
    # when both 2023 files are replayed
    await _replay(empty_url, [FILLS_FEB_2023, FILLS_MAY_2023, META_2023], USER_B7B6F3)
    trades = {
        str(fill_id): (str(action), str(side), Decimal(str(start)), Decimal(str(size)), str(d))
        for fill_id, action, side, start, size, d in _rows(
            empty_url,
            "SELECT venue_fill_id, action, side, start_position, size, direction FROM trade",
        )
    }
    realized = {
        str(fill_id): pnl
        for fill_id, pnl in _rows(empty_url, "SELECT venue_fill_id, realized_pnl FROM trade")
    }
    for name, flips, pairs in ((FILLS_FEB_2023, 38, 282), (FILLS_MAY_2023, 22, 83)):
        fills = fills_of(name, USER_B7B6F3)
        # then every venue flip is a FLIP to the venue's new side
        venue_flips = [f for f in fills if f.dir in FLIP_DIRS]
        assert len(venue_flips) == flips
        for item in venue_flips:
            action, side, *_ = trades[item.fill.fill_id]
            assert (action, side) == ("FLIP", FLIP_DIRS[item.dir].value)
        # and both legs of each self-trade act on the position before the pair (as the venue's
        # dir does), realize nothing, and leave it as it was (tests/ingest/
        # test_writer_venue_rules.py checks the position row itself)
        self_trades = _self_trade_pairs(fills)
        assert len(self_trades) >= pairs * 9 // 10
        for first_id, second_id in self_trades:
            first, second = trades[first_id], trades[second_id]
            assert first[2] == second[2]
            assert {realized[first_id], realized[second_id]} <= {0, None}
    # and after the last fill, every position is where the venue's last fill left it
    for coin, end in _venue_ends(FILLS_MAY_2023).items():
        assert _signed_open_size(empty_url, coin) == end


def _venue_ends(name: str) -> dict[str, Decimal]:
    ends: dict[str, Decimal] = {}
    for item in fills_of(name, USER_B7B6F3):
        ends[item.fill.coin] = item.end_position
    return ends


def _signed_open_size(url: str, coin: str) -> Decimal:
    rows = _rows(url, "SELECT side, size FROM position WHERE closed_at IS NULL AND coin = %s", coin)
    if not rows:
        return Decimal(0)
    ((side, size),) = rows
    return Decimal(str(size)) if side == "LONG" else -Decimal(str(size))


async def test_funding_is_stored_once_and_mids_set_marks(empty_url: str) -> None:
    # when the 2023 funding payments and mids are replayed twice
    first = await _replay(empty_url, [FUNDING_B7B6F3, MIDS_2023, META_2023], USER_B7B6F3)
    again = await _replay(empty_url, [FUNDING_B7B6F3], USER_B7B6F3)
    # then the 218 payments are stored once, to the cent of the venue's total
    assert first[-1].funding_written == 218  # type: ignore[attr-defined]
    assert again[0].funding_written == 0  # type: ignore[attr-defined]
    total = sum(Decimal(p["delta"]["usdc"]) for p in load(FUNDING_B7B6F3))
    assert _rows(empty_url, "SELECT count(*), sum(amount) FROM funding_payment") == [(218, total)]
    # and every 2023 market has its mid, taken as the mark
    assert first[1].mids == 28  # type: ignore[attr-defined]
    assert _rows(
        empty_url, "SELECT count(*) FROM market WHERE mark_price = mid_price AND mid_price > 0"
    ) == [(28,)]

"""The simulated market must look like a real perp market to anyone browsing it, and replay exactly.

One 30-day simulation (seed 7, 300 traders) is shared by the module. The tests judge it from the
fills alone, with their own deliberately simple bookkeeping (signed size and average entry per
trader and coin), so they check what a consumer of the stream would see rather than the
simulator's internals.
"""

from __future__ import annotations

import itertools
import re
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from ingest.fills import Action, Direction, Fill
from ingest.simulator import (
    DEFAULT_COINS,
    MAKER_FEE_RATE,
    TAKER_FEE_RATE,
    CoinSpec,
    MarketSimulator,
)

END = datetime(2025, 1, 31, tzinfo=UTC)
DAYS = 30
CONTINUATION = timedelta(hours=1)
SPECS = {spec.coin: spec for spec in DEFAULT_COINS}
EVM_ADDRESS = re.compile(r"0x[0-9a-f]{40}")
TRANSACTION_HASH = re.compile(r"0x[0-9a-f]{64}")


@dataclass
class Replay:
    """What the fill stream says, folded the simplest way: signed sizes and average-cost entries."""

    actions: list[Action] = field(default_factory=list)
    net_pnl_by_trader: defaultdict[str, Decimal] = field(
        default_factory=lambda: defaultdict(Decimal)
    )
    volume_by_trader: defaultdict[str, Decimal] = field(
        default_factory=lambda: defaultdict(Decimal)
    )
    # (fill, signed size before it, average entry before it) for every liquidation
    liquidations: list[tuple[Fill, Decimal, Decimal]] = field(default_factory=list)
    signed_size: defaultdict[tuple[str, str], Decimal] = field(
        default_factory=lambda: defaultdict(Decimal)
    )
    entry_price: dict[tuple[str, str], Decimal] = field(default_factory=dict)

    def apply(self, fill: Fill) -> None:
        key = (fill.address, fill.coin)
        before = self.signed_size[key]
        change = fill.size if fill.direction is Direction.BUY else -fill.size
        after = before + change
        action = classify(before, after)
        entry = self.entry_price.get(key, fill.price)
        if fill.is_liquidation:
            self.liquidations.append((fill, before, entry))
        if action in (Action.REDUCE, Action.CLOSE, Action.FLIP):
            closed = min(abs(before), fill.size)
            direction_of_profit = 1 if before > 0 else -1
            self.net_pnl_by_trader[fill.address] += (
                closed * (fill.price - entry) * direction_of_profit
            )
        if action is Action.ADD:
            self.entry_price[key] = (entry * abs(before) + fill.price * fill.size) / abs(after)
        elif action in (Action.OPEN, Action.FLIP):
            self.entry_price[key] = fill.price
        self.net_pnl_by_trader[fill.address] -= fill.fee
        self.volume_by_trader[fill.address] += fill.size * fill.price
        self.signed_size[key] = after
        self.actions.append(action)


def classify(before: Decimal, after: Decimal) -> Action:
    if before == 0:
        return Action.OPEN
    if after == 0:
        return Action.CLOSE
    if (before > 0) != (after > 0):
        return Action.FLIP
    return Action.ADD if abs(after) > abs(before) else Action.REDUCE


def replay(fills: Iterable[Fill]) -> Replay:
    book = Replay()
    for fill in fills:
        book.apply(fill)
    return book


def simulate(*, seed: int, days: float, traders: int = 300) -> list[Fill]:
    simulator = MarketSimulator(traders=traders, seed=seed)
    return [fill for batch in simulator.history(days=days, end=END) for fill in batch]


@dataclass(frozen=True)
class Month:
    simulator: MarketSimulator
    batches: list[list[Fill]]
    fills: list[Fill]
    replay: Replay
    continuation: list[Fill]


@pytest.fixture(scope="module")
def month() -> Month:
    simulator = MarketSimulator(traders=300, seed=7)
    batches = list(simulator.history(days=DAYS, end=END))
    fills = [fill for batch in batches for fill in batch]
    clock_after_history = simulator.clock
    continuation = simulator.advance(END + CONTINUATION)
    assert clock_after_history == END
    return Month(simulator, batches, fills, replay(fills), continuation)


# --- volume and breadth ---------------------------------------------------------------------


def test_a_month_has_the_volume_of_a_small_busy_venue(month: Month) -> None:
    assert 50_000 <= len(month.fills) <= 150_000


def test_history_comes_in_time_ordered_batches_of_hundreds_to_thousands(month: Month) -> None:
    # given a month of history, when it is read batch by batch,
    # then each batch is sizeable, and the batches tile the month in order
    assert all(len(batch) >= 100 for batch in month.batches[:-1])
    assert all(len(batch) <= 10_000 for batch in month.batches)
    for earlier, later in itertools.pairwise(month.batches):
        assert earlier[-1].timestamp <= later[0].timestamp
    assert month.fills[0].timestamp > END - timedelta(days=DAYS)
    assert month.fills[-1].timestamp <= END


@pytest.mark.parametrize("coin", [spec.coin for spec in DEFAULT_COINS])
def test_every_coin_trades(month: Month, coin: str) -> None:
    assert any(fill.coin == coin for fill in month.fills)


@pytest.mark.parametrize("action", list(Action))
def test_every_kind_of_action_occurs(month: Month, action: Action) -> None:
    assert Counter(month.replay.actions)[action] > 0


# --- traders --------------------------------------------------------------------------------


def test_there_are_winners_and_losers_after_fees(month: Month) -> None:
    net = month.replay.net_pnl_by_trader.values()
    traders = len(month.replay.net_pnl_by_trader)
    assert sum(pnl > 0 for pnl in net) >= 0.25 * traders
    assert sum(pnl < 0 for pnl in net) >= 0.25 * traders


def test_a_few_whales_trade_a_large_share_of_the_volume(month: Month) -> None:
    volumes = sorted(month.replay.volume_by_trader.values(), reverse=True)
    top_one_percent = volumes[: max(1, len(volumes) // 100)]
    assert sum(top_one_percent) > Decimal("0.10") * sum(volumes)


def test_traders_have_evm_addresses(month: Month) -> None:
    addresses = {fill.address for fill in month.fills}
    assert len(addresses) > 250
    assert all(EVM_ADDRESS.fullmatch(address) for address in addresses)


# --- liquidations ---------------------------------------------------------------------------


def test_liquidations_close_the_whole_position_at_its_liquidation_price(month: Month) -> None:
    # given every liquidation and the position it hit (as the stream itself describes it)
    assert month.replay.liquidations
    for fill, size_before, entry in month.replay.liquidations:
        spec = SPECS[fill.coin]
        assert fill.leverage is not None
        maintenance = 1 / (2 * spec.max_leverage)
        is_long = size_before > 0
        # then the fill closes all of it, on the side that closes it ...
        assert fill.size == abs(size_before)
        assert fill.direction is (Direction.SELL if is_long else Direction.BUY)
        # ... at entry × (1 ∓ 1/leverage ± maintenance), give or take the price tick
        distance = 1 / fill.leverage - maintenance
        expected = float(entry) * (1 - distance if is_long else 1 + distance)
        assert float(fill.price) == pytest.approx(expected, rel=2e-4)


# --- prices ---------------------------------------------------------------------------------


def test_prices_stay_positive_and_within_a_plausible_range(month: Month) -> None:
    for fill in month.fills:
        start = SPECS[fill.coin].start_price
        assert start / 5 < fill.price < start * 5, fill


def test_fill_prices_are_near_the_market(month: Month) -> None:
    # given the last fill of each coin before the end of history, when compared with the mark,
    # then it is within a few percent: fills are executions, not noise
    last_price = {fill.coin: fill.price for fill in month.fills if not fill.is_liquidation}
    marks = month.simulator.marks()
    assert set(marks) == set(SPECS)
    for coin, price in last_price.items():
        assert abs(price / marks[coin] - 1) < Decimal("0.1"), coin


# --- the shape of each fill -----------------------------------------------------------------


def test_fill_ids_are_unique(month: Month) -> None:
    ids = [fill.fill_id for fill in month.fills + month.continuation]
    assert len(set(ids)) == len(ids)


def test_timestamps_are_utc_and_never_go_back(month: Month) -> None:
    stream = month.fills + month.continuation
    assert all(fill.timestamp.utcoffset() == timedelta(0) for fill in stream)
    assert all(a.timestamp <= b.timestamp for a, b in itertools.pairwise(stream))


def test_sizes_are_positive_and_on_the_coins_size_grid(month: Month) -> None:
    for fill in month.fills:
        exponent = fill.size.as_tuple().exponent
        assert isinstance(exponent, int)
        assert fill.size > 0
        assert -exponent <= SPECS[fill.coin].sz_decimals, fill


def test_fees_are_the_maker_or_taker_rate_of_the_notional(month: Month) -> None:
    rates_used = set()
    for fill in month.fills:
        notional = fill.size * fill.price
        fee_options = {
            rate: (notional * rate).quantize(Decimal("0.000001"))
            for rate in (MAKER_FEE_RATE, TAKER_FEE_RATE)
        }
        matching = [rate for rate, fee in fee_options.items() if fee == fill.fee]
        assert matching, fill
        rates_used.update(matching)
    assert rates_used == {MAKER_FEE_RATE, TAKER_FEE_RATE}


def test_fills_carry_venue_transaction_hash_and_allowed_leverage(month: Month) -> None:
    for fill in month.fills:
        assert fill.venue == "sim"
        assert fill.tx_hash is not None
        assert TRANSACTION_HASH.fullmatch(fill.tx_hash)
        assert fill.leverage is not None
        assert 1 <= fill.leverage <= SPECS[fill.coin].max_leverage


# --- continuing and replaying ---------------------------------------------------------------


def test_advance_continues_the_same_market_after_history(month: Month) -> None:
    assert month.continuation
    assert all(END < fill.timestamp <= END + CONTINUATION for fill in month.continuation)
    assert month.simulator.clock == END + CONTINUATION


def test_advance_to_the_past_or_present_returns_nothing(month: Month) -> None:
    assert month.simulator.advance(END) == []
    assert month.simulator.advance(END + CONTINUATION) == []


def test_the_same_seed_gives_the_same_fills() -> None:
    assert simulate(seed=7, days=2) == simulate(seed=7, days=2)


def test_another_seed_gives_another_market() -> None:
    first, second = simulate(seed=7, days=2), simulate(seed=8, days=2)
    assert [(f.address, f.size, f.price) for f in first] != [
        (f.address, f.size, f.price) for f in second
    ]
    assert not {f.fill_id for f in first} & {f.fill_id for f in second}


@pytest.mark.parametrize(
    "step", [timedelta(seconds=1), timedelta(minutes=7), timedelta(hours=6)], ids=str
)
def test_how_time_is_sliced_does_not_change_the_market(step: timedelta) -> None:
    # given two markets from the same seed and origin
    span = timedelta(hours=6)
    in_history = MarketSimulator(traders=100, seed=3)
    live = MarketSimulator(traders=100, seed=3, start=END - span)
    # when one is simulated as history and the other advanced step by step
    expected = [fill for batch in in_history.history(days=0.25, end=END) for fill in batch]
    streamed: list[Fill] = []
    moment = END - span
    while moment < END:
        moment = min(moment + step, END)
        streamed.extend(live.advance(moment))
    # then both produce exactly the same fills
    assert expected
    assert streamed == expected


def test_twenty_thousand_traders_trade_without_trouble() -> None:
    simulator = MarketSimulator(traders=20_000, seed=7, start=END)
    fills = simulator.advance(END + timedelta(minutes=30))
    assert len({fill.address for fill in fills}) > 1_000


# --- configuration and misuse ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("coin", "sz_decimals", "max_leverage"),
    [("BTC", 5, 40), ("ETH", 4, 25), ("SOL", 2, 20), ("HYPE", 2, 10), ("DOGE", 0, 10)],
)
def test_default_coins_follow_the_venues_metadata(
    coin: str, sz_decimals: int, max_leverage: int
) -> None:
    assert (SPECS[coin].sz_decimals, SPECS[coin].max_leverage) == (sz_decimals, max_leverage)


def test_default_market_has_the_majors_and_some_alts() -> None:
    assert len(DEFAULT_COINS) >= 8
    assert all(3 <= spec.max_leverage <= 10 for spec in DEFAULT_COINS[3:])


def test_a_custom_coin_list_is_honoured() -> None:
    coins = (CoinSpec("FOO", Decimal("12.5"), 0.5, 1, 5), CoinSpec("BAR", Decimal("0.02"), 1, 0, 3))
    simulator = MarketSimulator(traders=50, seed=1, coins=coins, start=END)
    fills = simulator.advance(END + timedelta(days=1))
    assert {fill.coin for fill in fills} == {"FOO", "BAR"}
    assert set(simulator.marks()) == {"FOO", "BAR"}


def test_before_anything_runs_the_first_advance_only_places_the_clock() -> None:
    simulator = MarketSimulator(traders=10, seed=1)
    assert simulator.clock is None
    assert simulator.advance(END) == []
    assert simulator.clock == END


@pytest.mark.parametrize(
    ("misuse", "error"),
    [
        (lambda: MarketSimulator(traders=0), ValueError),
        (lambda: MarketSimulator(coins=()), ValueError),
        (lambda: MarketSimulator(start=datetime(2025, 1, 1)), ValueError),  # noqa: DTZ001
        (lambda: MarketSimulator().history(days=0, end=END), ValueError),
        (lambda: MarketSimulator().advance(datetime(2025, 1, 1)), ValueError),  # noqa: DTZ001
    ],
    ids=["no traders", "no coins", "naive start", "empty history", "naive until"],
)
def test_misuse_is_refused(misuse: Callable[[], object], error: type[Exception]) -> None:
    with pytest.raises(error):
        misuse()


def test_history_cannot_rewrite_a_market_already_running() -> None:
    simulator = MarketSimulator(traders=10, seed=1, start=END)
    simulator.advance(END + timedelta(minutes=5))
    with pytest.raises(RuntimeError):
        simulator.history(days=1, end=END + timedelta(days=1))

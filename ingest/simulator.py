"""A seeded perpetual-futures market that makes fills for the gateway to ingest.

The gateway must be demonstrable and benchmarkable without a network or a venue account, and
every analytics feature needs something to show: winners and losers, whales, liquidation
cascades, flips and partial closes. So the simulator is a small market rather than a stream of
random rows. Prices follow correlated random walks with trends and jumps; traders have habits
(how often, how big, how leveraged, which coins, how good their signal is) and keep positions
that stop-losses, take-profits and liquidations close when the mark crosses them.

Everything comes from one ``random.Random(seed)`` consumed in event order, so a run depends
only on its seed, trader count, coins and start time, and never on how callers slice time
into ``history()`` batches or ``advance()`` calls. Prices and sizes stay floats and integer
lots in the hot loop; ``Decimal`` appears only when a fill is emitted.
"""

from __future__ import annotations

import bisect
import hashlib
import heapq
import math
import random
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from enum import Enum, IntEnum
from typing import TypeAlias

from ingest.fills import Direction, Fill

VENUE = "sim"
MAKER_FEE_RATE = Decimal("0.00015")
TAKER_FEE_RATE = Decimal("0.00045")


@dataclass(frozen=True, slots=True)
class CoinSpec:
    """What the simulator needs to know to make one coin trade like its real market.

    ``sz_decimals`` and ``max_leverage`` follow Hyperliquid's asset metadata, so sizes and
    liquidation distances look like the venue's own.
    """

    coin: str
    start_price: Decimal
    annual_volatility: float
    sz_decimals: int
    max_leverage: int


# Earlier coins are more popular: traders pick their favourite coins weighted by position here.
DEFAULT_COINS: tuple[CoinSpec, ...] = (
    CoinSpec("BTC", Decimal("95000"), 0.45, 5, 40),
    CoinSpec("ETH", Decimal("3400"), 0.60, 4, 25),
    CoinSpec("SOL", Decimal("180"), 0.75, 2, 20),
    CoinSpec("HYPE", Decimal("30"), 0.90, 2, 10),
    CoinSpec("DOGE", Decimal("0.25"), 0.80, 0, 10),
    CoinSpec("XRP", Decimal("2.2"), 0.75, 0, 10),
    CoinSpec("SUI", Decimal("3.6"), 0.90, 1, 10),
    CoinSpec("AVAX", Decimal("35"), 0.80, 2, 10),
    CoinSpec("LINK", Decimal("20"), 0.75, 1, 10),
    CoinSpec("ARB", Decimal("0.75"), 0.85, 1, 5),
)

_MICROSECONDS_PER_SECOND = 1_000_000
_PRICE_STEP = 60 * _MICROSECONDS_PER_SECOND
_HOUR = 3600 * _MICROSECONDS_PER_SECOND
_DAY = 24 * _HOUR
_MINUTES_PER_DAY = 1440
_MINUTES_PER_YEAR = 365 * _MINUTES_PER_DAY
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_ONE_MICROSECOND = timedelta(microseconds=1)
_FEE_QUANTUM = Decimal("0.000001")

# Hyperliquid prices: at most 5 significant figures and at most 6 − sz_decimals decimals.
_SIGNIFICANT_FIGURES = 5
_PRICE_DECIMALS_BUDGET = 6

# Price dynamics. Alts share a market factor (the first coin) so that crashes hit everything.
_MARKET_CORRELATION = 0.7
# A slowly varying trend is what gives signals an edge: without it, no strategy could win.
_TREND_MEMORY_MINUTES = 240.0
_TREND_SHARE_OF_VOLATILITY = 0.04
_TREND_PERSISTENCE = math.exp(-1.0 / _TREND_MEMORY_MINUTES)
# A weak pull back to the start price keeps long runs (live mode, benchmarks) plausible.
_REVERSION_MINUTES = 45.0 * _MINUTES_PER_DAY
_MARKET_JUMPS_PER_DAY = 0.25
_COIN_JUMPS_PER_DAY = 0.2
_JUMP_SIZE_IN_DAILY_MOVES = 1.0
_REMEMBERED_MINUTES = 2048  # longest signal lookback is a day; the ring holds a bit more

# Execution.
_TAKER_SLIPPAGE = 0.0002
_MAKER_PRICE_IMPROVEMENT = 0.00005
_IMPACT_PER_DOLLAR = 1e-9  # a $1M market order moves its own price by 0.1%
_LARGEST_IMPACT = 0.003

# Traders.
_WHALE_SHARE = 0.01
_MEDIAN_NOTIONAL = 2500.0
_NOTIONAL_SPREAD = 1.1
_ORDER_SIZE_SPREAD = 0.6
_MEDIAN_DECISIONS_PER_DAY = 6.0
_WHALE_DECISIONS_PER_DAY = 1.0
_DECISION_RATE_SPREAD = 1.3
_LEVERAGE_CHOICES = (1, 2, 3, 5, 10, 20, 100)  # 100 means "whatever the coin allows"
_LEVERAGE_WEIGHTS = (8, 10, 15, 22, 22, 12, 11)
_WHALE_LEVERAGE_CAP = 5
_SIGNAL_LOOKBACK_MINUTES = (15, 60, 240, 720, 1440)
_STOP_USER_SHARE = 0.55
_COINS_PER_TRADER = (1, 1, 2, 2, 3, 4)
_REVISIT_OPEN_POSITION_SHARE = 0.6
_LARGEST_POSITION_IN_MEDIAN_NOTIONALS = 6.0
_SMALLEST_HISTORY_BATCH = 500


class _Style(Enum):
    """Where a trader's view of the next move comes from."""

    INFORMED = "informed"  # sees the trend, imperfectly: the traders with a real edge
    MOMENTUM = "momentum"  # follows the trailing return, which the trend makes mildly useful
    CONTRARIAN = "contrarian"  # fades the trailing return, which the trend punishes
    NOISE = "noise"  # no view at all; pays fees


_STYLE_WEIGHTS = {_Style.INFORMED: 15, _Style.MOMENTUM: 30, _Style.CONTRARIAN: 20, _Style.NOISE: 35}


class _Intent(Enum):
    """What a trader decides to do with a position already open."""

    ADD = "add"
    HOLD = "hold"
    REDUCE = "reduce"
    CLOSE = "close"
    FLIP = "flip"


# Cumulative probabilities of each intent, by whether the trader's view agrees with the position.
_RESPONSES: dict[bool, tuple[tuple[float, _Intent], ...]] = {
    True: (
        (0.30, _Intent.ADD),
        (0.75, _Intent.HOLD),
        (0.88, _Intent.REDUCE),
        (1.00, _Intent.CLOSE),
    ),
    False: (
        (0.12, _Intent.FLIP),
        (0.57, _Intent.CLOSE),
        (0.82, _Intent.REDUCE),
        (1.00, _Intent.HOLD),
    ),
}


class _Trigger(IntEnum):
    """Orders that wait for the mark; the value is the priority when several fire at once."""

    LIQUIDATION = 0
    STOP_LOSS = 1
    TAKE_PROFIT = 2


@dataclass(slots=True, eq=False)
class _Position:
    """The simulator's own book entry: enough to place triggers, not an accounting record."""

    trader: _Trader
    market: _Market
    sign: int  # +1 long, −1 short
    lots: int  # size in units of the coin's smallest size, so closes are exact
    entry_price: float
    leverage: int
    version: int = 0  # bumped when triggers move; −1 once closed, so stale triggers are skipped


# (heap key, tie-breaking sequence, trigger, price level, position, position version)
_TriggerEntry: TypeAlias = tuple[float, int, _Trigger, float, _Position, int]


@dataclass(slots=True, eq=False)
class _Market:
    """One coin's live state: its price walk and the triggers resting on its book."""

    spec: CoinSpec
    popularity: float
    lot_size: float
    max_price_decimals: int
    maintenance_margin: float
    minute_volatility: float
    daily_volatility: float
    market_loading: float
    own_loading: float
    trend_innovation: float
    log_start: float
    log_price: float
    mark: float
    trend: float = 0.0
    recent_log_prices: list[float] = field(default_factory=list)
    # Triggers that fire when the mark falls to their level (a max-heap by negated level) ...
    falls_to: list[_TriggerEntry] = field(default_factory=list)
    # ... and when it rises to it (a min-heap by level).
    rises_to: list[_TriggerEntry] = field(default_factory=list)
    open_positions: int = 0

    @classmethod
    def from_spec(cls, spec: CoinSpec, rank: int, *, leads_market: bool) -> _Market:
        if spec.start_price <= 0:
            raise ValueError(f"{spec.coin}: start price must be positive")
        minute_volatility = spec.annual_volatility / math.sqrt(_MINUTES_PER_YEAR)
        trend_stationary = _TREND_SHARE_OF_VOLATILITY * minute_volatility
        loading = 1.0 if leads_market else _MARKET_CORRELATION
        log_start = math.log(float(spec.start_price))
        return cls(
            spec=spec,
            popularity=1.0 / (1.0 + rank) ** 0.7,
            lot_size=10.0**-spec.sz_decimals,
            max_price_decimals=max(0, _PRICE_DECIMALS_BUDGET - spec.sz_decimals),
            maintenance_margin=1.0 / (2.0 * spec.max_leverage),
            minute_volatility=minute_volatility,
            daily_volatility=spec.annual_volatility / math.sqrt(365.0),
            market_loading=loading,
            own_loading=math.sqrt(1.0 - loading * loading),
            trend_innovation=trend_stationary * math.sqrt(1.0 - _TREND_PERSISTENCE**2),
            log_start=log_start,
            log_price=log_start,
            mark=float(spec.start_price),
            recent_log_prices=[log_start] * _REMEMBERED_MINUTES,
        )


@dataclass(slots=True, eq=False)
class _Trader:
    """One trader's habits, fixed at recruitment, and the positions they hold now."""

    address: str
    style: _Style
    signal_quality: float  # probability of acting on the view rather than against it
    lookback_minutes: int
    decisions_per_day: float
    median_notional: float
    preferred_leverage: int
    stop_distance_in_daily_moves: float | None  # None: trades without stops
    take_profit_ratio: float
    maker_share: float
    favourite_markets: list[_Market]
    favourite_weights: list[float]  # cumulative, for a bisect on one uniform draw
    positions: dict[str, _Position] = field(default_factory=dict)


class MarketSimulator:
    """A deterministic market of ``traders`` traders on ``coins``, producing :class:`Fill` values.

    ``start`` places the clock for a simulator driven only by :meth:`advance`; without it, the
    first :meth:`history` call (or else the first :meth:`advance`) places it. Fill ids embed a
    tag of the whole run (seed, traders, coins, start), so two different runs never share an id
    and an idempotent ingest cannot mistake one run's fills for another's.
    """

    def __init__(
        self,
        *,
        traders: int = 300,
        seed: int = 7,
        coins: Sequence[CoinSpec] = DEFAULT_COINS,
        start: datetime | None = None,
    ) -> None:
        if traders < 1:
            raise ValueError("a market needs at least one trader")
        if not coins:
            raise ValueError("a market needs at least one coin")
        if len({spec.coin for spec in coins}) != len(coins):
            raise ValueError("coin names must be unique")
        self._seed = seed
        self._random = random.Random(seed)  # noqa: S311 - reproducible simulation, not secrets
        self._coins = tuple(coins)
        self._markets = [
            _Market.from_spec(spec, rank, leads_market=rank == 0) for rank, spec in enumerate(coins)
        ]
        self._traders = self._recruit(traders)
        self._wakeups: list[tuple[int, int]] = []
        self._clock: int | None = None if start is None else _to_microseconds(start)
        self._started = False
        self._next_price_step = 0
        self._price_steps = 0
        self._fill_sequence = 0
        self._trigger_sequence = 0
        self._run_tag = ""
        self._last_time = -1
        self._last_timestamp = _EPOCH

    @property
    def coins(self) -> Sequence[CoinSpec]:
        return self._coins

    @property
    def clock(self) -> datetime | None:
        """How far the simulation has run, or None before anything placed the clock."""
        return None if self._clock is None else _EPOCH + timedelta(microseconds=self._clock)

    def marks(self) -> dict[str, Decimal]:
        return {
            market.spec.coin: Decimal(_price_text(market.mark, market.max_price_decimals))
            for market in self._markets
        }

    def history(self, *, days: float, end: datetime) -> Iterator[list[Fill]]:
        """Simulate ``days`` up to ``end`` from an empty book, in batches of about an hour or more.

        Batches are merged until they hold a few hundred fills, so that a small market does not
        cost the ingest one transaction per quiet hour. Must come before any :meth:`advance`:
        history starts the market, it cannot rewrite one already running.
        """
        if days <= 0:
            raise ValueError("days must be positive")
        if self._started:
            raise RuntimeError("history() must be called before the simulation has run")
        end_time = _to_microseconds(end)
        self._clock = end_time - round(days * _DAY)
        return self._batches_until(end_time)

    def advance(self, until: datetime) -> list[Fill]:
        """Continue the simulation up to and including ``until``; empty if it is not later."""
        until_time = _to_microseconds(until)
        if self._clock is None:
            self._clock = until_time
            return []
        if until_time <= self._clock:
            return []
        return self._run_until(until_time)

    # --- recruitment ---------------------------------------------------------------------

    def _recruit(self, count: int) -> list[_Trader]:
        rng = self._random
        whales = set(rng.sample(range(count), max(1, round(count * _WHALE_SHARE))))
        addresses: set[str] = set()
        traders = []
        for index in range(count):
            address = f"0x{rng.getrandbits(160):040x}"
            while address in addresses:
                address = f"0x{rng.getrandbits(160):040x}"
            addresses.add(address)
            traders.append(self._recruit_one(address, is_whale=index in whales))
        return traders

    def _recruit_one(self, address: str, *, is_whale: bool) -> _Trader:
        rng = self._random
        styles = list(_STYLE_WEIGHTS)
        style = rng.choices(styles, weights=[_STYLE_WEIGHTS[s] for s in styles])[0]
        median_notional = rng.lognormvariate(math.log(_MEDIAN_NOTIONAL), _NOTIONAL_SPREAD)
        leverage = rng.choices(_LEVERAGE_CHOICES, weights=_LEVERAGE_WEIGHTS)[0]
        decisions_per_day = min(
            400.0, rng.lognormvariate(math.log(_MEDIAN_DECISIONS_PER_DAY), _DECISION_RATE_SPREAD)
        )
        if is_whale:
            # Big size, patient hands: whales trade rarely, or they would be all the volume.
            median_notional = _MEDIAN_NOTIONAL * rng.uniform(50.0, 500.0)
            leverage = min(leverage, _WHALE_LEVERAGE_CAP)
            decisions_per_day = rng.lognormvariate(math.log(_WHALE_DECISIONS_PER_DAY), 0.5)
        favourites = self._pick_favourite_markets(rng.choice(_COINS_PER_TRADER))
        cumulative: list[float] = []
        total = 0.0
        for market in favourites:
            total += market.popularity
            cumulative.append(total)
        uses_stops = rng.random() < _STOP_USER_SHARE
        return _Trader(
            address=address,
            style=style,
            signal_quality=(
                rng.uniform(0.55, 0.8) if style is _Style.INFORMED else rng.uniform(0.6, 0.9)
            ),
            lookback_minutes=rng.choice(_SIGNAL_LOOKBACK_MINUTES),
            decisions_per_day=decisions_per_day,
            median_notional=median_notional,
            preferred_leverage=leverage,
            stop_distance_in_daily_moves=rng.uniform(0.3, 1.5) if uses_stops else None,
            take_profit_ratio=rng.uniform(1.0, 3.0),
            maker_share=rng.random() ** 2,
            favourite_markets=favourites,
            favourite_weights=cumulative,
        )

    def _pick_favourite_markets(self, count: int) -> list[_Market]:
        candidates = list(self._markets)
        chosen: list[_Market] = []
        while candidates and len(chosen) < count:
            weights = [market.popularity for market in candidates]
            pick = self._random.choices(range(len(candidates)), weights=weights)[0]
            chosen.append(candidates.pop(pick))
        return chosen

    # --- the event loop ------------------------------------------------------------------

    def _batches_until(self, end_time: int) -> Iterator[list[Fill]]:
        pending: list[Fill] = []
        slice_end = self._require_clock()
        while slice_end < end_time:
            slice_end = min(slice_end + _HOUR, end_time)
            pending.extend(self._run_until(slice_end))
            if len(pending) >= _SMALLEST_HISTORY_BATCH:
                yield pending
                pending = []
        if pending:
            yield pending

    def _require_clock(self) -> int:
        if self._clock is None:
            raise RuntimeError("the clock has not been placed")
        return self._clock

    def _start(self) -> None:
        """Schedule everyone's first decision; deferred so that placing the clock is free."""
        origin = self._require_clock()
        self._started = True
        self._next_price_step = (origin // _PRICE_STEP + 1) * _PRICE_STEP
        self._wakeups = [
            (origin + self._decision_gap(trader), index)
            for index, trader in enumerate(self._traders)
        ]
        heapq.heapify(self._wakeups)
        fingerprint = f"{self._seed}|{len(self._traders)}|{self._coins!r}|{origin}"
        self._run_tag = hashlib.sha256(fingerprint.encode()).hexdigest()[:8]

    def _decision_gap(self, trader: _Trader) -> int:
        """Decisions arrive as a Poisson process; the +1 keeps a trader's times strictly rising."""
        return int(self._random.expovariate(trader.decisions_per_day) * _DAY) + 1

    def _run_until(self, until: int) -> list[Fill]:
        """Process every price step and decision up to ``until``, in time order.

        A price step and a decision at the same microsecond resolve price first, so the order
        of events is total and independent of where callers cut time.
        """
        if not self._started:
            self._start()
        fills: list[Fill] = []
        wakeups = self._wakeups
        traders = self._traders
        while True:
            next_step = self._next_price_step
            if wakeups and wakeups[0][0] < next_step:
                time, index = wakeups[0]
                if time > until:
                    break
                trader = traders[index]
                heapq.heapreplace(wakeups, (time + self._decision_gap(trader), index))
                self._decide(trader, time, fills)
            else:
                if next_step > until:
                    break
                self._step_prices()
                for market in self._markets:
                    self._fire_triggers(market, next_step, fills)
                self._next_price_step = next_step + _PRICE_STEP
        self._clock = until
        return fills

    # --- prices ----------------------------------------------------------------------------

    def _step_prices(self) -> None:
        """One minute of every coin: market factor, own noise, trend, jumps, pull to start."""
        rng = self._random
        gauss = rng.gauss
        market_shock = gauss(0.0, 1.0)
        market_jump = 0.0
        if rng.random() < _MARKET_JUMPS_PER_DAY / _MINUTES_PER_DAY:
            market_jump = gauss(0.0, _JUMP_SIZE_IN_DAILY_MOVES)
        self._price_steps += 1
        slot = self._price_steps % _REMEMBERED_MINUTES
        for market in self._markets:
            shock = market.market_loading * market_shock
            if market.own_loading:
                shock += market.own_loading * gauss(0.0, 1.0)
            market.trend = market.trend * _TREND_PERSISTENCE + market.trend_innovation * gauss(
                0.0, 1.0
            )
            jump = market_jump * market.market_loading
            if rng.random() < _COIN_JUMPS_PER_DAY / _MINUTES_PER_DAY:
                jump += gauss(0.0, _JUMP_SIZE_IN_DAILY_MOVES)
            log_price = market.log_price
            log_price += (
                market.minute_volatility * shock
                + market.trend
                + market.daily_volatility * jump
                - (log_price - market.log_start) / _REVERSION_MINUTES
            )
            market.log_price = log_price
            market.mark = math.exp(log_price)
            market.recent_log_prices[slot] = log_price

    # --- traders ---------------------------------------------------------------------------

    def _decide(self, trader: _Trader, time: int, fills: list[Fill]) -> None:
        rng = self._random
        position: _Position | None
        if trader.positions and rng.random() < _REVISIT_OPEN_POSITION_SHARE:
            position = rng.choice(list(trader.positions.values()))
            market = position.market
        else:
            favourites = trader.favourite_markets
            if len(favourites) == 1:
                market = favourites[0]
            else:
                weights = trader.favourite_weights
                market = favourites[bisect.bisect(weights, rng.random() * weights[-1])]
            position = trader.positions.get(market.spec.coin)
        view = self._view(trader, market)
        if position is None:
            lots = self._order_lots(trader, market, 1.0)
            leverage = min(trader.preferred_leverage, market.spec.max_leverage)
            self._market_order(
                trader, market, sign=view, lots=lots, leverage=leverage, time=time, fills=fills
            )
        else:
            self._manage(position, view, time, fills)

    def _view(self, trader: _Trader, market: _Market) -> int:
        """+1 if the trader will want to be long, −1 if short, according to their style."""
        rng = self._random
        style = trader.style
        if style is _Style.NOISE:
            return 1 if rng.random() < 0.5 else -1
        if style is _Style.INFORMED:
            belief = 1 if market.trend >= 0.0 else -1
        else:
            slot = (self._price_steps - trader.lookback_minutes) % _REMEMBERED_MINUTES
            belief = 1 if market.log_price >= market.recent_log_prices[slot] else -1
            if style is _Style.CONTRARIAN:
                belief = -belief
        return belief if rng.random() < trader.signal_quality else -belief

    def _manage(self, position: _Position, view: int, time: int, fills: list[Fill]) -> None:
        trader, market = position.trader, position.market
        intent = self._choose_intent(agrees=view == position.sign)
        lots = 0
        if intent is _Intent.ADD:
            held_notional = position.lots * market.lot_size * market.mark
            if held_notional < _LARGEST_POSITION_IN_MEDIAN_NOTIONALS * trader.median_notional:
                lots = self._order_lots(trader, market, self._random.uniform(0.3, 1.0))
        elif intent is _Intent.REDUCE:
            lots = int(position.lots * self._random.uniform(0.25, 0.75))
        elif intent is _Intent.CLOSE:
            lots = position.lots
        elif intent is _Intent.FLIP:
            lots = position.lots + self._order_lots(trader, market, 1.0)
        sign = position.sign if intent is _Intent.ADD else -position.sign
        self._market_order(
            trader,
            market,
            sign=sign,
            lots=lots,
            leverage=position.leverage,
            time=time,
            fills=fills,
        )

    def _choose_intent(self, *, agrees: bool) -> _Intent:
        roll = self._random.random()
        for threshold, intent in _RESPONSES[agrees]:
            if roll < threshold:
                return intent
        return _Intent.HOLD

    def _order_lots(self, trader: _Trader, market: _Market, scale: float) -> int:
        notional = (
            trader.median_notional * self._random.lognormvariate(0.0, _ORDER_SIZE_SPREAD) * scale
        )
        return round(notional / (market.mark * market.lot_size))

    def _market_order(
        self,
        trader: _Trader,
        market: _Market,
        *,
        sign: int,
        lots: int,
        leverage: int,
        time: int,
        fills: list[Fill],
    ) -> None:
        """Fill an order near the mark: resting (maker) a little better, crossing a little worse."""
        if lots <= 0:
            return
        rng = self._random
        if rng.random() < trader.maker_share:
            slippage = -abs(rng.gauss(0.0, _MAKER_PRICE_IMPROVEMENT))
            maker = True
        else:
            impact = min(_LARGEST_IMPACT, lots * market.lot_size * market.mark * _IMPACT_PER_DOLLAR)
            slippage = abs(rng.gauss(0.0, _TAKER_SLIPPAGE)) + impact
            maker = False
        price = market.mark * (1.0 + sign * slippage)
        self._execute(
            trader,
            market,
            sign=sign,
            lots=lots,
            price=price,
            leverage=leverage,
            time=time,
            fills=fills,
            maker=maker,
        )

    # --- triggers --------------------------------------------------------------------------

    def _arm(self, position: _Position) -> None:
        """(Re)place the liquidation, stop-loss and take-profit of a position that changed."""
        position.version += 1
        market, trader = position.market, position.trader
        entry, sign = position.entry_price, position.sign
        liquidation_distance = 1.0 / position.leverage - market.maintenance_margin
        self._rest(position, _Trigger.LIQUIDATION, entry * (1.0 - sign * liquidation_distance))
        if trader.stop_distance_in_daily_moves is not None:
            stop_distance = min(
                trader.stop_distance_in_daily_moves * market.daily_volatility,
                0.8 * liquidation_distance,
            )
            self._rest(position, _Trigger.STOP_LOSS, entry * (1.0 - sign * stop_distance))
            target_distance = min(0.9, stop_distance * trader.take_profit_ratio)
            self._rest(position, _Trigger.TAKE_PROFIT, entry * (1.0 + sign * target_distance))
        book_limit = 4 * market.open_positions + 1024
        for heap in (market.falls_to, market.rises_to):
            if len(heap) > book_limit:
                heap[:] = [entry for entry in heap if entry[4].version == entry[5]]
                heapq.heapify(heap)

    def _rest(self, position: _Position, trigger: _Trigger, level: float) -> None:
        """A trigger below the mark for a long (or above for a short) waits for the mark to fall."""
        self._trigger_sequence += 1
        waits_for_fall = (position.sign > 0) == (trigger is not _Trigger.TAKE_PROFIT)
        if waits_for_fall:
            entry = (-level, self._trigger_sequence, trigger, level, position, position.version)
            heapq.heappush(position.market.falls_to, entry)
        else:
            entry = (level, self._trigger_sequence, trigger, level, position, position.version)
            heapq.heappush(position.market.rises_to, entry)

    def _fire_triggers(self, market: _Market, time: int, fills: list[Fill]) -> None:
        mark = market.mark
        fired: list[_TriggerEntry] = []
        falls_to, rises_to = market.falls_to, market.rises_to
        while falls_to and falls_to[0][3] >= mark:
            fired.append(heapq.heappop(falls_to))
        while rises_to and rises_to[0][3] <= mark:
            fired.append(heapq.heappop(rises_to))
        if not fired:
            return
        # Liquidation wins when a jump crosses both it and the stop in one step.
        fired.sort(key=lambda entry: (entry[2], entry[1]))
        for _key, _sequence, trigger, level, position, version in fired:
            if position.version != version:
                continue
            closing = -position.sign
            if trigger is _Trigger.LIQUIDATION:
                price, maker = level, False
            elif trigger is _Trigger.TAKE_PROFIT:
                price, maker = level, True
            else:
                price, maker = mark * (1.0 + closing * _TAKER_SLIPPAGE), False
            self._execute(
                position.trader,
                market,
                sign=closing,
                lots=position.lots,
                price=price,
                leverage=position.leverage,
                time=time,
                fills=fills,
                maker=maker,
                is_liquidation=trigger is _Trigger.LIQUIDATION,
            )

    # --- emission and bookkeeping -----------------------------------------------------------

    def _execute(
        self,
        trader: _Trader,
        market: _Market,
        *,
        sign: int,
        lots: int,
        price: float,
        leverage: int,
        time: int,
        fills: list[Fill],
        maker: bool,
        is_liquidation: bool = False,
    ) -> None:
        """Emit one fill and fold it into the simulator's book."""
        spec = market.spec
        price_text = _price_text(price, market.max_price_decimals)
        exact_price = Decimal(price_text)
        size = Decimal(lots).scaleb(-spec.sz_decimals)
        fee_rate = MAKER_FEE_RATE if maker else TAKER_FEE_RATE
        sequence = self._fill_sequence
        self._fill_sequence = sequence + 1
        if time != self._last_time:
            self._last_time = time
            self._last_timestamp = _EPOCH + timedelta(microseconds=time)
        fill_id = f"{self._seed}-{self._run_tag}-{sequence}"
        position = trader.positions.get(spec.coin)
        fills.append(
            Fill(
                venue=VENUE,
                fill_id=fill_id,
                address=trader.address,
                coin=spec.coin,
                direction=Direction.BUY if sign > 0 else Direction.SELL,
                size=size,
                price=exact_price,
                timestamp=self._last_timestamp,
                fee=(size * exact_price * fee_rate).quantize(_FEE_QUANTUM),
                is_liquidation=is_liquidation,
                tx_hash="0x" + hashlib.sha256(fill_id.encode()).hexdigest(),
                leverage=float(leverage),
            )
        )
        self._book(
            trader,
            market,
            position,
            sign=sign,
            lots=lots,
            price=float(price_text),
            leverage=leverage,
        )

    def _book(
        self,
        trader: _Trader,
        market: _Market,
        position: _Position | None,
        *,
        sign: int,
        lots: int,
        price: float,
        leverage: int,
    ) -> None:
        if position is None:
            self._open_position(
                trader, market, sign=sign, lots=lots, price=price, leverage=leverage
            )
        elif position.sign == sign:
            total = position.lots + lots
            position.entry_price = (position.entry_price * position.lots + price * lots) / total
            position.lots = total
            self._arm(position)
        elif lots < position.lots:
            position.lots -= lots  # entry, and so every trigger level, stays where it was
        else:
            position.version = -1
            del trader.positions[market.spec.coin]
            market.open_positions -= 1
            if lots > position.lots:
                remaining = lots - position.lots
                self._open_position(
                    trader, market, sign=sign, lots=remaining, price=price, leverage=leverage
                )

    def _open_position(
        self,
        trader: _Trader,
        market: _Market,
        *,
        sign: int,
        lots: int,
        price: float,
        leverage: int,
    ) -> None:
        position = _Position(trader, market, sign, lots, price, leverage)
        trader.positions[market.spec.coin] = position
        market.open_positions += 1
        self._arm(position)


def _price_text(price: float, max_decimals: int) -> str:
    """A venue-valid price: 5 significant figures, bounded decimals, never zero."""
    decimals = _SIGNIFICANT_FIGURES - 1 - math.floor(math.log10(price))
    decimals = max(0, min(decimals, max_decimals))
    smallest_tick = 10.0**-decimals
    return f"{max(price, smallest_tick):.{decimals}f}"


def _to_microseconds(moment: datetime) -> int:
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError("simulator times must be timezone-aware")
    return (moment - _EPOCH) // _ONE_MICROSECOND

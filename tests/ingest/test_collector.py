"""The writer's collector settings (ingest/collector.py), and the premise they rest on: the fold's
objects hold no reference cycles, so reference counting alone frees them."""

from __future__ import annotations

import gc
from collections.abc import Iterator
from datetime import UTC, datetime

import pytest

from ingest.batch import BatchFold, History, WriteReport
from ingest.collector import WRITER_THRESHOLDS, tune_for_writing
from ingest.fills import Fill
from ingest.simulator import MarketSimulator
from ingest.staging import take_rows


@pytest.fixture
def thresholds() -> Iterator[None]:
    before = gc.get_threshold()
    yield
    gc.set_threshold(*before)


def test_tune_for_writing_collects_far_less_often(thresholds: None) -> None:
    gc.set_threshold(700, 10, 10)
    tune_for_writing()
    assert gc.get_threshold() == WRITER_THRESHOLDS
    assert WRITER_THRESHOLDS[0] >= 100 * 700


def _batches() -> list[list[Fill]]:
    simulator = MarketSimulator(traders=60, seed=5)
    end = datetime(2026, 11, 1, tzinfo=UTC)
    return [batch for batch in simulator.history(days=2.0, end=end) if batch][:6]


def _fold_and_take_rows(batches: list[list[Fill]]) -> int:
    """Fold the batches one after the other, each from the positions the one before left open
    (as the writer's cache carries them), and take every batch's rows; the rows taken."""
    trader_ids: dict[str, int] = {}
    histories: dict[tuple[int, str], History] = {}
    taken = 0
    for batch in batches:
        ids = [trader_ids.setdefault(fill.address, len(trader_ids) + 1) for fill in batch]
        fold = BatchFold(histories, WriteReport(), {})
        fold.apply_all(sorted(batch, key=lambda f: f.timestamp), ids)
        touched = fold.finished + list(fold.open_positions.values())
        opened = sum(position.is_new for position in touched)
        updates, inserts, trades = take_rows(fold, list(range(opened)), list(range(len(batch))))
        for position in touched:
            position.is_new = False
        taken += len(updates) + len(inserts) + len(trades)
        histories = {
            key: History(position, position.state.last_fill_at)
            for key, position in fold.open_positions.items()
        }
    return taken


def test_the_fold_and_its_rows_leave_no_reference_cycles() -> None:
    # given simulated batches, made before the collector is stopped
    batches = _batches()
    assert sum(len(b) for b in batches) > 1_000
    gc.collect()
    gc.disable()
    try:
        # when they are folded and their rows taken, with the collector stopped
        taken = _fold_and_take_rows(batches)
        # then, once the fold's objects are released, the collector finds nothing to free:
        # reference counting freed every one of them
        unreachable = gc.collect()
    finally:
        gc.enable()
    assert taken > 1_000
    assert unreachable == 0

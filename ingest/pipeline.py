"""Write a stream of batches with the Python work of each batch overlapping the writes of the
batch before it.

A batch is Python's work (the fold, drawing ids, taking and encoding the rows) and then
Postgres's (writing positions and trades); one after the other, each waits for the other and a
core idles. Here batch ``k + 1`` is prepared and its Python work done while Postgres writes
batch ``k``, so both cores work (bench/ingest.py measures the difference). What is written, and
when it commits, is what :func:`ingest.writer.write_fills` writes batch by batch, but for the
order of the work, on three connections and a thread:

* the writer's connection, in transaction ``k``: take batch ``k`` from its thread job (folded,
  ids drawn, rows encoded for binary COPY); start preparing batch ``k + 1``; write batch ``k``'s
  positions and trades, its checkpoint and NOTIFY; commit;
* meanwhile a second connection prepares batch ``k + 1`` in a transaction of its own: creates
  its new traders (committed there), drops its fills already stored or in batch ``k``, reads the
  positions it starts from that neither the cache nor batch ``k``'s fold holds; then its thread
  job starts;
* the thread job folds batch ``k + 1``, draws its ids over a third connection (sequences are
  not transactional: ids of a batch that is never committed are skipped, as they are whenever a
  transaction rolls back) and takes and encodes its rows.

A batch's new trader rows thus commit before its trades (the same rows its own transaction
would write, found again if the batch is written over). A batch is prepared ahead only when its
fills are valid; an invalid batch is rejected after the batches before it are committed, as
:func:`~ingest.writer.write_fills` rejects it. On any error the preparation and the job under
way are waited for, the position cache cleared and the error raised: the batches committed so
far stand, with their checkpoint, and nothing of the others is written.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncGenerator, Iterable, Mapping, Sequence
from collections.abc import Set as AbstractSet
from dataclasses import dataclass
from typing import Any

import psycopg
from psycopg import AsyncConnection

from db.pool import blocking_sibling, sibling
from ingest.batch import WriteReport
from ingest.engine import FillRejectedError
from ingest.fills import Fill
from ingest.histories import PositionCache
from ingest.staging import StagedBatch, stage_encoded
from ingest.writer import (
    FillKey,
    PreparedBatch,
    begin_batch,
    finish_batch,
    fold_batch,
    prepare_batch,
    validate_fills,
    without_jit,
    write_staged,
)

__all__ = ["Batch", "write_stream"]


@dataclass(frozen=True, slots=True)
class Batch:
    """One batch of a stream and the checkpoint that marks it written."""

    checkpoint: str
    fills: Sequence[Fill]


@dataclass(slots=True)
class _Job:
    """A batch prepared ahead of its transaction, its Python work under way."""

    prepared: PreparedBatch
    staging: asyncio.Future[StagedBatch | None]


async def write_stream(
    connection: AsyncConnection,
    batches: Iterable[Batch],
    *,
    source: str,
    cache: PositionCache | None = None,
    pnl_entry_decimals: Mapping[str, int] | None = None,
) -> AsyncGenerator[tuple[Batch, WriteReport]]:
    """Write ``batches`` in order, one transaction each (with its checkpoint for ``source``),
    each batch's Python work done while the batch before it is written; yields each batch and
    its report once it has committed.

    ``connection`` must not be inside a transaction. ``cache`` (a fresh one when not given)
    carries positions from batch to batch; the caller may keep it for later batches, and must
    follow :mod:`ingest.histories`' rule for it.
    """
    cache = cache if cache is not None else PositionCache()
    decimals = pnl_entry_decimals or {}
    upcoming = iter(batches)
    batch = next(upcoming, None)
    if batch is None:
        return
    job: _Job | None = None
    preparing: asyncio.Task[_Job] | None = None
    preparer = await sibling(connection)
    ids = await asyncio.to_thread(blocking_sibling, connection)
    try:
        while batch is not None:
            if preparing is not None:
                job, preparing = await preparing, None
            async with connection.transaction():
                coins = await begin_batch(connection)
                if job is None:
                    validate_fills(batch.fills, coins)
                    job = await _start(preparer, ids, batch, cache, decimals, frozenset())
                prepared, staged = job.prepared, await job.staging
                job = None
                # Batch k's positions as the next fold starts from them; its rows are taken.
                if staged is not None:
                    cache.remember(prepared.pairs, staged.fold)
                following = next(upcoming, None)
                if following is not None and _valid(following, coins):
                    preparing = asyncio.create_task(
                        _start(preparer, ids, following, cache, decimals, prepared.fill_keys())
                    )
                if staged is not None:
                    await write_staged(connection, staged)
                await finish_batch(connection, source, batch.checkpoint, prepared.report)
            yield batch, prepared.report
            batch = following
    except BaseException:
        # A thread cannot be stopped: the cache is cleared once nothing changes it any more.
        if preparing is not None:
            with contextlib.suppress(BaseException):
                job = await preparing
        if job is not None:
            with contextlib.suppress(BaseException):
                await job.staging
        cache.clear()
        raise
    finally:
        await preparer.close()
        ids.close()


def _valid(batch: Batch, coins: Mapping[str, int]) -> bool:
    try:
        validate_fills(batch.fills, coins)
    except FillRejectedError:
        return False  # rejected in its own turn, once the batches before it are committed
    return True


async def _start(
    preparer: AsyncConnection,
    ids: psycopg.Connection[Any],
    batch: Batch,
    cache: PositionCache,
    decimals: Mapping[str, int],
    pending: AbstractSet[FillKey],
) -> _Job:
    """Prepare ``batch`` in a transaction of its own on ``preparer`` (its new traders commit
    there) and start its Python work in a thread."""
    report = WriteReport(fills_received=len(batch.fills))
    async with preparer.transaction():
        await without_jit(preparer)
        prepared = await prepare_batch(preparer, batch.fills, report, cache, pending=pending)
    staging = asyncio.ensure_future(asyncio.to_thread(_stage, ids, prepared, decimals))
    return _Job(prepared, staging)


def _stage(
    ids: psycopg.Connection[Any], prepared: PreparedBatch, decimals: Mapping[str, int]
) -> StagedBatch | None:
    """A batch's Python work: fold, ids, rows (None when no fill is fresh)."""
    if not prepared.fresh:
        return None
    return stage_encoded(ids, fold_batch(prepared, decimals))

"""A folded batch made ready to write: ids drawn from the sequences, position and trade rows
taken, and (for the stream writer) encoded for binary COPY.

Rows are taken as copies: once they are, a later batch's fold may go on changing the positions
themselves. Binary COPY means no text formatting of every number on our side and no parsing on
the server's. The encoding (:func:`stage_encoded`) needs no transaction: it draws ids over a
connection of its own and encodes with psycopg's :class:`~psycopg.copy.FileWriter`, so a thread
can do all of it while the writer's connection is busy with the batch before
(:mod:`ingest.pipeline`).
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import psycopg
from psycopg import AsyncConnection, AsyncCursor
from psycopg.copy import FileWriter

from ingest.batch import BatchFold, FoldedFill, OpenPosition
from ingest.fills import Action

__all__ = [
    "POSITION_COLUMNS",
    "POSITION_TYPES",
    "TRADE_COLUMNS",
    "TRADE_TYPES",
    "CopyData",
    "StagedBatch",
    "copy_into",
    "stage_batch",
    "stage_encoded",
    "take_rows",
]

Row = tuple[object, ...]
#: What a COPY sends: rows, encoded as it goes, or rows already encoded (binary COPY format).
CopyData = list[Row] | bytes

TRADE_COLUMNS = (
    "id, venue, venue_fill_id, trader_id, position_id, closed_position_id, coin, timestamp, "
    "side, direction, action, size, price, notional, start_position, realized_pnl, fee, "
    "is_liquidation, tx_hash"
)
TRADE_TYPES = (
    "int8", "text", "text", "int8", "int8", "int8", "text", "timestamptz", "text", "text",
    "text", "numeric", "numeric", "numeric", "numeric", "numeric", "numeric", "bool", "text",
)  # fmt: skip

POSITION_COLUMNS = (
    "id, trader_id, coin, side, size, max_size, entry_price, closed_size, exit_notional, "
    "realized_pnl, fees, leverage, trade_count, opened_at, last_fill_at, closed_at"
)
POSITION_TYPES = (
    "int8", "int8", "text", "text", "numeric", "numeric", "numeric", "numeric", "numeric",
    "numeric", "numeric", "float8", "int4", "timestamptz", "timestamptz", "timestamptz",
)  # fmt: skip

# The sequence is looked up once (an uncorrelated scalar subquery is an InitPlan): called per
# row, pg_get_serial_sequence and the cast cost ten times what nextval does.
_DRAW_IDS = (
    "SELECT array_agg(nextval((SELECT pg_get_serial_sequence(%s, 'id')::regclass))) "
    "FROM generate_series(1, %s)"
)


@dataclass(slots=True)
class StagedBatch:
    """A folded batch with its ids drawn and its rows taken, ready to be written."""

    fold: BatchFold
    trade_ids: list[int]
    position_updates: CopyData
    position_inserts: CopyData
    trades: CopyData


def _touched_positions(fold: BatchFold) -> tuple[list[OpenPosition], list[OpenPosition]]:
    """The positions a batch touched: those stored before it, and those it opened."""
    touched = fold.finished + list(fold.open_positions.values())
    return [p for p in touched if not p.is_new], [p for p in touched if p.is_new]


def take_rows(
    fold: BatchFold, position_ids: list[int], trade_ids: list[int]
) -> tuple[list[Row], list[Row], list[Row]]:
    """Give the new positions their ids; the rows of the stored positions, the new positions
    and the trades."""
    stored, opened = _touched_positions(fold)
    for position, position_id in zip(opened, position_ids, strict=True):
        position.id = position_id
    trades = [
        _trade_row(trade_id, item) for trade_id, item in zip(trade_ids, fold.folded, strict=True)
    ]
    return [_position_row(p) for p in stored], [_position_row(p) for p in opened], trades


async def stage_batch(connection: AsyncConnection, fold: BatchFold) -> StagedBatch:
    """Draw the batch's ids on ``connection`` and take its rows (encoded as they are sent)."""
    _, opened = _touched_positions(fold)
    position_ids = await _draw_ids(connection, "position", len(opened))
    trade_ids = await _draw_ids(connection, "trade", len(fold.folded))
    updates, inserts, trades = take_rows(fold, position_ids, trade_ids)
    return StagedBatch(fold, trade_ids, updates, inserts, trades)


def stage_encoded(connection: psycopg.Connection[Any], fold: BatchFold) -> StagedBatch:
    """Draw the batch's ids over ``connection`` (autocommit: sequences are not transactional)
    and take its rows encoded for binary COPY. Blocking; meant for a thread."""
    _, opened = _touched_positions(fold)
    position_ids = _draw_ids_blocking(connection, "position", len(opened))
    trade_ids = _draw_ids_blocking(connection, "trade", len(fold.folded))
    updates, inserts, trades = take_rows(fold, position_ids, trade_ids)
    with connection.cursor() as cursor:
        return StagedBatch(
            fold,
            trade_ids,
            _encode(cursor, POSITION_TYPES, updates),
            _encode(cursor, POSITION_TYPES, inserts),
            _encode(cursor, TRADE_TYPES, trades),
        )


def _encode(cursor: psycopg.Cursor[Any], types: Sequence[str], rows: list[Row]) -> bytes:
    """``rows`` in binary COPY format (header, rows, trailer); no data is sent: ``cursor`` only
    gives the types' adapters."""
    if not rows:
        return b""
    buffer = io.BytesIO()
    with psycopg.Copy(cursor, binary=True, writer=FileWriter(buffer)) as copy:
        copy.set_types(types)
        for row in rows:
            copy.write_row(row)
    return buffer.getvalue()


async def copy_into(
    cursor: AsyncCursor[Any], table: str, columns: str, types: Sequence[str], data: CopyData
) -> None:
    """Binary COPY of ``data`` into ``table`` (``columns``)."""
    async with cursor.copy(f"COPY {table} ({columns}) FROM STDIN (FORMAT BINARY)") as copy:
        if isinstance(data, bytes):
            await copy.write(data)
            return
        copy.set_types(types)
        for row in data:
            await copy.write_row(row)


async def _draw_ids(connection: AsyncConnection, table: str, count: int) -> list[int]:
    if count == 0:
        return []
    cursor = await connection.execute(_DRAW_IDS, (table, count))
    row = await cursor.fetchone()
    assert row is not None
    return list(row[0])


def _draw_ids_blocking(connection: psycopg.Connection[Any], table: str, count: int) -> list[int]:
    if count == 0:
        return []
    row = connection.execute(_DRAW_IDS, (table, count)).fetchone()
    assert row is not None
    return list(row[0])


def _trade_row(trade_id: int, item: FoldedFill) -> Row:
    """A trade belongs to the position it leaves open; a CLOSE to the one it closed.

    A FLIP belongs to the new position and names the one it closed in ``closed_position_id``.
    """
    fill, outcome, closed = item.fill, item.outcome, item.closed
    position = item.current if item.current is not None else closed
    closes = outcome.action in (Action.REDUCE, Action.CLOSE, Action.FLIP)
    return (
        trade_id,
        fill.venue,
        fill.fill_id,
        item.trader_id,
        position.id if position is not None else None,
        closed.id if closed is not None and outcome.action is Action.FLIP else None,
        fill.coin,
        fill.timestamp,
        outcome.side.value,
        fill.direction.value,
        outcome.action.value,
        fill.size,
        fill.price,
        fill.size * fill.price,
        item.start_position,
        outcome.realized_pnl if closes else None,
        fill.fee,
        fill.is_liquidation,
        fill.tx_hash,
    )


def _position_row(position: OpenPosition) -> Row:
    state = position.state
    return (
        position.id,
        position.trader_id,
        position.coin,
        state.side.value,
        state.size,
        state.max_size,
        state.entry_price,
        state.closed_size,
        state.exit_notional,
        state.realized_pnl,
        state.fees,
        state.leverage,
        position.trade_count,
        state.opened_at,
        state.last_fill_at or state.opened_at,
        position.closed_at,
    )

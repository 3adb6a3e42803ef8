"""Keyset pagination: ``ORDER BY`` and the "rows after this cursor" condition, built together.

Rows are ordered by one sort expression and then by a unique tie-breaker, so every row has a
distinct position and a cursor (sort value, tie-breaker) points between two rows exactly.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Generic, TypeVar, overload

from psycopg import sql

from resolvers.cursors import decode_cursor, encode_cursor

T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class Ordering:
    """Sort by ``expression`` (never NULL: wrap nullable columns in coalesce), then by
    ``tiebreak`` (unique); each ascending or descending."""

    name: str
    expression: sql.Composable
    value_type: type
    descending: bool
    tiebreak: sql.Composable
    tiebreak_descending: bool

    def order_by(self) -> sql.Composed:
        return sql.SQL("{} {}, {} {}").format(
            self.expression,
            sql.SQL("DESC" if self.descending else "ASC"),
            self.tiebreak,
            sql.SQL("DESC" if self.tiebreak_descending else "ASC"),
        )

    def after(self, cursor: str) -> tuple[sql.Composed, list[Any]]:
        """The condition selecting rows after ``cursor``, and its parameters."""
        value, tiebreak = decode_cursor(cursor, self.name, (self.value_type, int))
        beyond = sql.SQL("<" if self.descending else ">")
        tie_beyond = sql.SQL("<" if self.tiebreak_descending else ">")
        condition = sql.SQL(
            "({expr} {beyond} %s OR ({expr} = %s AND {tie} {tie_beyond} %s))"
        ).format(expr=self.expression, beyond=beyond, tie=self.tiebreak, tie_beyond=tie_beyond)
        return condition, [value, value, tiebreak]

    def cursor(self, value: Any, tiebreak: int) -> str:
        return encode_cursor(self.name, value, tiebreak)


@dataclass(frozen=True, slots=True)
class Page(Generic[T]):
    """One page of a connection: its items with their cursors, and whether more pages exist."""

    items: list[T]
    cursors: Sequence[str]
    has_next_page: bool
    has_previous_page: bool

    @classmethod
    def from_rows(
        cls,
        rows: Sequence[T],
        first: int,
        cursor_of: Callable[[T], str],
        *,
        after: str | None,
    ) -> Page[T]:
        """``rows`` holds up to ``first + 1`` rows: the extra one only says a next page exists."""
        items = list(rows[:first])
        return cls(
            items=items,
            cursors=LazyCursors(items, cursor_of),
            has_next_page=len(rows) > first,
            has_previous_page=after is not None,
        )


class LazyCursors(Sequence[str]):
    """A page's cursors, each encoded when first read: most pages are asked for their nodes,
    not their cursors, and encoding one costs more than reading a row."""

    __slots__ = ("_cursor_of", "_items")

    def __init__(self, items: Sequence[T], cursor_of: Callable[[T], str]) -> None:
        self._items: Sequence[Any] = items
        self._cursor_of: Callable[[Any], str] = cursor_of

    def __len__(self) -> int:
        return len(self._items)

    @overload
    def __getitem__(self, index: int) -> str: ...

    @overload
    def __getitem__(self, index: slice) -> list[str]: ...

    def __getitem__(self, index: int | slice) -> str | list[str]:
        if isinstance(index, slice):
            return [self._cursor_of(item) for item in self._items[index]]
        return self._cursor_of(self._items[index])

"""Inclusive min/max range filters (Nansen's semantics: either bound may be left open)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from psycopg import sql

from resolvers.errors import BadUserInputError


@dataclass(frozen=True, slots=True)
class RangeCondition:
    """``min <= column <= max`` on one column; None bounds are open."""

    column: sql.Composable
    argument: str
    minimum: Any = None
    maximum: Any = None

    def conditions(self) -> tuple[list[sql.Composable], list[Any]]:
        if self.minimum is not None and self.maximum is not None and self.minimum > self.maximum:
            raise BadUserInputError(
                f"`{self.argument}`: min ({self.minimum}) is greater than max ({self.maximum})",
                argument=self.argument,
            )
        conditions: list[sql.Composable] = []
        params: list[Any] = []
        if self.minimum is not None:
            conditions.append(sql.SQL("{} >= %s").format(self.column))
            params.append(self.minimum)
        if self.maximum is not None:
            conditions.append(sql.SQL("{} <= %s").format(self.column))
            params.append(self.maximum)
        return conditions, params


def camel_case(snake: str) -> str:
    """``realized_pnl`` as the API names it: ``realizedPnl``."""
    head, *rest = snake.split("_")
    return head + "".join(part.capitalize() for part in rest)


def figure_ranges(
    ranges: tuple[tuple[str, Any, Any], ...],
) -> list[tuple[list[sql.Composable], list[Any]]]:
    """The conditions of (column, min, max) ranges on the rows ``f`` of a computed view, each
    named ``filter.<camelCase>`` in its error."""
    return [
        RangeCondition(
            sql.SQL("f.{}").format(sql.Identifier(name)), f"filter.{camel_case(name)}", low, high
        ).conditions()
        for name, low, high in ranges
    ]


def figure_order(column: str, descending: bool) -> sql.Composable:
    """Order the rows ``f`` of a computed view by ``column``, nulls last either way."""
    return sql.SQL("f.{} {} NULLS LAST").format(
        sql.Identifier(column), sql.SQL("DESC" if descending else "ASC")
    )


def combine(
    parts: list[tuple[list[sql.Composable], list[Any]]],
) -> tuple[sql.Composable, list[Any]]:
    """AND all conditions together (TRUE when there are none), keeping parameters in order."""
    conditions = [c for part, _ in parts for c in part]
    params = [p for _, part_params in parts for p in part_params]
    if not conditions:
        return sql.SQL("TRUE"), params
    return sql.SQL(" AND ").join(conditions), params

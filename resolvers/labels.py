"""Filtering traders by label: their own human label or one derived with the boards."""

from __future__ import annotations

from typing import Any

from psycopg import sql


def label_conditions(
    trader_id: sql.Composable, labels: tuple[str, ...] | None, excluded: tuple[str, ...] | None
) -> list[tuple[list[sql.Composable], list[Any]]]:
    """Conditions on the trader whose id is ``trader_id``: it carries one of ``labels`` (when
    given), and none of ``excluded`` (when given)."""
    parts: list[tuple[list[sql.Composable], list[Any]]] = []
    if labels is not None:
        parts.append(([_carries(trader_id)], [list(labels), list(labels)]))
    if excluded is not None:
        not_carrying = sql.SQL("NOT {}").format(_carries(trader_id))
        parts.append(([not_carrying], [list(excluded), list(excluded)]))
    return parts


def _carries(trader_id: sql.Composable) -> sql.Composable:
    return sql.SQL(
        "(EXISTS (SELECT 1 FROM trader_label AS l WHERE l.trader_id = {id} AND l.label = ANY(%s))"
        " OR EXISTS (SELECT 1 FROM trader AS lt WHERE lt.id = {id} AND lt.label = ANY(%s)))"
    ).format(id=trader_id)

"""Systematic hostile edits of a valid payload: every node replaced or removed in turn.

A parser passes when each edited payload either parses or raises HyperliquidFormatError; any
other exception (KeyError, TypeError, OverflowError, decimal.InvalidOperation...) escapes and
fails the test.
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Iterator
from typing import Any

from ingest.hyperliquid.errors import HyperliquidFormatError

Path = tuple[str | int, ...]

#: Values a field can take that it should not: wrong JSON types, non-numbers, huge and
#: negative numbers, non-finite spellings.
HOSTILE_VALUES: tuple[object, ...] = (
    None,
    "",
    "abc",
    "NaN",
    "-Infinity",
    "-1",
    "0",
    "1e999999",
    "1_000",
    10**30,
    -1,
    1.5,
    True,
    [],
    {},
)

_REMOVED = object()


def node_paths(value: object, prefix: Path = ()) -> Iterator[Path]:
    """Every node under ``value`` (containers and leaves), parents before children."""
    if isinstance(value, dict):
        for key, child in value.items():
            yield (*prefix, key)
            yield from node_paths(child, (*prefix, key))
    elif isinstance(value, list):
        for index, child in enumerate(value):
            yield (*prefix, index)
            yield from node_paths(child, (*prefix, index))


def edited(document: object, path: Path, value: object) -> Any:
    """A deep copy of ``document`` with the node at ``path`` replaced (or removed)."""
    result = copy.deepcopy(document)
    parent: Any = result
    for step in path[:-1]:
        parent = parent[step]
    if value is _REMOVED:
        del parent[path[-1]]
    else:
        parent[path[-1]] = value
    return result


def check_every_edit(parse: Callable[[Any], object], document: object) -> int:
    """Parse every hostile edit of ``document``; return how many raised the format error."""
    parse(copy.deepcopy(document))  # the unedited document must parse
    messages: list[str] = []
    for path in list(node_paths(document)):
        for value in (*HOSTILE_VALUES, _REMOVED):
            try:
                parse(edited(document, path, value))
            except HyperliquidFormatError as error:
                messages.append(str(error))
    assert all(": " in message for message in messages)  # "<where>: <problem>"
    return len(messages)

"""Opaque keyset cursors and global node ids.

A cursor is the sort key of a row (for example its time and id), JSON-encoded and base64-ed so
clients treat it as opaque. Keyset cursors stay valid while new rows arrive, unlike offsets.
"""

from __future__ import annotations

import base64
import binascii
import json
from datetime import datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from resolvers.errors import BadUserInputError

MAX_PAGE_SIZE = 100


def encode_cursor(kind: str, *values: Any) -> str:
    """``kind`` names what the cursor pages through, so one connection's cursor is refused by
    another."""
    payload = [kind, *(_encode_value(v) for v in values)]
    raw = json.dumps(payload, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str, kind: str, types: tuple[type, ...]) -> tuple[Any, ...]:
    """The values of a cursor made by :func:`encode_cursor` for ``kind``, typed as ``types``."""
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        payload = json.loads(base64.urlsafe_b64decode(padded.encode()))
    except (binascii.Error, ValueError, UnicodeDecodeError):
        payload = None
    if not isinstance(payload, list) or len(payload) != len(types) + 1 or payload[0] != kind:
        raise BadUserInputError(
            f"malformed cursor {cursor[:60]!r}: pass back an endCursor from this same field",
            argument="after",
        )
    try:
        return tuple(_decode_value(v, t) for v, t in zip(payload[1:], types, strict=True))
    except (TypeError, ValueError, InvalidOperation):
        raise BadUserInputError(
            f"malformed cursor {cursor[:60]!r}: pass back an endCursor from this same field",
            argument="after",
        ) from None


def check_page_size(first: int, argument: str = "first") -> int:
    """``first`` must be between 1 and 100 (GitHub's bounds)."""
    if not 1 <= first <= MAX_PAGE_SIZE:
        raise BadUserInputError(
            f"`{argument}` must be between 1 and {MAX_PAGE_SIZE}, got {first}; "
            "use `after` with the previous page's endCursor to read further",
            argument=argument,
        )
    return first


def encode_node_id(type_name: str, key: int | str) -> str:
    return base64.b64encode(f"{type_name}:{key}".encode()).decode()


def decode_node_id(node_id: str) -> tuple[str, str]:
    """(type name, key) of a global id, or BAD_USER_INPUT."""
    try:
        type_name, _, key = base64.b64decode(node_id, validate=True).decode().partition(":")
    except (binascii.Error, ValueError, UnicodeDecodeError):
        type_name, key = "", ""
    if not type_name or not key:
        raise BadUserInputError(f"malformed node id {node_id[:60]!r}", argument="id")
    return type_name, key


def _encode_value(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    return value


def _decode_value(value: Any, expected: type) -> Any:
    if expected is datetime:
        if not isinstance(value, str):
            raise TypeError(value)
        parsed = datetime.fromisoformat(value)
        if parsed.tzinfo is None:
            raise ValueError(value)
        return parsed
    if expected is Decimal:
        if not isinstance(value, str):
            raise TypeError(value)
        number = Decimal(value)
        if not number.is_finite():
            raise ValueError(value)
        return number
    if expected is float:
        if not isinstance(value, int | float) or isinstance(value, bool):
            raise TypeError(value)
        return float(value)
    if expected is int:
        if not isinstance(value, int) or isinstance(value, bool):
            raise TypeError(value)
        return value
    if expected is str:
        if not isinstance(value, str):
            raise TypeError(value)
        return value
    raise TypeError(expected)

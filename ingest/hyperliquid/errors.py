"""The one error every Hyperliquid parser raises, and strict JSON decoding that raises it.

Parsers never let a ``KeyError``, ``TypeError`` or ``ValueError`` of their own escape: whatever
the venue (or a hostile peer) sends, the caller catches :class:`HyperliquidFormatError` alone and
logs a message that names the record and the field.
"""

from __future__ import annotations

import json


class HyperliquidFormatError(ValueError):
    """A response not shaped like the ones this adapter was written against.

    The message names the record's index in the response and the field, so a format change
    at the venue can be pinned down from the log line alone.
    """


def _reject_constant(name: str) -> object:
    raise HyperliquidFormatError(f"{name} is not valid JSON")


def decode_json(raw: str | bytes | bytearray, *, what: str) -> object:
    """Decode one JSON document; ``what`` names it in errors (``"ws message"``).

    Stricter than :func:`json.loads`: bytes must be UTF-8, and the non-standard ``NaN`` and
    ``Infinity`` literals Python would otherwise accept are refused. Numbers too long to convert
    and nesting too deep to decode are reported like any other malformed input.
    """
    if isinstance(raw, bytes | bytearray):
        try:
            text = bytes(raw).decode("utf-8")
        except UnicodeDecodeError as error:
            raise HyperliquidFormatError(
                f"{what}: not UTF-8 text (byte {error.start}: {error.reason})"
            ) from None
    elif isinstance(raw, str):
        text = raw
    else:
        raise HyperliquidFormatError(f"{what}: expected text or bytes, got {type(raw).__name__}")
    try:
        return json.loads(text, parse_constant=_reject_constant)
    except HyperliquidFormatError as error:
        raise HyperliquidFormatError(f"{what}: {error}") from None
    except json.JSONDecodeError as error:
        raise HyperliquidFormatError(
            f"{what}: not JSON ({error.msg} at line {error.lineno} column {error.colno})"
        ) from None
    except (ValueError, RecursionError) as error:
        # Integers beyond Python's digit limit, and nesting deeper than the decoder's stack.
        raise HyperliquidFormatError(f"{what}: not decodable JSON ({error})") from None

"""Typed, checked access to the fields of one JSON record, shared by the Hyperliquid parsers.

Every accessor either returns a value of the promised type or raises
:class:`HyperliquidFormatError` with a message of the form ``"<where>: field '<name>' <problem>"``,
where ``<where>`` names the record (``"position #3 (BTC)"``) and ``<name>`` the field, dotted for
nested objects (``"leverage.type"``). Fields the parsers do not ask for are ignored, because the
venue adds fields over time.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from datetime import UTC, datetime, timedelta
from decimal import Decimal, InvalidOperation
from enum import Enum

from ingest.hyperliquid.errors import HyperliquidFormatError

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)

#: The last millisecond ``datetime`` can hold (9999-12-31 23:59:59.999 UTC).
MAX_TIME_MS = 253_402_300_799_999

#: Larger magnitudes are refused: no price, size or volume on the venue comes near it (the
#: largest recorded value is a 2.2e11 USD all-time volume), and Postgres ``numeric`` columns and
#: downstream arithmetic should never see a hostile ``1e999999``.
MAX_MAGNITUDE = Decimal("1e30")

#: Whole-number fields (trade ids, order ids, counts) must fit in an unsigned 64-bit integer.
MAX_INTEGER = 2**64 - 1

_DECIMAL_TEXT = re.compile(r"[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d{1,4})?")
_MAX_DECIMAL_LENGTH = 80
_ADDRESS = re.compile(r"0x[0-9a-fA-F]{40}")


class Sign(Enum):
    """Which signs a decimal field may take."""

    ANY = "any"
    NON_NEGATIVE = "non-negative"
    POSITIVE = "positive"


_JSON_KINDS: tuple[tuple[type | tuple[type, ...], str], ...] = (
    (bool, "a boolean"),
    ((int, float), "a number"),
    (str, "a string"),
    (list, "a list"),
    (Mapping, "an object"),
)


def json_kind(value: object) -> str:
    """The JSON name of a decoded value's type, for messages."""
    if value is None:
        return "null"
    for kind, name in _JSON_KINDS:
        if isinstance(value, kind):
            return name
    return type(value).__name__


def _short(value: object) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def to_decimal(
    value: object, fail: Callable[[str], HyperliquidFormatError], sign: Sign = Sign.ANY
) -> Decimal:
    """A decimal from the string the venue sends (strings, so that no digit is lost).

    JSON numbers are refused: a float has already lost digits by the time it arrives here.
    """
    if not isinstance(value, str):
        raise fail(f"must be a decimal string, got {_short(value)}")
    if len(value) > _MAX_DECIMAL_LENGTH:
        raise fail(f"is too long for a number ({len(value)} characters)")
    if not _DECIMAL_TEXT.fullmatch(value):
        raise fail(f"is not a number: {_short(value)}")
    try:
        number = Decimal(value)
    except InvalidOperation:  # pragma: no cover - the pattern admits only valid literals
        raise fail(f"is not a number: {_short(value)}") from None
    if is_out_of_range(number):
        raise fail(f"is out of range: {_short(value)}")
    if sign is Sign.POSITIVE and number <= 0:
        raise fail(f"must be positive, got {value!r}")
    if sign is Sign.NON_NEGATIVE and number < 0:
        raise fail(f"must not be negative, got {value!r}")
    return number


def is_out_of_range(number: Decimal) -> bool:
    """Whether a finite decimal is at least :data:`MAX_MAGNITUDE` in size, computed from its
    exponent: ``abs()`` of a hostile ``1e999999999`` would itself overflow the context."""
    return bool(number) and number.adjusted() >= MAX_MAGNITUDE.adjusted()


def to_time(value: object, fail: Callable[[str], HyperliquidFormatError]) -> datetime:
    """An aware UTC datetime from whole milliseconds since the epoch."""
    if not isinstance(value, int) or isinstance(value, bool) or not 0 <= value <= MAX_TIME_MS:
        raise fail(f"must be a time in whole ms since the epoch, got {_short(value)}")
    return EPOCH + timedelta(milliseconds=value)


def is_zero_hash(tx_hash: str) -> bool:
    """The venue sends ``0x000…0`` for fills and trades with no transaction of their own."""
    return not tx_hash.removeprefix("0x").strip("0")


class Record:
    """One JSON object, read field by field with errors that name the record and field."""

    __slots__ = ("_data", "_prefix", "_where")

    def __init__(self, where: str, data: object, *, prefix: str = "") -> None:
        if not isinstance(data, Mapping):
            label = f"{where}: field {prefix.removesuffix('.')!r}" if prefix else where
            raise HyperliquidFormatError(f"{label}: expected a JSON object, got {json_kind(data)}")
        self._where = where
        self._data: Mapping[object, object] = data
        self._prefix = prefix

    @property
    def where(self) -> str:
        return self._where

    def field_names(self) -> list[str]:
        """The record's keys (always strings when the record came from JSON)."""
        return [str(key) for key in self._data]

    def error(self, name: str, problem: str) -> HyperliquidFormatError:
        return HyperliquidFormatError(f"{self._where}: field {self._prefix + name!r} {problem}")

    def failing(self, name: str) -> Callable[[str], HyperliquidFormatError]:
        """An error factory for field ``name``, for values checked outside this class."""
        return lambda problem: self.error(name, problem)

    def get(self, name: str) -> object:
        """The raw value of a field, None when absent."""
        return self._data.get(name)

    def present(self, name: str) -> bool:
        """Whether the field is there and not null."""
        return self._data.get(name) is not None

    def required(self, name: str) -> object:
        value = self._data.get(name)
        if value is None:
            raise self.error(name, "is missing")
        return value

    def text(self, name: str) -> str:
        value = self.required(name)
        if not isinstance(value, str) or not value:
            raise self.error(name, f"must be a non-empty string, got {_short(value)}")
        return value

    def optional_text(self, name: str) -> str | None:
        """A string, or None for a missing, null or empty field."""
        value = self._data.get(name)
        if value is None or value == "":
            return None
        if not isinstance(value, str):
            raise self.error(name, f"must be a string, got {_short(value)}")
        return value

    def choice(self, name: str, allowed: tuple[str, ...]) -> str:
        value = self.text(name)
        if value not in allowed:
            options = " or ".join(repr(option) for option in allowed)
            raise self.error(name, f"must be {options}, got {_short(value)}")
        return value

    def integer(self, name: str, *, minimum: int = 0) -> int:
        value = self.required(name)
        if (
            not isinstance(value, int)
            or isinstance(value, bool)
            or value < minimum
            or value > MAX_INTEGER
        ):
            raise self.error(name, f"must be a whole number ≥ {minimum}, got {_short(value)}")
        return value

    def optional_integer(self, name: str, *, minimum: int = 0) -> int | None:
        return self.integer(name, minimum=minimum) if self.present(name) else None

    def flag(self, name: str) -> bool:
        """A boolean that defaults to false when absent."""
        value = self._data.get(name)
        if value is None:
            return False
        if not isinstance(value, bool):
            raise self.error(name, f"must be true or false, got {_short(value)}")
        return value

    def number(self, name: str, *, minimum: float = 0.0) -> float:
        """A JSON number (the venue sends a few, such as leverage, unquoted), as a float."""
        value = self.required(name)
        if (
            not isinstance(value, int | float)
            or isinstance(value, bool)
            or not minimum < value < float(MAX_MAGNITUDE)
        ):
            raise self.error(name, f"must be a number > {minimum:g}, got {_short(value)}")
        return float(value)

    def decimal(self, name: str, *, sign: Sign = Sign.ANY) -> Decimal:
        return to_decimal(self.required(name), self.failing(name), sign)

    def optional_decimal(self, name: str, *, sign: Sign = Sign.ANY) -> Decimal | None:
        return self.decimal(name, sign=sign) if self.present(name) else None

    def rate(self, name: str) -> float:
        """A rate the venue sends as a decimal string, as a float (rates are not money)."""
        return float(self.decimal(name))

    def time(self, name: str) -> datetime:
        return to_time(self.required(name), self.failing(name))

    def optional_time(self, name: str) -> datetime | None:
        return self.time(name) if self.present(name) else None

    def address(self, name: str) -> str:
        """A 20-byte hex address, lower-cased."""
        return check_address(self.required(name), self.failing(name))

    def record(self, name: str) -> Record:
        return Record(self._where, self.required(name), prefix=f"{self._prefix}{name}.")

    def optional_record(self, name: str) -> Record | None:
        return self.record(name) if self.present(name) else None

    def items(self, name: str) -> list[object]:
        value = self.required(name)
        if not isinstance(value, list):
            raise self.error(name, f"must be a list, got {json_kind(value)}")
        return value


def check_address(value: object, fail: Callable[[str], HyperliquidFormatError]) -> str:
    """A 20-byte hex address, lower-cased."""
    if not isinstance(value, str) or not _ADDRESS.fullmatch(value):
        raise fail(f"must be a 0x-prefixed 40-digit hex address, got {_short(value)}")
    return value.lower()


def top_level_list(payload: object, what: str) -> list[object]:
    """The payload of a response that must be a JSON list."""
    if not isinstance(payload, list):
        raise HyperliquidFormatError(f"{what}: expected a JSON list, got {json_kind(payload)}")
    return payload

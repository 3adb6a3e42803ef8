"""Finding traders by what users call them: an address or a ``#public`` id."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Sequence

from db.rows import TraderRow
from resolvers.context import Context
from resolvers.errors import BadUserInputError

MAX_IDENTIFIER_LENGTH = 100
MAX_TRADERS_PER_FILTER = 100


def normalize_address(address: str) -> str:
    address = address.strip().lower()
    if not address or len(address) > MAX_IDENTIFIER_LENGTH:
        raise BadUserInputError(
            "`address` must be a non-empty account address of at most "
            f"{MAX_IDENTIFIER_LENGTH} characters",
            argument="address",
        )
    return address


def normalize_public_id(public_id: str) -> str:
    """``#38291`` and ``38291`` name the same trader."""
    digits = public_id.strip().removeprefix("#")
    if not digits.isdigit() or len(digits) > 20:
        raise BadUserInputError(
            f"`publicId` must look like #38291, got {public_id[:40]!r}", argument="publicId"
        )
    return f"#{digits}"


async def find_trader(
    context: Context, *, address: str | None, public_id: str | None
) -> TraderRow | None:
    """Exactly one of ``address`` and ``public_id``; an unknown trader is None, not an error."""
    if (address is None) == (public_id is None):
        raise BadUserInputError("pass exactly one of `address` and `publicId`")
    if address is not None:
        return await context.loaders.trader_by_address.load(normalize_address(address))
    assert public_id is not None
    return await context.loaders.trader_by_public_id.load(normalize_public_id(public_id))


async def find_trader_ids(context: Context, identifiers: Sequence[str]) -> tuple[int, ...]:
    """Trader ids for a list of addresses and/or public ids; unknown ones match nothing."""
    if len(identifiers) > MAX_TRADERS_PER_FILTER:
        raise BadUserInputError(
            f"at most {MAX_TRADERS_PER_FILTER} traders per filter, got {len(identifiers)}",
            argument="traders",
        )
    lookups: list[Awaitable[TraderRow | None]] = []
    for identifier in identifiers:
        text = identifier.strip()
        if text.startswith("#") or text.isdigit():
            lookups.append(context.loaders.trader_by_public_id.load(normalize_public_id(text)))
        else:
            lookups.append(context.loaders.trader_by_address.load(normalize_address(text)))
    found = await asyncio.gather(*lookups)
    return tuple(sorted({row.id for row in found if row is not None}))

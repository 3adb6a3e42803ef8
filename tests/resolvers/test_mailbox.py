"""The bounded mailbox behind every live reader."""

from __future__ import annotations

import asyncio

import pytest

from resolvers.mailbox import Mailbox, MailboxOverflowError


async def test_items_arrive_in_order_then_none_after_close() -> None:
    mailbox: Mailbox[int] = Mailbox(3)
    assert mailbox.offer(1)
    assert mailbox.offer(2)
    mailbox.close()
    assert not mailbox.offer(3)
    assert [await mailbox.get(), await mailbox.get(), await mailbox.get()] == [1, 2, None]


async def test_a_reader_that_falls_behind_is_dropped_at_once() -> None:
    dropped: list[str] = []
    mailbox: Mailbox[int] = Mailbox(2, lambda: dropped.append("now"))
    assert mailbox.offer(1)
    assert mailbox.offer(2)
    assert not mailbox.offer(3)
    assert dropped == ["now"]
    assert not mailbox.offer(4)
    assert dropped == ["now"]  # told once
    with pytest.raises(MailboxOverflowError):
        await mailbox.get()


async def test_a_waiting_reader_wakes_for_an_item_or_a_close() -> None:
    mailbox: Mailbox[int] = Mailbox(1)
    reader = asyncio.create_task(mailbox.get())
    await asyncio.sleep(0)
    mailbox.offer(7)
    assert await reader == 7
    reader = asyncio.create_task(mailbox.get())
    await asyncio.sleep(0)
    mailbox.close()
    assert await reader is None

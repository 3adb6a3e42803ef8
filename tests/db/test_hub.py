"""The LISTEN/NOTIFY hub against a real Postgres: fan-out, overflow, unsubscribe, reconnect."""

from __future__ import annotations

import asyncio
import json
import secrets
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

import psycopg
import pytest
from psycopg import AsyncConnection
from psycopg.rows import TupleRow

from db.embedded import EmbeddedPostgres
from db.hub import (
    Hub,
    HubClosedError,
    HubConnectError,
    HubEvent,
    HubMessage,
    Reconnected,
    SubscriberOverflowError,
    Subscription,
)
from tests.conftest import DatabaseFactory

TRADES = "perpgraph_trades"
BOARD = "perpgraph_leaderboard"

HubFactory = Callable[..., Awaitable[Hub]]


@pytest.fixture(scope="module")
def hub_url(make_database: DatabaseFactory) -> str:
    """A database of its own, so no other process's notifications reach these hubs."""
    return make_database.create("hub", migrate=False)


@pytest.fixture
async def make_hub(hub_url: str) -> AsyncIterator[HubFactory]:
    """Start hubs on ``hub_url``; every one is stopped after the test."""
    hubs: list[Hub] = []

    async def factory(**options: Any) -> Hub:
        hub = Hub(hub_url, **options)
        hubs.append(hub)
        await hub.start()
        return hub

    yield factory
    for hub in hubs:
        await hub.stop()


@pytest.fixture
async def sender(hub_url: str) -> AsyncIterator[AsyncConnection[TupleRow]]:
    """Another connection, playing the writer."""
    connection = await AsyncConnection.connect(hub_url, autocommit=True)
    yield connection
    await connection.close()


async def notify(connection: AsyncConnection[TupleRow], channel: str, *payloads: str) -> None:
    """Each payload in its own (autocommit) transaction, as the writer commits batches."""
    for payload in payloads:
        await connection.execute("SELECT pg_notify(%s, %s)", (channel, payload))


async def next_event(subscription: Subscription, within: float = 5.0) -> HubEvent:
    return await asyncio.wait_for(anext(subscription), within)


async def next_message(subscription: Subscription, within: float = 5.0) -> HubMessage:
    event = await next_event(subscription, within)
    assert isinstance(event, HubMessage), event
    return event


async def collect(subscription: Subscription, count: int) -> list[str]:
    return [(await next_message(subscription)).payload for _ in range(count)]


def trade_payload(first: int, last: int | None = None) -> str:
    return json.dumps({"first": first, "last": first if last is None else last})


async def test_notifications_reach_every_subscriber_of_their_channel_in_order(
    make_hub: HubFactory, sender: AsyncConnection[TupleRow]
) -> None:
    # given three trade subscribers and one leaderboard subscriber, and a heartbeat short
    # enough that the reader leaves and re-enters notifies() many times during the test
    hub = await make_hub(heartbeat=0.01)
    trades = [hub.subscribe(TRADES) for _ in range(3)]
    board = hub.subscribe(BOARD)
    assert hub.subscriber_count == 4
    assert hub.connected
    # when the writer commits batches, with payloads of every shape up to Postgres' limit
    payloads = [trade_payload(i, i + 9) for i in range(1, 400, 10)]
    payloads += ["ünïcödé ✓ 🚀", "x" * 7999, '{"first": 1, "last": 1}']
    for payload in payloads:
        await notify(sender, TRADES, payload)
        await asyncio.sleep(0.001)
    # then every trade subscriber gets all of them, intact and in commit order
    for subscription in trades:
        assert await collect(subscription, len(payloads)) == payloads
        assert subscription.pending == 0
    # and the leaderboard subscriber got none of them, only its own channel's
    assert board.pending == 0
    await notify(sender, BOARD, "2026-11-01T00:00:00+00:00")
    message = await next_message(board)
    assert message == HubMessage(BOARD, "2026-11-01T00:00:00+00:00", message.received_at)
    assert message.received_at <= time.monotonic()
    assert all(subscription.pending == 0 for subscription in trades)


async def test_a_rolled_back_notify_never_arrives(
    make_hub: HubFactory, sender: AsyncConnection[TupleRow]
) -> None:
    hub = await make_hub()
    subscription = hub.subscribe(TRADES)
    # given a NOTIFY inside a transaction that rolls back
    async with sender.transaction(force_rollback=True):
        await notify(sender, TRADES, trade_payload(1))
    # when a later transaction commits one
    await notify(sender, TRADES, trade_payload(2))
    # then only the committed one arrives
    assert await collect(subscription, 1) == [trade_payload(2)]
    await asyncio.sleep(0.1)
    assert subscription.pending == 0


async def test_many_subscribers_each_get_every_message(
    make_hub: HubFactory, sender: AsyncConnection[TupleRow]
) -> None:
    # given 500 subscribers, each read by its own task
    hub = await make_hub()
    subscribers, messages = 500, 200
    subscriptions = [hub.subscribe(TRADES) for _ in range(subscribers)]

    async def read_all(subscription: Subscription) -> tuple[list[HubMessage], float]:
        received: list[HubMessage] = []
        async for event in subscription:
            assert isinstance(event, HubMessage)
            received.append(event)
            if len(received) == messages:
                break
        return received, time.monotonic()

    readers = [asyncio.create_task(read_all(s)) for s in subscriptions]
    await asyncio.sleep(0)
    # when 200 notifications are committed in one transaction (they arrive as one burst)
    payloads = [trade_payload(i) for i in range(messages)]
    async with sender.transaction():
        await notify(sender, TRADES, *payloads)
    results = await asyncio.wait_for(asyncio.gather(*readers), 10.0)
    # then every subscriber got every message, in order
    for received, _ in results:
        assert [m.payload for m in received] == payloads
    deliveries = subscribers * messages
    first = results[0][0][0].received_at
    last_received = results[0][0][-1].received_at
    done = max(finished for _, finished in results)
    print(
        f"\nhub fan-out: {subscribers} subscribers x {messages} messages = {deliveries} "
        f"deliveries; fan-out {deliveries / max(last_received - first, 1e-9):,.0f}/s "
        f"({(last_received - first) * 1000:.1f} ms), delivered and read by every subscriber "
        f"task {deliveries / (done - first):,.0f}/s ({(done - first) * 1000:.1f} ms)"
    )
    assert hub.subscriber_count == subscribers


async def test_a_stalled_subscriber_overflows_without_delaying_the_others(
    make_hub: HubFactory, sender: AsyncConnection[TupleRow]
) -> None:
    # given a subscriber that never reads and one that reads as fast as it can
    hub = await make_hub(queue_size=10)
    stalled = hub.subscribe(TRADES)
    fast = hub.subscribe(TRADES)
    lags: list[float] = []

    async def read_fast(count: int) -> list[str]:
        payloads = []
        for _ in range(count):
            message = await next_message(fast)
            lags.append(time.monotonic() - message.received_at)
            payloads.append(message.payload)
        return payloads

    reader = asyncio.create_task(read_fast(50))
    # when 50 batches are committed, one after another, as a writer does
    payloads = [trade_payload(i) for i in range(1, 51)]
    for payload in payloads:
        await notify(sender, TRADES, payload)
        await asyncio.sleep(0.002)
    # then the fast one received all of them, each within moments of its arrival
    assert await reader == payloads
    print(f"\nfast subscriber beside a stalled one: max lag {max(lags) * 1000:.2f} ms")
    assert max(lags) < 0.25
    # and the stalled one overflowed on the 11th: dropped by the hub, its queue freed
    assert stalled.overflowed
    assert stalled.pending == 0
    assert hub.subscriber_count == 1
    # and its next read says so (without first replaying what had been queued)
    with pytest.raises(SubscriberOverflowError, match="fell behind") as raised:
        await next_event(stalled)
    assert "last cursor" in str(raised.value)
    assert raised.value.channel == TRADES
    assert raised.value.queue_size == 10
    # and it keeps saying so until it is closed; closing it then ends it quietly
    with pytest.raises(SubscriberOverflowError):
        await next_event(stalled)
    stalled.close()
    assert [event async for event in stalled] == []
    # and the fast subscriber still receives what comes next
    await notify(sender, TRADES, trade_payload(51))
    assert await collect(fast, 1) == [trade_payload(51)]


async def test_a_burst_larger_than_the_queue_reaches_a_reader_that_keeps_up(
    make_hub: HubFactory, sender: AsyncConnection[TupleRow]
) -> None:
    # given a queue of 10, a stalled subscriber, and one that reads without awaiting anything
    hub = await make_hub(queue_size=10)
    stalled = hub.subscribe(TRADES)
    fast = hub.subscribe(TRADES)

    async def read_all(count: int) -> list[str]:
        payloads: list[str] = []
        async for event in fast:
            assert isinstance(event, HubMessage)
            payloads.append(event.payload)
            if len(payloads) == count:
                break
        return payloads

    reader = asyncio.create_task(read_all(100))
    await asyncio.sleep(0)
    # when 100 notifications arrive at once (one transaction, one burst on the socket)
    payloads = [trade_payload(i) for i in range(100)]
    async with sender.transaction():
        await notify(sender, TRADES, *payloads)
    # then the hub let the reader drain as its queue filled: it got all 100, in order
    assert await asyncio.wait_for(reader, 5.0) == payloads
    assert not fast.overflowed
    assert stalled.overflowed


async def test_leaving_async_with_unsubscribes(
    make_hub: HubFactory, sender: AsyncConnection[TupleRow]
) -> None:
    hub = await make_hub()
    # given a subscription used as a context manager
    async with hub.subscribe(TRADES) as subscription:
        assert hub.subscriber_count == 1
        await notify(sender, TRADES, trade_payload(1))
        assert await collect(subscription, 1) == [trade_payload(1)]
    # then leaving the block unsubscribed it, even with messages left unread
    assert hub.subscriber_count == 0
    assert subscription.closed

    # and when the block is left by an exception too
    async def fail_inside() -> None:
        async with hub.subscribe(BOARD):
            assert hub.subscriber_count == 1
            raise KeyError

    with pytest.raises(KeyError):
        await fail_inside()
    assert hub.subscriber_count == 0
    # and close() is idempotent, and a closed subscription's iteration is over
    subscription.close()
    await notify(sender, TRADES, trade_payload(2))
    assert [event async for event in subscription] == []


async def test_a_reader_waiting_on_close_is_released(make_hub: HubFactory) -> None:
    hub = await make_hub()
    subscription = hub.subscribe(TRADES)
    reader = asyncio.create_task(anext(subscription))
    await asyncio.sleep(0.01)
    assert not reader.done()
    subscription.close()
    with pytest.raises(StopAsyncIteration):
        await asyncio.wait_for(reader, 1.0)
    assert hub.subscriber_count == 0


async def test_stop_ends_every_iteration_and_refuses_new_subscribers(
    make_hub: HubFactory, sender: AsyncConnection[TupleRow]
) -> None:
    # given readers waiting on both channels
    hub = await make_hub()
    subscriptions = [hub.subscribe(TRADES), hub.subscribe(TRADES), hub.subscribe(BOARD)]

    async def read_until_end(subscription: Subscription) -> list[HubEvent]:
        return [event async for event in subscription]

    readers = [asyncio.create_task(read_until_end(s)) for s in subscriptions]
    await notify(sender, TRADES, trade_payload(1))
    await asyncio.sleep(0.05)
    # when the hub stops
    await hub.stop()
    # then every iteration ends (after what was already delivered) and nothing is left over
    received = await asyncio.wait_for(asyncio.gather(*readers), 2.0)
    assert [[e.payload for e in r if isinstance(e, HubMessage)] for r in received] == [
        [trade_payload(1)],
        [trade_payload(1)],
        [],
    ]
    assert hub.subscriber_count == 0
    assert not hub.connected
    assert all(s.closed for s in subscriptions)
    # and the hub takes no new subscribers, and cannot start again
    with pytest.raises(HubClosedError):
        hub.subscribe(TRADES)
    with pytest.raises(HubClosedError):
        await hub.start()
    await hub.stop()  # idempotent


async def test_subscribing_to_a_channel_the_hub_does_not_hear_is_refused(
    make_hub: HubFactory,
) -> None:
    hub = await make_hub(channels=(TRADES,))
    with pytest.raises(ValueError, match="perpgraph_leaderboard"):
        hub.subscribe(BOARD)
    with pytest.raises(RuntimeError, match="already"):
        await hub.start()


async def listener_pids(connection: AsyncConnection[TupleRow], name: str) -> list[int]:
    cursor = await connection.execute(
        "SELECT pid FROM pg_stat_activity WHERE application_name = %s "
        "AND datname = current_database() AND pid <> pg_backend_pid()",
        (name,),
    )
    return [row[0] for row in await cursor.fetchall()]


async def wait_until(condition: Callable[[], bool], within: float = 5.0) -> None:
    deadline = time.monotonic() + within
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        await asyncio.sleep(0.005)


async def test_the_hub_reconnects_after_its_backend_is_terminated(
    make_hub: HubFactory, sender: AsyncConnection[TupleRow]
) -> None:
    # given a listening hub with subscribers on both channels
    name = f"perpgraph-hub-test-{secrets.token_hex(4)}"
    hub = await make_hub(application_name=name, reconnect_delays=(0.3, 0.3))
    early = [hub.subscribe(TRADES), hub.subscribe(TRADES), hub.subscribe(BOARD)]
    await notify(sender, TRADES, trade_payload(1))
    for subscription in early[:2]:
        assert await collect(subscription, 1) == [trade_payload(1)]
    [old_pid] = await listener_pids(sender, name)
    # when its Postgres backend is killed from another connection
    await sender.execute("SELECT pg_terminate_backend(%s)", (old_pid,))
    # then the hub notices, and a subscriber that joins while it is down ...
    await wait_until(lambda: not hub.connected)
    late = hub.subscribe(BOARD)
    assert not hub.connected
    # ... and every earlier one gets the Reconnected marker, once listening again
    for subscription in [*early, late]:
        event = await next_event(subscription)
        assert isinstance(event, Reconnected), event
        assert event.channel == subscription.channel
        assert event.disconnected_for >= 0.25
    assert hub.connected
    [new_pid] = await listener_pids(sender, name)
    assert new_pid != old_pid
    # and notifications committed after the reconnect arrive, on every channel
    await notify(sender, TRADES, trade_payload(2))
    await notify(sender, BOARD, "2026-11-02T00:00:00+00:00")
    for subscription in early[:2]:
        assert await collect(subscription, 1) == [trade_payload(2)]
    for subscription in (early[2], late):
        assert await collect(subscription, 1) == ["2026-11-02T00:00:00+00:00"]
    assert hub.subscriber_count == 4


async def test_start_against_an_unreachable_server_fails_fast() -> None:
    hub = Hub("postgresql://postgres:secret@127.0.0.1:1/x", reconnect_delays=(0.1,))
    started = time.monotonic()
    with pytest.raises(HubConnectError, match=r"127\.0\.0\.1:1/x") as raised:
        await hub.start()
    assert time.monotonic() - started < 3.0
    assert "secret" not in str(raised.value)
    assert isinstance(raised.value.__cause__, psycopg.OperationalError)
    assert not hub.connected
    # it holds nothing, so stopping it is harmless
    await hub.stop()


async def test_the_hub_rides_out_a_full_server_restart(cluster_dir: Path) -> None:
    # given a hub on a private embedded Postgres (its own cluster, so it can be restarted)
    server = EmbeddedPostgres(cluster_dir)
    url = await asyncio.to_thread(server.start)
    hub = Hub(url, reconnect_delays=(0.05, 0.1))
    try:
        await hub.start()
        subscription = hub.subscribe(TRADES)
        # when the server shuts down and stays down for a while
        await asyncio.to_thread(server.stop)
        await wait_until(lambda: not hub.connected)
        await asyncio.sleep(0.3)  # several reconnect attempts are refused meanwhile
        assert not hub.connected
        # and comes back
        restarted = EmbeddedPostgres(cluster_dir)
        assert await asyncio.to_thread(restarted.start) == url
        try:
            # then the subscriber is told to backfill, and live notifications flow again
            event = await next_event(subscription)
            assert isinstance(event, Reconnected)
            assert event.disconnected_for >= 0.3
            assert hub.connected
            async with await AsyncConnection.connect(url, autocommit=True) as sender:
                await notify(sender, TRADES, trade_payload(7))
            assert await collect(subscription, 1) == [trade_payload(7)]
        finally:
            await hub.stop()
            await asyncio.to_thread(restarted.stop)
    finally:
        await hub.stop()
        await asyncio.to_thread(server.stop)

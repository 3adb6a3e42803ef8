"""Follow a trader's position events live, resuming where it left off after a disconnect.

    python examples/subscribe.py ws://127.0.0.1:8000/graphql '#38291' [--max-events N]

Needs only the `websockets` package. The last cursor is kept in memory here; a real integrator
stores it (a file, a database row) so that even a restart resumes without a gap.
"""

from __future__ import annotations

import argparse
import asyncio
import json

import websockets

EVENTS = """
subscription Follow($trader: String!, $after: String) {
  positionEvents(filter: {traders: [$trader]}, after: $after) {
    cursor action
    trade { timestamp coin side size price realizedPnl }
    position { size entryPrice unrealizedPnl }
  }
}
"""


async def follow(url: str, trader: str, max_events: int | None) -> None:
    cursor = None  # the last event seen: resume from here after any disconnect
    seen = 0
    while max_events is None or seen < max_events:
        try:
            protocol = websockets.Subprotocol("graphql-transport-ws")
            async with websockets.connect(url, subprotocols=[protocol]) as socket:
                await socket.send(json.dumps({"type": "connection_init", "payload": {}}))
                await socket.recv()  # connection_ack
                variables = {"trader": trader, "after": cursor}
                await socket.send(
                    json.dumps(
                        {
                            "id": "1",
                            "type": "subscribe",
                            "payload": {"query": EVENTS, "variables": variables},
                        }
                    )
                )
                async for raw in socket:
                    message = json.loads(raw)
                    if message["type"] == "ping":
                        await socket.send(json.dumps({"type": "pong"}))
                    elif message["type"] == "next":
                        event = message["payload"]["data"]["positionEvents"]
                        cursor = event["cursor"]
                        trade = event["trade"]
                        print(
                            event["action"],
                            trade["coin"],
                            trade["side"],
                            trade["size"],
                            "@",
                            trade["price"],
                            flush=True,
                        )
                        seen += 1
                        if max_events is not None and seen >= max_events:
                            return
                    elif message["type"] in ("error", "complete"):
                        print("subscription ended:", message.get("payload"), flush=True)
                        return
        except (OSError, websockets.ConnectionClosed) as error:
            print(f"disconnected ({error}); resuming after {cursor}", flush=True)
            await asyncio.sleep(1)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("url")
    parser.add_argument("trader", help="address or public id")
    parser.add_argument("--max-events", type=int, default=None)
    arguments = parser.parse_args()
    asyncio.run(follow(arguments.url, arguments.trader, arguments.max_events))


if __name__ == "__main__":
    main()

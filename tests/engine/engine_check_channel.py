"""Run by tests/engine/test_channel.py under the engine's Python: the `sahay` input
channel's claims, with a stand-in for Rasa's message handler (prints JSON)."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import bot.engine.channel as channel
import bot.engine.turns as turns
from bot.engine.channel import SahayInput
from bot.engine.turns import MemoryClaims

results: dict[str, Any] = {}


class StandIn:
    """Rasa's handler: answers after `delay` seconds, or fails when told to."""

    def __init__(self) -> None:
        self.delay = 0.0
        self.fail = False
        self.handled: list[str] = []

    async def __call__(self, message: Any) -> None:
        await asyncio.sleep(self.delay)
        if self.fail:
            self.fail = False
            raise RuntimeError("the tracker store went away")
        self.handled.append(message.text)
        await message.output_channel.send_text_message(message.sender_id, f"re: {message.text}")


def answer(reply: Any) -> list[Any]:
    return [reply.status, json.loads(reply.body)]


async def nothing() -> bool:
    return False


async def main() -> None:
    handler = StandIn()
    sahay = SahayInput(MemoryClaims())

    stored: set[str] = set()  # refs the tracker store holds

    async def handle(message: Any) -> None:
        await handler(message)
        stored.add(message.metadata.get("sahay_ref", ""))

    async def turn(text: str, ref: str | None) -> list[Any]:
        metadata = {"sahay_ref": ref} if ref else {}

        async def in_tracker() -> bool:
            return ref in stored

        return answer(await sahay._turn(handle, "p1", text, metadata, ref, in_tracker=in_tracker))

    # A slow turn, and the gateway's retry of the same message while it runs.
    handler.delay = 0.3
    first = asyncio.ensure_future(turn("hello", "SM1"))
    await asyncio.sleep(0.05)
    results["while_running"] = await turn("hello", "SM1")
    results["first"] = await first
    handler.delay = 0.0
    results["after"] = await turn("hello", "SM1")
    results["handled_once"] = list(handler.handled)

    # A turn that fails before Rasa stored the message lets a retry run it.
    handler.handled.clear()
    handler.fail = True
    results["failed"] = await turn("again", "SM2")
    results["retried"] = await turn("again", "SM2")
    results["handled_after_failure"] = list(handler.handled)

    # Without a ref (nothing to claim) every request is a turn.
    handler.handled.clear()
    await turn("x", None)
    await turn("x", None)
    results["without_ref"] = list(handler.handled)

    # Two messages of one person at once: the second waits for the first to end.
    handler.handled.clear()
    running: dict[str, int] = {}
    most: dict[str, int] = {}

    async def counting(message: Any) -> None:
        person = message.sender_id
        running[person] = running.get(person, 0) + 1
        most[person] = max(most.get(person, 0), running[person])
        await asyncio.sleep(0.2)
        running[person] -= 1
        handler.handled.append(message.text)

    both = await asyncio.gather(
        sahay._turn(counting, "p2", "one", {"sahay_ref": "SMa"}, "SMa", in_tracker=nothing),
        sahay._turn(counting, "p2", "two", {"sahay_ref": "SMb"}, "SMb", in_tracker=nothing),
        sahay._turn(counting, "p3", "other", {"sahay_ref": "SMc"}, "SMc", in_tracker=nothing),
    )
    results["same_person"] = {
        "statuses": [reply.status for reply in both],
        "most_at_once": most,
        "handled": sorted(handler.handled),
    }

    # A turn Rasa's tracker store lost (its database was down: Rasa saved it in memory)
    # runs again when retried; once stored, it is not run again.
    handler.handled.clear()
    await turn("lost", "SM5")
    stored.discard("SM5")
    results["lost_turn_retried"] = await turn("lost", "SM5")
    results["then"] = await turn("lost", "SM5")
    results["handled_lost"] = list(handler.handled)

    # A turn longer than a claim's life keeps it by its heartbeat.
    turns.CLAIM_SECONDS = 0.2
    channel.HEARTBEAT_SECONDS = 0.05
    handler.handled.clear()
    handler.delay = 0.6
    long = asyncio.ensure_future(turn("long", "SM3"))
    await asyncio.sleep(0.45)
    results["long_turn_retry"] = await turn("long", "SM3")
    await long
    results["handled_long"] = list(handler.handled)

    # A replica that died mid-turn (a claim nobody renews) lets the message go.
    handler.delay = 0.0
    sahay.claims.claim("SM4")
    await asyncio.sleep(0.3)
    results["after_dead_claim"] = await turn("orphan", "SM4")


asyncio.run(main())
print(json.dumps(results))

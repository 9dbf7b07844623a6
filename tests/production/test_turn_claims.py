"""Claims that keep Rasa from processing one message twice (bot.engine.turns), in memory
and in Redis (a Redis server of the tests' own)."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest
import redis

import bot.engine.turns as turns
from bot.engine.turns import (
    DONE,
    RUNNING,
    Claims,
    MemoryClaims,
    RedisClaims,
    claims_from_environment,
)
from tests.production.conftest import PrivateRedis


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture(params=["memory", "redis"])
def claims(request: pytest.FixtureRequest) -> Iterator[Claims]:
    if request.param == "memory":
        yield MemoryClaims()
    else:
        server: PrivateRedis = request.getfixturevalue("private_redis")
        yield RedisClaims(redis.Redis.from_url(server.url))


def test_the_first_claim_wins_and_the_others_see_its_state(claims: Claims) -> None:
    ref = f"SM{uuid.uuid4().hex}"
    assert claims.claim(ref) is None
    assert claims.claim(ref) == RUNNING
    claims.finish(ref)
    assert claims.claim(ref) == DONE


def test_a_released_claim_can_be_taken_again(claims: Claims) -> None:
    ref = f"SM{uuid.uuid4().hex}"
    assert claims.claim(ref) is None
    claims.release(ref)
    assert claims.claim(ref) is None


def test_an_unrenewed_claim_expires_and_a_renewed_one_does_not() -> None:
    clock = Clock()
    claims = MemoryClaims(clock=clock)
    claims.claim("dead")
    claims.claim("alive")
    for _ in range(5):
        clock.now += turns.CLAIM_SECONDS / 2
        claims.renew("alive")
    assert claims.claim("dead") is None  # its replica died: the message may run again
    assert claims.claim("alive") == RUNNING


def test_a_done_claim_outlives_the_gateways_replay_window() -> None:
    clock = Clock()
    claims = MemoryClaims(clock=clock)
    claims.claim("SM1")
    claims.finish("SM1")
    clock.now += 6 * 3600 + 1  # bot.routing.retry.REPLAY_WINDOW
    assert claims.claim("SM1") == DONE


def test_redis_claims_expire_on_their_own(private_redis: PrivateRedis) -> None:
    client = redis.Redis.from_url(private_redis.url)
    claims = RedisClaims(client)
    ref = f"SM{uuid.uuid4().hex}"
    claims.claim(ref)
    assert 0 < int(client.ttl(turns.KEY_PREFIX + ref)) <= turns.CLAIM_SECONDS
    claims.finish(ref)
    assert int(client.ttl(turns.KEY_PREFIX + ref)) > 6 * 3600


def test_the_store_follows_rasas_lock_store(private_redis: PrivateRedis) -> None:
    assert isinstance(claims_from_environment({}), MemoryClaims)
    host, port = private_redis.url.removeprefix("redis://").split("/")[0].split(":")
    shared = claims_from_environment(
        {"LOCK_STORE_TYPE": "redis", "LOCK_STORE_HOST": host, "LOCK_STORE_PORT": port}
    )
    assert isinstance(shared, RedisClaims)
    ref = f"SM{uuid.uuid4().hex}"
    assert shared.claim(ref) is None
    assert RedisClaims(redis.Redis.from_url(private_redis.url)).claim(ref) == RUNNING


def test_only_a_done_claim_is_retaken_and_only_once(claims: Claims) -> None:
    ref = f"SM{uuid.uuid4().hex}"
    claims.claim(ref)
    assert claims.retake(ref) is False  # still running: not lost
    claims.finish(ref)
    assert claims.retake(ref) is True
    assert claims.retake(ref) is False  # someone retook it first
    assert claims.claim(ref) == RUNNING


def test_one_holder_per_sender_until_freed_by_its_holder(claims: Claims) -> None:
    sender = f"person-{uuid.uuid4().hex}"
    assert claims.hold_sender(sender, "a") is True
    assert claims.hold_sender(sender, "b") is False
    claims.free_sender(sender, "b")  # not b's to free
    assert claims.hold_sender(sender, "b") is False
    claims.renew_sender(sender, "a")
    claims.free_sender(sender, "a")
    assert claims.hold_sender(sender, "b") is True


def test_a_dead_holders_slot_expires() -> None:
    clock = Clock()
    claims = MemoryClaims(clock=clock)
    claims.hold_sender("p", "dead")
    clock.now += turns.CLAIM_SECONDS + 1
    assert claims.hold_sender("p", "next") is True

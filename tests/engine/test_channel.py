"""The engine's `sahay` input channel processes each message at most once."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.engine.conftest import run_in_engine


@pytest.fixture(scope="module")
def result() -> dict[str, Any]:
    return run_in_engine(Path(__file__).with_name("engine_check_channel.py"))


def test_a_retry_while_the_turn_runs_is_refused_then_told_it_was_processed(
    result: dict[str, Any],
) -> None:
    assert result["while_running"] == [409, {"status": "in_progress"}]
    assert result["first"] == [200, [{"recipient_id": "p1", "text": "re: hello"}]]
    assert result["after"] == [409, {"status": "processed"}]
    assert result["handled_once"] == ["hello"]


def test_a_failed_turn_can_be_retried(result: dict[str, Any]) -> None:
    assert result["failed"][0] == 500
    assert result["retried"][0] == 200
    assert result["handled_after_failure"] == ["again"]


def test_messages_without_a_ref_are_never_refused(result: dict[str, Any]) -> None:
    assert result["without_ref"] == ["x", "x"]


def test_a_heartbeat_keeps_a_long_turn_claimed(result: dict[str, Any]) -> None:
    assert result["long_turn_retry"] == [409, {"status": "in_progress"}]
    assert result["handled_long"] == ["long"]


def test_a_claim_nobody_renews_expires(result: dict[str, Any]) -> None:
    assert result["after_dead_claim"][0] == 200


def test_a_turn_the_tracker_store_lost_runs_again_once(result: dict[str, Any]) -> None:
    assert result["lost_turn_retried"][0] == 200
    assert result["then"] == [409, {"status": "processed"}]
    assert result["handled_lost"] == ["lost", "lost"]


def test_one_turn_per_person_at_a_time(result: dict[str, Any]) -> None:
    same = result["same_person"]
    assert same["statuses"] == [200, 200, 200]
    assert same["handled"] == ["one", "other", "two"]
    assert same["most_at_once"] == {"p2": 1, "p3": 1}

"""Sorting profile samples into areas, from made-up pyinstrument frame records."""

from __future__ import annotations

from bench.profiling import IDLE, OTHER, WORKER_THREADS, area_of, breakdown, merge_threads


def frame(function: str, path: str, line: int = 1) -> str:
    return f"{function}\x00{path}\x00{line}"


THREAD = "AnyIO worker thread\x00<thread>\x00140000000001"
HANDLER = [
    THREAD,
    frame("run", "/usr/lib/python3.11/threading.py"),
    frame("whatsapp_webhook", "/app/bot/channels/whatsapp.py"),
    frame("handle_inbound", "/app/bot/routing/service.py"),
]
RASA = [
    *HANDLER,
    frame("_answer", "/app/bot/routing/service.py"),
    frame("send", "/app/bot/rasa_client.py"),
    frame("post", "/venv/site-packages/httpx/_client.py"),
    frame("recv", "<built-in>", 0),
]
HANDOFF_QUERY = [
    *HANDLER,
    frame("request_handoff", "/app/bot/handoff/service.py"),
    frame("execute", "/venv/site-packages/sqlalchemy/orm/session.py"),
]
CRISIS = [*HANDLER, frame("assess", "/app/bot/safety/detector.py"), frame("search", "re.py")]
GLUE = [*HANDLER, frame("_answer", "/app/bot/routing/service.py")]
IDLE_UVLOOP = [
    frame("main", "/app/bench/profiled_gateway.py"),
    frame("run", "/py/asyncio/runners.py"),
]
BUSY_LOOP = [*IDLE_UVLOOP, frame("__call__", "/venv/site-packages/starlette/routing.py")]


def test_time_under_the_rasa_client_is_waiting_for_rasa() -> None:
    assert area_of(RASA).startswith("waiting for Rasa")


def test_the_innermost_area_wins() -> None:
    assert area_of(HANDOFF_QUERY).startswith("database")
    assert area_of(CRISIS) == "crisis detector"


def test_unclaimed_frames_are_other() -> None:
    assert area_of(GLUE) == OTHER
    assert area_of([]) == OTHER


def test_the_event_loop_is_idle_only_in_its_own_frame() -> None:
    assert area_of(IDLE_UVLOOP) == IDLE
    assert area_of(BUSY_LOOP) == OTHER


def test_breakdown_adds_seconds_per_area_largest_first() -> None:
    figures = breakdown([(RASA, 0.3), (CRISIS, 0.01), (RASA, 0.2), (HANDOFF_QUERY, 0.05)])
    assert list(figures.values()) == [0.5, 0.05, 0.01]
    assert next(iter(figures)).startswith("waiting for Rasa")


def test_worker_threads_are_merged_into_one_root() -> None:
    other_thread = ["AnyIO worker thread\x00<thread>\x00140000000002", *RASA[1:]]
    merged = merge_threads([(RASA, 0.1), (other_thread, 0.2), (IDLE_UVLOOP, 0.3)])
    assert merged[0] == ([WORKER_THREADS, *RASA[1:]], 0.1)
    assert merged[1][0] == merged[0][0]
    assert merged[2] == (IDLE_UVLOOP, 0.3)

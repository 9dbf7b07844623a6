"""Where the gateway's time goes: pyinstrument samples sorted into a few plain areas.

Pure functions over pyinstrument's frame records (a call stack, outermost first, and the
time it was seen for), so that they are tested without running a profiler.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

# (area, what a frame's file path or function contains). The innermost frame that belongs
# to an area takes the sample: a database query made by the handoff queue is database
# time, and a socket read under RasaClient (httpx is in no area) is time waiting for Rasa.
AREAS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("waiting for Rasa (HTTP to the REST channel or tracker API)", ("bot/rasa_client.py",)),
    ("crisis detector", ("bot/safety/",)),
    ("language detection and text folding", ("bot/routing/choices.py", "bot/language/")),
    ("encryption and phone hashing", ("bot/storage/crypto.py", "cryptography/")),
    ("handoff queue", ("bot/handoff/",)),
    ("reply texts", ("bot/responses.py",)),
    ("database (SQLAlchemy, SQLite)", ("sqlalchemy/", "sqlite3")),
    ("Twilio signature check", ("twilio/request_validator.py",)),
    ("TwiML", ("twilio/twiml",)),
)
OTHER = "other (framework, routing glue)"
IDLE = "event loop idle (waiting for requests)"
# Where the event loop's thread sits while it waits: in select() with asyncio's own loop,
# in the runner's frame with uvloop (its loop is C code, below Python's frames).
_IDLE_FILES = ("selectors.py", "asyncio/runners.py")


def frame_file(identifier: str) -> str:
    """The file path in a pyinstrument frame identifier ('function\\x00path\\x00line')."""
    parts = identifier.split("\x00")
    return parts[1] if len(parts) > 1 else identifier


def area_of(stack: Sequence[str]) -> str:
    """The area a sampled call stack (outermost frame first) belongs to (see AREAS)."""
    if stack and any(name in frame_file(stack[-1]) for name in _IDLE_FILES):
        return IDLE
    for identifier in reversed(stack):
        where = frame_file(identifier) + "\x00" + identifier.split("\x00", 1)[0]
        for area, needles in AREAS:
            if any(needle in where for needle in needles):
                return area
    return OTHER


def breakdown(records: Iterable[tuple[Sequence[str], float]]) -> dict[str, float]:
    """Seconds per area, largest first."""
    totals: dict[str, float] = {}
    for stack, seconds in records:
        area = area_of(stack)
        totals[area] = totals.get(area, 0.0) + seconds
    return dict(sorted(totals.items(), key=lambda item: -item[1]))


WORKER_THREADS = "worker threads (all)\x00<thread>\x000"


def merge_threads(
    records: Iterable[tuple[Sequence[str], float]],
) -> list[tuple[list[str], float]]:
    """The same samples with every thread's root frame made one, so that calls made in
    different worker threads add up in one tree instead of one tree per thread."""
    merged = []
    for stack, seconds in records:
        frames = list(stack)
        if frames and "\x00<thread>\x00" in frames[0]:
            frames[0] = WORKER_THREADS
        merged.append((frames, seconds))
    return merged

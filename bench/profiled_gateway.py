"""The gateway under pyinstrument, for one level of the benchmark (never in production).

    python -m bench.profiled_gateway --out-dir bench/results --port N [--skip-calls K]

FastAPI runs the WhatsApp handler (`handle_inbound`: database, crisis check, Rasa) in a
pool of worker threads, and pyinstrument samples one thread at a time; so every call of
the handler is profiled in its own thread and the calls are combined when the server
stops, beside a profile of the event loop's thread (HTTP, form parsing, signature check).
The first K calls (the benchmark's warm-up) are left out, and the event loop's profile
starts after them. Writes `profile-handler.txt`, `profile-handler.html`,
`profile-event-loop.txt` and `profile-breakdown.json` (seconds per area, see
`bench.profiling`).
"""

from __future__ import annotations

import argparse
import functools
import json
import signal
import threading
from pathlib import Path
from typing import Any

import uvicorn
from pyinstrument import Profiler
from pyinstrument.renderers import ConsoleRenderer, HTMLRenderer
from pyinstrument.session import Session

from bench.profiling import breakdown, merge_threads
from bot.channels import whatsapp
from bot.core.config import get_settings
from bot.main import create_app

INTERVAL_SECONDS = 0.001


class HandlerProfiles:
    """Profiles of every handler call after the first `skip`, made in whichever thread ran it."""

    def __init__(self, skip: int) -> None:
        self._lock = threading.Lock()
        self._skip = skip
        self.sessions: list[Session] = []
        self.warm = threading.Event()  # set once the skipped calls are done
        if skip <= 0:
            self.warm.set()

    def wrap(self, handler: Any) -> Any:
        """`handler`, profiled on every call once warm."""

        @functools.wraps(handler)
        def profiled(**kwargs: Any) -> Any:
            with self._lock:
                if self._skip > 0:
                    self._skip -= 1
                    if self._skip == 0:
                        self.warm.set()
                    skip = True
                else:
                    skip = False
            if skip:
                return handler(**kwargs)
            profiler = Profiler(interval=INTERVAL_SECONDS, async_mode="disabled")
            profiler.start()
            try:
                return handler(**kwargs)
            finally:
                session = profiler.stop()
                with self._lock:
                    self.sessions.append(session)

        return profiled

    def combined(self) -> Session | None:
        """All profiled calls as one session, worker threads merged (None without calls)."""
        with self._lock:
            sessions = list(self.sessions)
        if not sessions:
            return None
        return threads_merged(functools.reduce(Session.combine, sessions))


def threads_merged(session: Session) -> Session:
    """`session` with its worker threads' samples under one root."""
    return Session(
        frame_records=merge_threads(session.frame_records),
        start_time=session.start_time,
        duration=session.duration,
        min_interval=session.min_interval,
        max_interval=session.max_interval,
        sample_count=session.sample_count,
        start_call_stack=session.start_call_stack,
        target_description=session.target_description,
        cpu_time=session.cpu_time,
        sys_path=session.sys_path,
        sys_prefixes=session.sys_prefixes,
    )


class LoopProfile:
    """ASGI middleware: profiles the event loop's thread from the first request after warm-up."""

    def __init__(self, app: Any, warm: threading.Event) -> None:
        self.app = app
        self._warm = warm
        self.profiler = Profiler(interval=INTERVAL_SECONDS, async_mode="disabled")

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] == "http" and self._warm.is_set() and not self.profiler.is_running:
            self.profiler.start()
        await self.app(scope, receive, send)

    def stop(self) -> Session | None:
        """The loop's session, if profiling ever started."""
        return self.profiler.stop() if self.profiler.is_running else None


def write_profiles(out: Path, handler: Session | None, calls: int, loop: Session | None) -> None:
    """The text and HTML profiles and the per-area figures."""
    out.mkdir(parents=True, exist_ok=True)
    if handler is not None:
        text = ConsoleRenderer(unicode=True, color=False).render(handler)
        (out / "profile-handler.txt").write_text(
            f"# {calls} calls of handle_inbound, combined\n{text}", encoding="utf-8"
        )
        (out / "profile-handler.html").write_text(HTMLRenderer().render(handler), encoding="utf-8")
    if loop is not None:
        (out / "profile-event-loop.txt").write_text(
            ConsoleRenderer(unicode=True, color=False).render(loop), encoding="utf-8"
        )
    figures = {
        "handler": {
            "calls": calls,
            "seconds": handler.duration if handler else 0.0,
            "areas": breakdown(handler.frame_records) if handler else {},
        },
        "event_loop": {
            "seconds": loop.duration if loop else 0.0,
            "areas": breakdown(loop.frame_records) if loop else {},
        },
    }
    (out / "profile-breakdown.json").write_text(json.dumps(figures, indent=2), encoding="utf-8")


def main() -> None:
    """Serve the gateway until SIGTERM or Ctrl-C, then write the profiles."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out-dir", type=Path, required=True)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--skip-calls", type=int, default=0)
    args = parser.parse_args()

    profiles = HandlerProfiles(skip=args.skip_calls)
    # The webhook looks `handle_inbound` up in its module at each call.
    whatsapp.handle_inbound = profiles.wrap(whatsapp.handle_inbound)
    app = LoopProfile(create_app(get_settings()), profiles.warm)
    # uvicorn shuts down on SIGTERM, then raises the signal again under the handler it
    # found; a handler that returns lets the profiles below be written.
    signal.signal(signal.SIGTERM, lambda _signum, _frame: None)
    try:
        uvicorn.run(app, host=args.host, port=args.port, log_level="warning")
    finally:
        write_profiles(args.out_dir, profiles.combined(), len(profiles.sessions), app.stop())


if __name__ == "__main__":
    main()

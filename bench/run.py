"""`make bench`: start the helpline, sweep concurrency, write the report to bench/results/.

    .venv/bin/python -m bench --levels 1,5,20,50 --turns 200

Order of a run: start the helpline on free ports with a fresh database; warm up; for each
level, the gateway alone and a paired run (half the conversations straight to Rasa); the
profile level against a gateway restarted under pyinstrument; the crisis reply on its own
with Rasa running, then with Rasa stopped. Memory is sampled throughout.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import itertools
import json
import os
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from pathlib import Path

from bench.load import (
    GatewayTarget,
    LevelRun,
    RasaTarget,
    Target,
    TurnResult,
    only,
    play_alone,
    run_level,
)
from bench.memory import PeakMemory
from bench.plot import plot_levels
from bench.report import BenchReport, LevelFigures, ProfileFigures, render_markdown
from bench.scripts import (
    CRISIS_MESSAGES,
    Person,
    all_scripts,
    crisis_scripts,
    paired,
    people,
)
from bench.stats import Latency, LevelStats, level_stats, overhead
from bot.core.config import PROJECT_ROOT, get_settings
from bot.launcher import (
    ServiceCommand,
    service_commands,
    service_environment,
    start,
    stop,
    wait_until_ready,
)
from tests.conftest import TWILIO_TEST_TOKEN, Helpline, running_helpline

RESULTS = PROJECT_ROOT / "bench" / "results"
PROFILE_FILES = ("profile-handler.txt", "profile-handler.html", "profile-event-loop.txt")
PROFILER_STOP_SECONDS = 120.0


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    """The command line (see --help)."""
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__.splitlines()[0])
    parser.add_argument(
        "--levels", default="1,5,20,50", help="people talking at once, comma-separated"
    )
    parser.add_argument(
        "--turns",
        type=int,
        default=100,
        help="turns per run of a level (at least one whole conversation per person)",
    )
    parser.add_argument(
        "--level-seconds", type=float, default=25.0, help="no turn starts later than this"
    )
    parser.add_argument("--timeout", type=float, default=15.0, help="seconds before a timeout")
    parser.add_argument(
        "--crisis-messages", type=int, default=40, help="crisis messages on their own, each way"
    )
    parser.add_argument(
        "--profile-level", type=int, default=20, help="people for the profile (0: no profile)"
    )
    parser.add_argument("--out", type=Path, default=RESULTS, help="where the report goes")
    args = parser.parse_args(argv)
    try:
        args.levels = sorted({int(level) for level in args.levels.split(",") if level.strip()})
    except ValueError:
        parser.error("--levels takes numbers separated by commas, e.g. 1,5,20")
    if not args.levels or min(args.levels) < 1:
        parser.error("--levels needs at least one level, each 1 or more")
    if args.turns < 1 or args.level_seconds <= 0 or args.timeout <= 0:
        parser.error("--turns, --level-seconds and --timeout must be positive")
    if args.crisis_messages < 0 or args.profile_level < 0:
        parser.error("--crisis-messages and --profile-level cannot be negative")
    return args


def say(message: str) -> None:
    """Progress on stdout, as it happens."""
    print(message, flush=True)


def describe(run: LevelRun) -> str:
    """One progress line for a level."""
    stats = level_stats(run)
    lat = stats.latency
    return (
        f"  {run.target:<8} {run.level:>3} people: {stats.turns:>4} turns "
        f"in {run.elapsed_s:5.1f} s, "
        f"p50 {lat.p50:6.0f} ms, p95 {lat.p95:6.0f} ms, {stats.throughput:5.1f} turns/s, "
        f"{stats.failures} failed"
    )


def one_by_one(
    target: Target, line: Iterator[Person], count: int, timeout: float
) -> tuple[TurnResult, ...]:
    """`count` people from `line`, one after another."""
    return asyncio.run(
        play_alone(target, people=list(itertools.islice(line, count)), timeout=timeout)
    )


def alone(results: tuple[TurnResult, ...], target: str, seconds: float) -> LevelRun:
    """Results played one at a time, as a level of one."""
    return LevelRun(target=target, level=1, elapsed_s=seconds, results=results)


def restart_gateway(helpline: Helpline, command: ServiceCommand) -> None:
    """Replace the running gateway with `command`, on the same port, and wait for it."""
    stop_gateway(helpline)
    helpline.processes["gateway"] = start(command, log_dir=helpline.logs)
    if not wait_until_ready(helpline.url, list(helpline.processes.values())):
        raise RuntimeError(f"the gateway did not come back; see {helpline.logs}/gateway.log")


def stop_gateway(helpline: Helpline) -> None:
    """SIGTERM the gateway and let it finish (the profiler writes its files on the way out)."""
    process = helpline.processes["gateway"]
    if process.poll() is None:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=PROFILER_STOP_SECONDS)
        except subprocess.TimeoutExpired:
            stop([process])


def profiled_command(helpline: Helpline, out: Path, *, skip_calls: int) -> ServiceCommand:
    """The gateway under pyinstrument (bench.profiled_gateway), same settings and port."""
    settings = helpline.settings
    return ServiceCommand(
        "gateway",
        [
            sys.executable,
            "-m",
            "bench.profiled_gateway",
            "--out-dir",
            str(out),
            "--host",
            settings.gateway_host,
            "--port",
            str(settings.gateway_port),
            "--skip-calls",
            str(skip_calls),
        ],
        service_environment(settings),
    )


def read_profile(out: Path, level: int) -> ProfileFigures | None:
    """The figures bench.profiled_gateway wrote, if it wrote them."""
    path = out / "profile-breakdown.json"
    if not path.exists():
        return None
    data = json.loads(path.read_text(encoding="utf-8"))
    return ProfileFigures(
        level=level,
        calls=int(data["handler"]["calls"]),
        handler_seconds=float(data["handler"]["seconds"]),
        handler_areas={k: float(v) for k, v in data["handler"]["areas"].items()},
        loop_seconds=float(data["event_loop"]["seconds"]),
        loop_areas={k: float(v) for k, v in data["event_loop"]["areas"].items()},
        files=tuple(name for name in PROFILE_FILES if (out / name).exists()),
    )


def warm_up(
    targets: tuple[Target, ...], line: Iterator[Person], count: int, timeout: float
) -> None:
    """`count` people through each target, unmeasured: first-use costs are paid here."""
    for target in targets:
        one_by_one(target, line, count, timeout)


def sweep(
    gateway: GatewayTarget,
    rasa: RasaTarget,
    line: Iterator[Person],
    paired_line: Iterator[Person],
    args: argparse.Namespace,
) -> list[LevelFigures]:
    """Every level twice, with new people each time: the gateway alone, then paired.

    The gateway-alone run gives its latency, throughput and failures at that many people.
    In the paired run the same number of people talk at once, each conversation going to
    the gateway or straight to Rasa in turn, so that both meet the same moments of a
    shared machine's drifting load: the gateway's overhead is read from that run. Which
    of the two runs goes first alternates from one level to the next.
    """
    levels = []
    for index, level in enumerate(args.levels):
        say(f"Level {level}:")
        plan: list[Target | tuple[Target, ...]] = [gateway, (gateway, rasa)]
        runs = {}
        for target in plan if index % 2 == 0 else reversed(plan):
            run = play_level(
                target, level, paired_line if isinstance(target, tuple) else line, args
            )
            runs[run.target] = run
            say(describe(run))
        paired = runs["gateway+rasa"]
        paired_gateway, paired_rasa = only(paired, "gateway"), only(paired, "rasa")
        levels.append(
            LevelFigures(
                level=level,
                gateway=level_stats(runs["gateway"]),
                rasa=level_stats(paired_rasa),
                overhead=overhead(paired_gateway, paired_rasa),
                gateway_crisis=Latency.of(r for r in runs["gateway"].results if r.path == "crisis"),
                paired_throughput=level_stats(paired).throughput,
            )
        )
    return levels


def play_level(
    target: Target | tuple[Target, ...],
    level: int,
    line: Iterator[Person],
    args: argparse.Namespace,
) -> LevelRun:
    """One level against one target (or paired targets), bounded as the command line says."""
    return asyncio.run(
        run_level(
            target,
            level=level,
            people=line,
            turns=args.turns,
            max_seconds=args.level_seconds,
            timeout=args.timeout,
        )
    )


def profile_level(
    helpline: Helpline,
    gateway: GatewayTarget,
    line: Iterator[Person],
    args: argparse.Namespace,
    *,
    warm_up_people: int,
) -> ProfileFigures | None:
    """Run the profile level against a gateway restarted under pyinstrument, then restore it."""
    normal = next(c for c in service_commands(helpline.settings) if c.name == "gateway")
    warm = list(itertools.islice(line, warm_up_people))
    skip = sum(len(person.script.turns) for person in warm)
    restart_gateway(helpline, profiled_command(helpline, args.out, skip_calls=skip))
    asyncio.run(play_alone(gateway, people=warm, timeout=args.timeout))
    say(describe(play_level(gateway, args.profile_level, line, args)))
    stop_gateway(helpline)
    restart_gateway(helpline, normal)
    return read_profile(args.out, args.profile_level)


def crisis_alone(
    gateway: GatewayTarget, line: Iterator[Person], args: argparse.Namespace
) -> LevelStats:
    """Crisis messages one at a time, each from a new person."""
    started = time.perf_counter()
    results = one_by_one(gateway, line, args.crisis_messages, args.timeout)
    return level_stats(alone(results, "gateway", time.perf_counter() - started))


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark; 0 when the report was written (targets met or not)."""
    args = parse_args(argv)
    if not Path(get_settings().model_path).exists():
        say(f"No trained model at {get_settings().model_path}: run `make train` first.")
        return 2
    args.out.mkdir(parents=True, exist_ok=True)
    for stale in (*PROFILE_FILES, "profile-breakdown.json"):
        (args.out / stale).unlink(missing_ok=True)
    began = time.monotonic()
    started_at = dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC")
    load_before = os.getloadavg()
    scripts = all_scripts()
    numbers = itertools.count(1)  # one count for every line: no phone number twice
    line = people(scripts, numbers=numbers)
    paired_line = people(paired(scripts), numbers=numbers)
    crisis_line = people(crisis_scripts(), numbers=numbers)
    crisis_up = crisis_stopped = profile = None
    profiling = threading.Event()

    with tempfile.TemporaryDirectory(prefix="sahay-bench-") as tmp:
        say(f"Starting the helpline (fresh database in {tmp})…")
        with running_helpline(Path(tmp)) as helpline:

            def pids() -> dict[str, tuple[int, bool]]:
                # The helpline's processes are this one's children: count them apart.
                found = {"load generator (this process)": (os.getpid(), False)}
                for name, process in helpline.processes.items():
                    if process.poll() is None:
                        profiled = profiling.is_set() and name == "gateway"
                        found[f"{name} (under the profiler)" if profiled else name] = (
                            process.pid,
                            True,
                        )
                return found

            gateway = GatewayTarget(helpline.url, auth_token=TWILIO_TEST_TOKEN)
            rasa = RasaTarget(helpline.settings.rasa_url)
            with PeakMemory(pids) as memory:
                say("Warming up: every script once through each target…")
                warm_up((rasa, gateway), line, len(scripts), args.timeout)
                levels = sweep(gateway, rasa, line, paired_line, args)
                if args.profile_level:
                    say(f"Profile: {args.profile_level} people, gateway under pyinstrument…")
                    profiling.set()
                    profile = profile_level(
                        helpline, gateway, line, args, warm_up_people=len(scripts)
                    )
                    profiling.clear()
                    # Only crisis messages follow: warm the restarted gateway with those.
                    warm_up((gateway,), crisis_line, len(CRISIS_MESSAGES), args.timeout)
                if args.crisis_messages:
                    say(f"{args.crisis_messages} crisis messages on their own, Rasa running…")
                    crisis_up = crisis_alone(gateway, crisis_line, args)
                    say("Stopping Rasa; the crisis messages again…")
                    stop([helpline.processes.pop("rasa")])
                    crisis_stopped = crisis_alone(gateway, crisis_line, args)
            memory_mb = {name: peak / 2**20 for name, peak in memory.peaks.items()}

    report = BenchReport(
        started_at=started_at,
        command=" ".join(["python -m bench", *(argv if argv is not None else sys.argv[1:])]),
        duration_s=time.monotonic() - began,
        cpu_count=os.cpu_count() or 0,
        load_before=load_before,
        load_after=os.getloadavg(),
        scripts=tuple(s.name for s in scripts),
        timeout_s=args.timeout,
        levels=tuple(levels),
        crisis_rasa_up=crisis_up,
        crisis_rasa_stopped=crisis_stopped,
        memory_mb=memory_mb,
        profile=profile,
        plot="latency.png",
        notes=(
            f"Turn budget {args.turns} per run of a level, at most "
            f"{args.level_seconds:.0f} s each; {args.crisis_messages} crisis messages each way.",
        ),
    )
    plot_levels(report.levels, args.out / "latency.png", subtitle=started_at)
    summary = render_markdown(report)
    (args.out / "summary.md").write_text(summary, encoding="utf-8")
    say("\n" + summary)
    say(f"Report: {args.out / 'summary.md'}")
    return 0

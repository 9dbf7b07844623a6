"""The markdown summary of a run: targets, tables, memory, and where the time goes.

Pure: a `BenchReport` of figures in, markdown out, so that it is tested with fixed numbers.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

from bench.profiling import IDLE
from bench.stats import Latency, LevelStats, Overhead, saturation_level

TARGET_OVERHEAD_RATIO = 1.15  # the gateway's turn at most 15 % slower than Rasa's own
TARGET_P95_LEVEL = 20
TARGET_P95_MS = 300.0
TARGET_CRISIS_P95_MS = 50.0


@dataclass(frozen=True)
class LevelFigures:
    """One concurrency level: the gateway alone, and the paired run.

    Attributes:
        gateway: the gateway-alone run.
        rasa: the turns sent straight to Rasa in the paired run.
        overhead: gateway against Rasa on the Rasa-bound turns of the paired run.
        gateway_crisis: the crisis turns of the gateway-alone run (answered without Rasa).
        paired_throughput: answered turns per second of the paired run, both halves.
    """

    level: int
    gateway: LevelStats
    rasa: LevelStats
    overhead: Overhead
    gateway_crisis: Latency
    paired_throughput: float = math.nan


@dataclass(frozen=True)
class ProfileFigures:
    """The profile of one level: seconds per area of the handler and of the event loop."""

    level: int
    calls: int
    handler_seconds: float
    handler_areas: dict[str, float]
    loop_seconds: float
    loop_areas: dict[str, float]
    files: tuple[str, ...] = ()


@dataclass(frozen=True)
class BenchReport:
    """Everything one run measured."""

    started_at: str
    command: str
    duration_s: float
    cpu_count: int
    load_before: tuple[float, float, float]
    load_after: tuple[float, float, float]
    scripts: tuple[str, ...]
    timeout_s: float
    levels: tuple[LevelFigures, ...]
    crisis_rasa_up: LevelStats | None = None
    crisis_rasa_stopped: LevelStats | None = None
    memory_mb: dict[str, float] = field(default_factory=dict)
    profile: ProfileFigures | None = None
    plot: str | None = None
    notes: tuple[str, ...] = ()


@dataclass(frozen=True)
class TargetCheck:
    """One of the issue's targets: met, missed, or not measured (None), and why."""

    name: str
    met: bool | None
    detail: str


def _ms(value: float) -> str:
    return "–" if math.isnan(value) else f"{value:.0f}"


def _ratio(value: float) -> str:
    return "–" if math.isnan(value) else f"{value:.2f}"


def check_targets(report: BenchReport) -> list[TargetCheck]:
    """The issue's four targets against this run's figures."""
    checks = []
    ratios = [(f.level, f.overhead.ratio_p50) for f in report.levels]
    known = [(level, ratio) for level, ratio in ratios if not math.isnan(ratio)]
    over = [f"{level}: {ratio:.2f}" for level, ratio in known if ratio > TARGET_OVERHEAD_RATIO]
    checks.append(
        TargetCheck(
            f"gateway overhead ≤ {TARGET_OVERHEAD_RATIO - 1:.0%} of the direct Rasa turn "
            "at every level (median, turns passed to Rasa)",
            (not over) if known and len(known) == len(ratios) else None,
            ", ".join(f"{level}: {_ratio(ratio)}" for level, ratio in ratios)
            + (f" — over at {'; '.join(over)}" if over else ""),
        )
    )
    at_target = [f for f in report.levels if f.level == TARGET_P95_LEVEL]
    if at_target:
        p95 = at_target[0].gateway.latency.p95
        checks.append(
            TargetCheck(
                f"p95 turn latency ≤ {TARGET_P95_MS:.0f} ms at {TARGET_P95_LEVEL} people",
                None if math.isnan(p95) else p95 <= TARGET_P95_MS,
                f"gateway p95 {_ms(p95)} ms (Rasa direct {_ms(at_target[0].rasa.latency.p95)} ms)",
            )
        )
    else:
        checks.append(
            TargetCheck(
                f"p95 turn latency ≤ {TARGET_P95_MS:.0f} ms at {TARGET_P95_LEVEL} people",
                None,
                f"level {TARGET_P95_LEVEL} was not run",
            )
        )
    checks.append(_failures_check(report))
    stopped = report.crisis_rasa_stopped
    if stopped is None or stopped.latency.count == 0:
        checks.append(
            TargetCheck(
                f"crisis reply p95 ≤ {TARGET_CRISIS_P95_MS:.0f} ms with Rasa stopped",
                None,
                "not measured",
            )
        )
    else:
        p95 = stopped.latency.p95
        checks.append(
            TargetCheck(
                f"crisis reply p95 ≤ {TARGET_CRISIS_P95_MS:.0f} ms with Rasa stopped",
                p95 <= TARGET_CRISIS_P95_MS and stopped.failures == 0,
                f"p95 {_ms(p95)} ms over {stopped.turns} messages, "
                f"{stopped.turns - stopped.failures} with the crisis reply (14416)",
            )
        )
    return checks


def _failures_check(report: BenchReport) -> TargetCheck:
    gateway = [f.gateway for f in report.levels]
    saturated = saturation_level(gateway)
    limit = saturated if saturated is not None else max((s.level for s in gateway), default=0)
    before = [s for s in gateway if s.level <= limit]
    after = [s for s in gateway if s.level > limit]
    failing = [f"{s.level}: {s.failures}" for s in before if s.failures]
    rough = [f"{s.level}: {s.server_errors + s.lost}" for s in after if s.server_errors + s.lost]
    where = (
        f"throughput stops growing at {saturated} people"
        if saturated is not None
        else "throughput grew at every level (no saturation seen)"
    )
    detail = where
    if failing:
        detail += f"; failed turns up to it at {', '.join(failing)}"
    if rough:
        detail += f"; 5xx or lost messages past it at {', '.join(rough)}"
    timeouts = sum(s.timeouts for s in after)
    if timeouts:
        detail += f"; {timeouts} timeouts past it"
    return TargetCheck(
        "zero errors up to saturation, no 5xx and no lost message past it",
        None if not gateway else not failing and not rough,
        detail,
    )


def _status(met: bool | None) -> str:
    return {True: "**met**", False: "**missed**", None: "not measured"}[met]


def render_markdown(report: BenchReport) -> str:
    """The summary written to bench/results/summary.md."""
    lines = [
        "# Sahay under load: the gateway beside plain Rasa",
        "",
        f"Made by `{report.command}` on {report.started_at} in {report.duration_s:.0f} s.",
        "",
        f"**Noise warning**: a {report.cpu_count}-core machine shared with other developers "
        f"while this ran; load average {_load(report.load_before)} before and "
        f"{_load(report.load_after)} after (1, 5, 15 min). Figures move from run to run; "
        "compare ratios measured in the same run rather than absolute times across runs.",
        "",
        "## Targets",
        "",
        "| target | result | figures |",
        "|---|---|---|",
    ]
    checks = check_targets(report)
    lines += [f"| {c.name} | {_status(c.met)} | {c.detail} |" for c in checks]
    lines += ["", *_level_table(report)]
    if report.plot:
        lines += ["", f"![latency against concurrency]({report.plot})"]
    lines += ["", *_crisis_section(report), "", *_memory_section(report)]
    lines += ["", *_profile_section(report)]
    missed = [c for c in checks if c.met is False]
    if missed:
        lines += ["", *_missed_section(report, missed)]
    lines += ["", *_method_section(report)]
    return "\n".join(lines) + "\n"


def _load(values: tuple[float, float, float]) -> str:
    return " / ".join(f"{v:.2f}" for v in values)


def _level_table(report: BenchReport) -> list[str]:
    lines = [
        "## Turn latency per level",
        "",
        "Milliseconds from sending a message until its whole answer arrived. Each level "
        "runs twice with new people. *Gateway*: everyone through the gateway. *Paired*: "
        "as many people at once, each conversation going through the gateway or straight "
        "to Rasa's REST channel in turn, so both meet the same moments of the shared "
        "machine; *overhead* compares the paired run's turns that the gateway passes to "
        "Rasa with the same turns sent to Rasa directly (median and p95 ratios). *Crisis* "
        "is the gateway's crisis turns in the mix, answered without Rasa.",
        "",
        "| people | turns (gateway / Rasa direct) | gateway p50 / p95 / p99 "
        "| paired: Rasa direct p50 / p95 / p99 | overhead p50 · p95 | added p50 "
        "| gateway turns/s | paired turns/s | errors (5xx) · timeouts · lost | crisis p95 |",
        "|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for f in report.levels:
        g, r = f.gateway, f.rasa
        lines.append(
            f"| {f.level} | {g.turns} / {r.turns} "
            f"| {_ms(g.latency.p50)} / {_ms(g.latency.p95)} / {_ms(g.latency.p99)} "
            f"| {_ms(r.latency.p50)} / {_ms(r.latency.p95)} / {_ms(r.latency.p99)} "
            f"| {_ratio(f.overhead.ratio_p50)} · {_ratio(f.overhead.ratio_p95)} "
            f"| {f.overhead.added_ms:+.0f} ms "
            f"| {g.throughput:.1f} | {f.paired_throughput:.1f} "
            f"| {g.errors + g.wrong} ({g.server_errors}) · {g.timeouts} · {g.lost} "
            f"| {_ms(f.gateway_crisis.p95)} |"
        )
    rasa_odd = [f for f in report.levels if f.rasa.failures]
    if rasa_odd:
        lines += [
            "",
            "Rasa direct, same turns (paired runs): "
            + "; ".join(
                f"at {f.level}, {f.rasa.errors} errors, {f.rasa.timeouts} timeouts, "
                f"{f.rasa.lost} empty answers, {f.rasa.wrong} crisis messages answered "
                "without a crisis helpline number"
                for f in rasa_odd
            )
            + ". (Mid-screening, Rasa's form reads a crisis message as an unclear answer: "
            "the gateway's own crisis detector is what catches it.)",
        ]
    return lines


def _crisis_section(report: BenchReport) -> list[str]:
    lines = [
        "## The crisis reply on its own",
        "",
        "One crisis message at a time, each from a new person, in several languages and "
        "scripts; first with Rasa running, then after stopping the Rasa process.",
        "",
        "| Rasa | messages | p50 | p95 | p99 | max | with the crisis reply (14416) |",
        "|---|---:|---:|---:|---:|---:|---:|",
    ]
    for label, stats in (
        ("running", report.crisis_rasa_up),
        ("stopped", report.crisis_rasa_stopped),
    ):
        if stats is None:
            lines.append(f"| {label} | – | – | – | – | – | not measured |")
            continue
        lat = stats.latency
        lines.append(
            f"| {label} | {stats.turns} | {_ms(lat.p50)} | {_ms(lat.p95)} | {_ms(lat.p99)} "
            f"| {_ms(lat.max)} | {stats.turns - stats.failures} of {stats.turns} |"
        )
    return lines


def _memory_section(report: BenchReport) -> list[str]:
    lines = ["## Peak memory (RSS, process and its children, sampled every 0.25 s)", ""]
    if not report.memory_mb:
        return [*lines, "Not measured."]
    lines += ["| process | peak MB |", "|---|---:|"]
    lines += [f"| {name} | {mb:.0f} |" for name, mb in report.memory_mb.items()]
    return lines


def _profile_section(report: BenchReport) -> list[str]:
    profile = report.profile
    lines = ["## Where the gateway's time goes"]
    if profile is None:
        return [*lines, "", "No profile this run."]
    per_call = 1000 * profile.handler_seconds / profile.calls if profile.calls else math.nan
    lines += [
        "",
        f"pyinstrument, at {profile.level} people, on a second run of that level against "
        "a gateway restarted under the profiler (not the timed one). "
        f"`handle_inbound` — store, crisis check, routing, Rasa, store the answer — ran "
        f"{profile.calls} times, {_ms(per_call)} ms per call on average:",
        "",
        "| area | share of the handler | ms per call |",
        "|---|---:|---:|",
    ]
    total = sum(profile.handler_areas.values()) or math.nan
    for area, seconds in profile.handler_areas.items():
        lines.append(
            f"| {area} | {seconds / total:.0%} | {1000 * seconds / max(1, profile.calls):.1f} |"
        )
    loop_total = sum(profile.loop_areas.values())
    idle = profile.loop_areas.get(IDLE, 0.0)
    if loop_total:
        busy = [
            f"{area} {seconds / loop_total:.0%}"
            for area, seconds in profile.loop_areas.items()
            if area != IDLE and seconds / loop_total >= 0.01
        ]
        lines += [
            "",
            f"The event loop's thread (HTTP, form parsing, signature check) was idle "
            f"{idle / loop_total:.0%} of the time; busy with: {', '.join(busy) or 'nothing much'}.",
        ]
    if profile.files:
        lines += [
            "",
            "Full profiles: "
            + ", ".join(f"[{f}]({f})" for f in profile.files)
            + " (HTML is interactive and git-ignored: open the one your run wrote).",
        ]
    return lines


def _outside_rasa(profile: ProfileFigures) -> list[tuple[str, float]]:
    """Milliseconds per call in each area other than waiting for Rasa, largest first."""
    return [
        (area, 1000 * seconds / max(1, profile.calls))
        for area, seconds in profile.handler_areas.items()
        if not area.startswith("waiting for Rasa")
    ]


def _missed_section(report: BenchReport, missed: list[TargetCheck]) -> list[str]:
    lines = ["## Missed targets: where the time goes", ""]
    profile = report.profile
    outside = _outside_rasa(profile) if profile else []
    outside_text = ", ".join(f"{area} {ms:.1f} ms" for area, ms in outside[:5])
    for check in missed:
        if check.name.startswith("gateway overhead"):
            added = ", ".join(f"{f.level}: {f.overhead.added_ms:+.0f} ms" for f in report.levels)
            lines.append(
                f"- **Overhead.** Added to the median Rasa-bound turn per level: {added}. "
                + (
                    f"Per handler call the gateway's own work outside Rasa was: {outside_text} "
                    f"(profile at {profile.level} people)."
                    if profile
                    else "No profile was taken."
                )
            )
        elif check.name.startswith("p95"):
            at = next(f for f in report.levels if f.level == TARGET_P95_LEVEL)
            lines.append(
                f"- **p95 at {TARGET_P95_LEVEL} people.** Rasa direct already takes "
                f"{_ms(at.rasa.latency.p95)} ms at p95 at this level, the gateway "
                f"{_ms(at.gateway.latency.p95)} ms: most of the turn is Rasa (NLU, policies, "
                "the action server and its tracker store) on a shared 2-core machine."
                + (f" The gateway's own part per call: {outside_text}." if outside else "")
                + _littles_law(report)
            )
        elif check.name.startswith("zero errors"):
            lines.append(f"- **Failures.** {check.detail}.")
        elif check.name.startswith("crisis"):
            lines.append(
                f"- **Crisis reply with Rasa stopped.** {check.detail}. The crisis path "
                "never waits for Rasa; what it does is the database work of storing the "
                "message, opening the urgent handoff and storing the reply"
                + (f" (per call in the profile: {outside_text})" if outside else "")
                + "."
            )
    return lines


def _littles_law(report: BenchReport) -> str:
    """Why no gateway can meet the p95 target when Rasa's throughput is what it is."""
    best = max(
        (max(f.gateway.throughput, f.paired_throughput) for f in report.levels),
        default=math.nan,
    )
    if not best > 0:
        return ""
    needed = TARGET_P95_LEVEL / (TARGET_P95_MS / 1000)
    return (
        f" With {TARGET_P95_LEVEL} people each writing again as soon as they are answered, "
        f"the average turn lasts {TARGET_P95_LEVEL} ÷ throughput (Little's law): the "
        f"helpline answered at most {best:.1f} turns/s here, so no turn mix at {TARGET_P95_LEVEL} "
        f"people can average under {1000 * TARGET_P95_LEVEL / best:.0f} ms. A p95 of "
        f"{TARGET_P95_MS:.0f} ms needs Rasa to answer well over {needed:.0f} turns/s, "
        f"{needed / best:.0f} times what it manages on this machine: more Rasa replicas "
        "(ARCHITECTURE.md: stateless replicas, Redis lock store) or more cores."
    )


def _method_section(report: BenchReport) -> list[str]:
    return [
        "## How it was measured",
        "",
        "- The whole helpline (Rasa with the trained model, the action server, the gateway) "
        "started as `make run` starts it, on free loopback ports, with a fresh SQLite app "
        "database and tracker store in a temporary folder (the embedded default).",
        "- Simulated people, each with a distinct phone number, play whole conversations "
        f"({', '.join(report.scripts)}): greeting, language choice, an entitlement "
        "question, then a short screening ending in a crisis message, or a second "
        "question and a request for a human; one writes about a crisis straight after "
        "the greeting. Each waits for the answer before writing "
        "again, at once: N people keep N messages in flight all the time (a closed loop "
        "without typing time, heavier than N people typing), new people replacing those "
        "done.",
        "- Gateway turns are Twilio WhatsApp webhooks signed with twilio's "
        "`RequestValidator` algorithm; turns straight to Rasa go to its REST channel "
        "(`/webhooks/rest/webhook`) with the same metadata, as the gateway would send "
        "them (a menu number becomes its payload), from other senders. Which run of a "
        "level goes first alternates from one level to the next.",
        f"- A turn that takes more than {report.timeout_s:.0f} s (Twilio's webhook limit) is "
        "a timeout. *Lost* is an answer without any message; a crisis turn answered "
        "without the crisis helpline number counts as an error.",
        "- Warm-up: every script once through each target before the first level.",
        *[f"- {note}" for note in report.notes],
    ]

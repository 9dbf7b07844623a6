"""Latency of Rasa's /model/parse over the held-out NLU files (a benchmark, not a test).

Starts the Rasa server with the trained model on a free port, warms it up, then parses
every held-out message once, one at a time, and writes p50 / p95 / p99 to a report.

    .venv/bin/python scripts/bench_nlu.py --model models/sahay.tar.gz --out docs/nlu-bench.md
"""

from __future__ import annotations

import argparse
import platform
import socket
import statistics
import sys
import time
from pathlib import Path

import httpx
import yaml

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from bot.core.config import get_settings
from bot.launcher import service_commands, start, stop

TARGET_P95_MS = 40.0
_ANNOTATION = __import__("re").compile(r"\[([^\]]+)\](\{[^}]*\}|\([^)]*\))")


def held_out_texts(folder: Path) -> list[str]:
    """Every example line of tests/nlu/*.yml, entity annotations removed."""
    texts = []
    for path in sorted(folder.glob("*.yml")):
        for block in yaml.safe_load(path.read_text(encoding="utf-8")).get("nlu", []):
            for line in str(block.get("examples", "")).splitlines():
                line = line.strip()
                if line.startswith("- "):
                    texts.append(_ANNOTATION.sub(r"\1", line[2:]))
    return texts


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default="models/sahay.tar.gz")
    parser.add_argument("--tests", default="tests/nlu")
    parser.add_argument("--out", default="docs/nlu-bench.md")
    args = parser.parse_args()

    settings = get_settings().model_copy(
        update={"rasa_port": free_port(), "model_path": str(Path(args.model).resolve())}
    )
    rasa = next(c for c in service_commands(settings) if c.name == "rasa")
    process = start(rasa, log_dir=Path("var/bench-nlu"))
    url = f"http://127.0.0.1:{settings.rasa_port}"
    texts = held_out_texts(Path(args.tests))
    try:
        deadline = time.monotonic() + 180
        with httpx.Client(base_url=url, timeout=30) as client:
            while True:
                try:
                    if (
                        client.get("/status", params={"token": settings.rasa_token}).status_code
                        == 200
                    ):
                        break
                except httpx.HTTPError:
                    pass
                if time.monotonic() > deadline or process.poll() is not None:
                    print("Rasa did not start; see var/bench-nlu/rasa.log", file=sys.stderr)
                    return 1
                time.sleep(0.5)
            params = {"token": settings.rasa_token}
            for text in texts[:50]:  # warm-up
                client.post("/model/parse", json={"text": text}, params=params)
            latencies = []
            for text in texts:
                started = time.perf_counter()
                client.post("/model/parse", json={"text": text}, params=params).raise_for_status()
                latencies.append(1000 * (time.perf_counter() - started))
    finally:
        stop([process])

    p50, p95, p99 = (percentile(latencies, q) for q in (0.50, 0.95, 0.99))
    report = "\n".join(
        [
            "# NLU parse latency",
            "",
            "Made by `make bench-nlu` (scripts/bench_nlu.py): the Rasa server with the trained "
            "model, `/model/parse` over HTTP on loopback, every held-out message of "
            "`tests/nlu/` once, one request at a time, after 50 warm-up requests.",
            "",
            f"- machine: {platform.machine()}, {platform.python_implementation()} "
            f"(Rasa on CPython 3.10), 2 cores",
            f"- messages: {len(latencies)}",
            f"- p50 {p50:.1f} ms · p95 {p95:.1f} ms · p99 {p99:.1f} ms · "
            f"mean {statistics.mean(latencies):.1f} ms · max {max(latencies):.1f} ms",
            f"- target p95 < {TARGET_P95_MS:.0f} ms: {'met' if p95 < TARGET_P95_MS else 'NOT met'}",
            "",
        ]
    )
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(report, encoding="utf-8")
    print(report)
    return 0


if __name__ == "__main__":
    sys.exit(main())

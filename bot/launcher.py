"""Start the whole helpline — Rasa server, action server, gateway — and stop it cleanly.

`make run` calls `python -m bot.launcher`. The integration tests use the same
`service_commands` so that they start exactly what a developer starts.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import httpx

from bot.core.addresses import for_rasa, redis_address
from bot.core.config import PROJECT_ROOT, Settings, get_settings

STOP_GRACE_SECONDS = 10.0
READY_TIMEOUT_SECONDS = 180.0


@dataclass(frozen=True)
class ServiceCommand:
    """One process of the helpline: its name, command line and environment."""

    name: str
    argv: list[str]
    env: dict[str, str]


def tracker_dialect(url: str) -> str:
    """Rasa's `dialect` for a SQLAlchemy address ('postgresql+psycopg2://' -> 'postgresql')."""
    return url.split("://", 1)[0].split("+", 1)[0]


def lock_store_environment(redis_url: str) -> dict[str, str]:
    """endpoints.yml's lock store: Redis when REDIS_URL is set, in memory otherwise."""
    if not redis_url:
        return {
            "LOCK_STORE_TYPE": "in_memory",
            "LOCK_STORE_HOST": "",
            "LOCK_STORE_PORT": "6379",
            "LOCK_STORE_DB": "0",
            "LOCK_STORE_PASSWORD": "",
            "LOCK_STORE_PREFIX": "",
        }
    address = redis_address(redis_url)
    return {
        "LOCK_STORE_TYPE": "redis",
        "LOCK_STORE_HOST": address.host,
        "LOCK_STORE_PORT": str(address.port),
        "LOCK_STORE_DB": str(address.db),
        "LOCK_STORE_PASSWORD": address.password,
        "LOCK_STORE_PREFIX": "sahay",
    }


def service_environment(settings: Settings) -> dict[str, str]:
    """The environment every process gets: the settings, resolved, as variables."""
    env = dict(os.environ)
    # Every setting, resolved (development secrets included), under its variable name.
    for name, field in Settings.model_fields.items():
        value = getattr(settings, name)
        if field.alias and value is not None:
            env[field.alias] = str(value)
    env.update(
        {
            # endpoints.yml reads these; Rasa has no default syntax for ${VAR}.
            "TRACKER_DIALECT": tracker_dialect(settings.tracker_url),
            "TRACKER_URL": for_rasa(settings.tracker_url),
            "TRACKER_DB": "rasa",
            "PYTHONPATH": str(PROJECT_ROOT),
            **lock_store_environment(settings.redis_url),
        }
    )
    # Rasa holds a person's lock this long at most: a replica killed mid-turn blocks that
    # person until then (Rasa's default is 60 s; no healthy turn takes this long).
    env.setdefault("TICKET_LOCK_LIFETIME", "30")
    env.pop("VIRTUAL_ENV", None)
    return env


def service_commands(settings: Settings) -> list[ServiceCommand]:
    """The three processes, in start order."""
    env = service_environment(settings)
    app_python = sys.executable
    return [
        ServiceCommand(
            "actions",
            [
                app_python,
                "-m",
                "rasa_sdk",
                "--actions",
                "actions",
                "--port",
                str(settings.action_server_port),
            ],
            env,
        ),
        ServiceCommand(
            "rasa",
            [
                settings.engine_python,
                "-m",
                "rasa",
                "run",
                "--enable-api",
                # One argument, so that a token starting with "-" is not read as an option.
                f"--auth-token={settings.rasa_token}",
                "--model",
                settings.model_path,
                "--endpoints",
                "endpoints.yml",
                "--credentials",
                "credentials.yml",
                "--interface",
                "127.0.0.1",
                "--port",
                str(settings.rasa_port),
            ],
            env,
        ),
        ServiceCommand(
            "gateway",
            [
                app_python,
                "-m",
                "uvicorn",
                "bot.main:create_app",
                "--factory",
                "--host",
                settings.gateway_host,
                "--port",
                str(settings.gateway_port),
            ],
            env,
        ),
    ]


def start(command: ServiceCommand, log_dir: Path | None = None) -> subprocess.Popen[bytes]:
    """Start one process in its own process group, so that stopping it stops its children."""
    output = None
    if log_dir is not None:
        log_dir.mkdir(parents=True, exist_ok=True)
        output = (log_dir / f"{command.name}.log").open("ab")
    return subprocess.Popen(
        command.argv,
        env=command.env,
        cwd=PROJECT_ROOT,
        stdout=output,
        stderr=subprocess.STDOUT if output else None,
        start_new_session=True,
    )


def stop(processes: list[subprocess.Popen[bytes]]) -> None:
    """SIGTERM every process group, wait, then SIGKILL whatever is left."""
    for process in processes:
        if process.poll() is None:
            _signal_group(process, signal.SIGTERM)
    deadline = time.monotonic() + STOP_GRACE_SECONDS
    for process in processes:
        try:
            process.wait(timeout=max(0.1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            _signal_group(process, signal.SIGKILL)
            process.wait()


def _signal_group(process: subprocess.Popen[bytes], signum: int) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signum)


def wait_until_ready(gateway_url: str, processes: list[subprocess.Popen[bytes]]) -> bool:
    """Poll the gateway's /readyz until everything answers, a process dies, or time runs out."""
    deadline = time.monotonic() + READY_TIMEOUT_SECONDS
    while time.monotonic() < deadline:
        if any(process.poll() is not None for process in processes):
            return False
        try:
            if httpx.get(f"{gateway_url}/readyz", timeout=2).status_code == 200:
                return True
        except httpx.HTTPError:
            pass
        time.sleep(1)
    return False


def main() -> int:
    """Run the helpline in the foreground until Ctrl-C."""
    settings = get_settings()
    if not Path(settings.model_path).exists():
        print(f"No trained model at {settings.model_path}: run `make train`.", file=sys.stderr)
        return 2
    processes = [start(command) for command in service_commands(settings)]

    def _stop_on_signal(signum: int, _frame: object) -> None:
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, _stop_on_signal)
    gateway = f"http://{settings.gateway_host}:{settings.gateway_port}"
    try:
        if wait_until_ready(gateway, processes):
            print(f"\nSahay is running. Chat with it at {gateway}/simulator  (Ctrl-C stops)\n")
            print(f"Twilio WhatsApp webhook: {gateway}/twilio/whatsapp", flush=True)
        else:
            print("Sahay did not become ready; see the logs above.", file=sys.stderr)
            return 1
        while all(process.poll() is None for process in processes):
            time.sleep(0.5)
        print("A Sahay process stopped; stopping the others.", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("\nStopping Sahay…", flush=True)
        return 0
    finally:
        # A second Ctrl-C (or make passing the signal on) must not cut the stop short and
        # leave processes behind.
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        stop(processes)


if __name__ == "__main__":
    sys.exit(main())

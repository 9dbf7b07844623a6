"""The production shape on one machine: several gateway and Rasa replicas behind balancers.

`make run-prod` calls `python -m bot.cluster`. It uses this machine's PostgreSQL (two
databases it creates when missing: the app's and Rasa's tracker store) and Redis (Rasa's
lock store, console change notices, rate limits), then starts

    balancer :GATEWAY_PORT  ->  gateway replicas :GATEWAY_PORT+1, +2, ...
    balancer :RASA_PORT     ->  Rasa replicas    :RASA_PORT+1, +2, ...
    action server :ACTION_SERVER_PORT

The gateways talk to Rasa through its balancer, so that a Rasa replica can die or be
restarted without a gateway noticing more than one slow turn. The fault tests start the
same processes (`cluster_commands`) on free ports.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import signal
import subprocess
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import httpx
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from bot.core.addresses import for_app
from bot.core.config import PROJECT_ROOT, Settings
from bot.launcher import ServiceCommand, service_commands, service_environment, start, stop
from bot.storage.db import migrate

DEFAULT_POSTGRES = "postgresql+psycopg://postgres@127.0.0.1:5432"
DEFAULT_REDIS = "redis://127.0.0.1:6379/2"
READY_TIMEOUT_SECONDS = 240.0


@dataclass(frozen=True)
class Topology:
    """Where each process of the cluster listens."""

    balancer_port: int
    gateway_ports: list[int]
    rasa_balancer_port: int
    rasa_ports: list[int]
    action_port: int
    host: str = "127.0.0.1"
    # Where the action server itself listens, when something (a proxy) stands at
    # action_port in front of it; None: at action_port.
    action_listen_port: int | None = None

    @classmethod
    def around(cls, settings: Settings, *, gateways: int = 2, rasas: int = 2) -> Topology:
        """Balancers on the usual ports, replicas on the ports just above them."""
        return cls(
            balancer_port=settings.gateway_port,
            gateway_ports=[settings.gateway_port + 1 + i for i in range(gateways)],
            rasa_balancer_port=settings.rasa_port,
            rasa_ports=[settings.rasa_port + 1 + i for i in range(rasas)],
            action_port=settings.action_server_port,
        )

    @property
    def public_url(self) -> str:
        """The address people (and Twilio, through a tunnel) reach."""
        return f"http://{self.host}:{self.balancer_port}"


@dataclass
class Cluster:
    """The running processes, by name ("gateway-1", "rasa-2", ...)."""

    topology: Topology
    processes: dict[str, subprocess.Popen[bytes]] = field(default_factory=dict)
    commands: dict[str, ServiceCommand] = field(default_factory=dict)
    log_dir: Path | None = None

    def restart(self, name: str) -> None:
        """Start a process again with its original command (after it died or was killed)."""
        self.processes[name] = start(self.commands[name], log_dir=self.log_dir)

    def kill(self, name: str) -> None:
        """Kill one process (and its children) at once, as a crash would."""
        process = self.processes[name]
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
        process.wait()

    def stop(self) -> None:
        """Stop everything."""
        stop(list(self.processes.values()))


def cluster_commands(settings: Settings, topology: Topology) -> list[ServiceCommand]:
    """Every process of the cluster, in start order (dependencies first)."""
    rasa_balancer = f"http://{topology.host}:{topology.rasa_balancer_port}"
    action_url = f"http://{topology.host}:{topology.action_port}"
    shared = settings.model_copy(
        update={
            "rasa_url": rasa_balancer,
            "action_server_url": action_url,
            "action_server_port": topology.action_port,
        }
    )
    commands: list[ServiceCommand] = []
    listen = shared.model_copy(
        update={"action_server_port": topology.action_listen_port or topology.action_port}
    )
    commands.append({c.name: c for c in service_commands(listen)}["actions"])
    for index, port in enumerate(topology.rasa_ports, start=1):
        replica = shared.model_copy(update={"rasa_port": port})
        rasa = {c.name: c for c in service_commands(replica)}["rasa"]
        commands.append(ServiceCommand(f"rasa-{index}", rasa.argv, rasa.env))
    commands.append(
        _balancer_command(
            "rasa-balancer", topology.rasa_balancer_port, topology.rasa_ports, "/", shared
        )
    )
    for index, port in enumerate(topology.gateway_ports, start=1):
        replica = shared.model_copy(update={"gateway_port": port})
        gateway = {c.name: c for c in service_commands(replica)}["gateway"]
        env = gateway.env | {"SAHAY_REPLICA": f"gateway-{index}"}
        commands.append(ServiceCommand(f"gateway-{index}", gateway.argv, env))
    commands.append(
        _balancer_command(
            "balancer", topology.balancer_port, topology.gateway_ports, "/healthz", shared
        )
    )
    return commands


def _balancer_command(
    name: str, port: int, upstreams: list[int], health: str, settings: Settings
) -> ServiceCommand:
    argv = [sys.executable, "-m", "bot.balancer", "--port", str(port), "--health", health]
    for upstream in upstreams:
        argv += ["--upstream", f"http://127.0.0.1:{upstream}"]
    return ServiceCommand(name, argv, service_environment(settings))


def ensure_database(url: str) -> None:
    """Create the PostgreSQL database `url` names when it does not exist yet."""
    address = make_url(for_app(url))
    if not address.drivername.startswith("postgresql"):
        return
    name = address.database
    admin = create_engine(address.set(database="postgres"), isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as connection:
            exists = connection.execute(
                text("SELECT 1 FROM pg_database WHERE datname = :name"), {"name": name}
            ).scalar()
            if not exists:
                connection.execute(text(f'CREATE DATABASE "{name}"'))
    finally:
        admin.dispose()


def start_cluster(settings: Settings, topology: Topology, *, log_dir: Path | None) -> Cluster:
    """Migrate the app database once, then start every process."""
    ensure_database(settings.database_url)
    ensure_database(settings.tracker_url)
    migrate(for_app(settings.database_url))
    cluster = Cluster(topology=topology, log_dir=log_dir)
    for command in cluster_commands(settings, topology):
        cluster.commands[command.name] = command
        cluster.processes[command.name] = start(command, log_dir=log_dir)
    return cluster


def wait_until_ready(cluster: Cluster, timeout: float = READY_TIMEOUT_SECONDS) -> bool:
    """Every gateway replica ready (database, Rasa through its balancer, action server)."""
    deadline = time.monotonic() + timeout
    pending = [f"http://127.0.0.1:{port}/readyz" for port in cluster.topology.gateway_ports]
    rasas = [f"http://127.0.0.1:{port}/" for port in cluster.topology.rasa_ports]
    pending += rasas
    while pending and time.monotonic() < deadline:
        if any(process.poll() is not None for process in cluster.processes.values()):
            return False
        still = []
        for url in pending:
            try:
                if httpx.get(url, timeout=2).status_code != 200:
                    still.append(url)
            except httpx.HTTPError:
                still.append(url)
        pending = still
        if pending:
            time.sleep(1)
    return not pending


def production_settings() -> Settings:
    """Settings for `make run-prod`: this machine's PostgreSQL and Redis unless set."""
    os.environ.setdefault("DATABASE_URL", f"{DEFAULT_POSTGRES}/sahay")
    os.environ.setdefault("TRACKER_URL", f"{DEFAULT_POSTGRES}/sahay_tracker")
    os.environ.setdefault("REDIS_URL", DEFAULT_REDIS)
    return Settings()  # type: ignore[call-arg]


def main(argv: Sequence[str] | None = None) -> int:
    """Run the cluster in the foreground until Ctrl-C."""
    parser = argparse.ArgumentParser(prog="python -m bot.cluster")
    parser.add_argument("--gateways", type=int, default=2)
    parser.add_argument("--rasas", type=int, default=2)
    args = parser.parse_args(argv)
    settings = production_settings()
    if not Path(settings.model_path).exists():
        print(f"No trained model at {settings.model_path}: run `make train`.", file=sys.stderr)
        return 2
    topology = Topology.around(settings, gateways=args.gateways, rasas=args.rasas)
    log_dir = PROJECT_ROOT / "var" / "cluster-logs"
    try:
        cluster = start_cluster(settings, topology, log_dir=log_dir)
    except Exception as error:  # a clear sentence, not a traceback, for a missing server
        print(f"Could not prepare the databases: {error}", file=sys.stderr)
        return 1

    def _stop_on_signal(signum: int, _frame: object) -> None:
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, _stop_on_signal)
    try:
        if not wait_until_ready(cluster):
            print(f"The cluster did not become ready; logs in {log_dir}", file=sys.stderr)
            return 1
        print(f"\nSahay (production shape) at {topology.public_url}/simulator  (Ctrl-C stops)")
        print(f"  gateways {topology.gateway_ports}, Rasa {topology.rasa_ports}, logs {log_dir}")
        print(f"  balancer status: {topology.public_url}/_balancer\n", flush=True)
        while True:
            for name, process in list(cluster.processes.items()):
                if process.poll() is not None:
                    print(f"{name} stopped (exit {process.returncode}); restarting it", flush=True)
                    cluster.restart(name)
            time.sleep(1)
    except KeyboardInterrupt:
        print("\nStopping Sahay…", flush=True)
        return 0
    finally:
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        cluster.stop()


if __name__ == "__main__":
    sys.exit(main())

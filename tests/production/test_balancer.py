"""The local balancer: round robin, failover without sending a request twice, streams."""

from __future__ import annotations

import asyncio
import itertools
import socket
import threading
from collections.abc import AsyncIterator, Iterator

import httpx
import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response, StreamingResponse
from starlette.routing import Route

from bot.balancer import Balancer, Upstream, create_balancer_app
from tests.production.servers import ThreadServer, serving


def replica(name: str, seen: list[str]) -> Starlette:
    async def hello(request: Request) -> Response:
        seen.append(f"{name} {request.method} {(await request.body()).decode()}")
        response = PlainTextResponse(f"{name} {request.headers.get('host')}")
        response.set_cookie("a", "1")
        response.set_cookie("b", "2")
        return response

    async def health(_request: Request) -> Response:
        return PlainTextResponse("ok")

    async def stream(_request: Request) -> Response:
        async def events() -> AsyncIterator[bytes]:
            for i in range(3):
                yield f"data: {i}\n\n".encode()
                await asyncio.sleep(0.05)

        return StreamingResponse(events(), media_type="text/event-stream")

    return Starlette(
        routes=[
            Route("/healthz", health),
            Route("/hello", hello, methods=["GET", "POST"]),
            Route("/stream", stream),
        ]
    )


@pytest.fixture
def two_replicas() -> Iterator[tuple[ThreadServer, ThreadServer, list[str]]]:
    seen: list[str] = []
    with serving(replica("one", seen)) as one, serving(replica("two", seen)) as two:
        yield one, two, seen


def test_round_robin_keeps_host_and_repeated_headers(two_replicas) -> None:  # type: ignore[no-untyped-def]
    one, two, seen = two_replicas
    balancer = Balancer([Upstream(one.url), Upstream(two.url)], interval=0.2)
    with (
        serving(create_balancer_app(balancer)) as front,
        httpx.Client(base_url=front.url) as client,
    ):
        answers = [client.post("/hello", content=f"m{i}").text.split()[0] for i in range(4)]
        response = client.get("/hello", headers={"host": "sahay.example.org"})
    assert sorted(answers) == ["one", "one", "two", "two"]
    assert response.text.endswith("sahay.example.org")  # Twilio signs the public address
    assert response.headers.get_list("set-cookie") == [
        "a=1; Path=/; SameSite=lax",
        "b=2; Path=/; SameSite=lax",
    ]
    assert len(seen) == 5


def test_a_dead_replica_is_skipped_and_no_request_is_lost_or_doubled(two_replicas) -> None:  # type: ignore[no-untyped-def]
    one, two, seen = two_replicas
    balancer = Balancer([Upstream(one.url), Upstream(two.url)], interval=0.2)
    with (
        serving(create_balancer_app(balancer)) as front,
        httpx.Client(base_url=front.url) as client,
    ):
        one.stop()  # killed between two health checks
        answers = [client.post("/hello", content=f"m{i}") for i in range(6)]
        status = client.get("/_balancer").json()
    assert [a.status_code for a in answers] == [200] * 6
    assert all(a.text.startswith("two") for a in answers)
    assert sorted(s.split()[-1] for s in seen) == [f"m{i}" for i in range(6)]
    assert status["upstreams"][0]["healthy"] is False


def test_a_request_that_reached_a_failing_replica_is_not_retried(two_replicas) -> None:  # type: ignore[no-untyped-def]
    _, two, seen = two_replicas
    # A replica that takes the request and dies before answering.
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen()
    received: list[bytes] = []

    def crash_after_reading() -> None:
        while True:
            try:
                connection, _ = listener.accept()
            except OSError:
                return
            received.append(connection.recv(65536))
            connection.close()

    threading.Thread(target=crash_after_reading, daemon=True).start()
    dying = f"http://127.0.0.1:{listener.getsockname()[1]}"
    # No health checks: the dying replica looks healthy and its turn comes first.
    balancer = Balancer([Upstream(dying), Upstream(two.url)], health_path="")
    balancer._cursor = itertools.count(0)
    with serving(create_balancer_app(balancer)) as front:
        response = httpx.post(f"{front.url}/hello", content="once")
    listener.close()
    assert response.status_code == 502
    assert any(request.startswith(b"POST /hello") for request in received)
    assert seen == []  # not sent a second time to the healthy replica


def test_no_replica_left_is_a_clear_503() -> None:
    balancer = Balancer([Upstream("http://127.0.0.1:9")], interval=0.2)
    with serving(create_balancer_app(balancer)) as front:
        response = httpx.post(f"{front.url}/hello", content="x")
    assert response.status_code == 503
    assert response.json() == {"detail": "no replica available"}


def test_streams_pass_through(two_replicas) -> None:  # type: ignore[no-untyped-def]
    one, two, _ = two_replicas
    balancer = Balancer([Upstream(one.url), Upstream(two.url)], interval=0.2)
    with (
        serving(create_balancer_app(balancer)) as front,
        httpx.stream("GET", f"{front.url}/stream") as stream,
    ):
        chunks = list(stream.iter_text())
    assert "".join(chunks) == "data: 0\n\ndata: 1\n\ndata: 2\n\n"

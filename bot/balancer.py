"""A small HTTP load balancer for running several replicas on one machine (`make run-prod`).

Round robin over the upstreams that passed their last health check. A request that could
not be delivered (connection refused or timed out while connecting) is tried on the next
replica, so killing a replica loses nothing that had not reached it; a request that
reached a replica which then failed is answered 502, never sent twice (it may have been
processed). Streams (server-sent events) pass through unbuffered. The Host header is kept,
so that Twilio's signatures, computed on the public address, still check out behind it.

In production a real load balancer (a cloud one, nginx, Traefik, Kubernetes' Service)
takes this place; this one exists so that the multi-replica shape runs and is tested on a
machine without them.

    python -m bot.balancer --port 8000 --upstream http://127.0.0.1:8101 \\
        --upstream http://127.0.0.1:8102 --health /healthz
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import itertools
import logging
import sys
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass, field

import httpx
from starlette.applications import Starlette
from starlette.background import BackgroundTask
from starlette.requests import Request
from starlette.responses import JSONResponse, Response, StreamingResponse
from starlette.routing import Route

log = logging.getLogger("sahay.balancer")

# Hop-by-hop headers (RFC 9110 section 7.6.1) are the proxy's own business.
_HOP_BY_HOP = {
    "connection",
    "keep-alive",
    "proxy-authenticate",
    "proxy-authorization",
    "te",
    "trailer",
    "transfer-encoding",
    "upgrade",
    "content-length",
}


@dataclass
class Upstream:
    """One replica and what the balancer last learnt about it."""

    url: str
    healthy: bool = True
    failures: int = 0
    served: int = 0


@dataclass
class Balancer:
    """The replicas, the round-robin cursor and the health-check loop."""

    upstreams: list[Upstream]
    health_path: str = "/healthz"
    interval: float = 1.0
    connect_timeout: float = 2.0
    _cursor: itertools.count[int] = field(default_factory=itertools.count)
    _client: httpx.AsyncClient | None = None

    def candidates(self) -> list[Upstream]:
        """Healthy replicas first, starting at the next in turn; then the others, as a
        last resort (a health check may simply not have run since a replica came back)."""
        start = next(self._cursor) % len(self.upstreams)
        turn = self.upstreams[start:] + self.upstreams[:start]
        return [u for u in turn if u.healthy] + [u for u in turn if not u.healthy]

    async def check(self, client: httpx.AsyncClient) -> None:
        """Probe every replica once."""

        async def probe(upstream: Upstream) -> None:
            try:
                response = await client.get(upstream.url + self.health_path, timeout=2.0)
                ok = response.status_code < 500
            except httpx.HTTPError:
                ok = False
            if ok != upstream.healthy:
                log.warning("%s is %s", upstream.url, "back" if ok else "down")
            upstream.healthy = ok

        await asyncio.gather(*(probe(upstream) for upstream in self.upstreams))

    async def health_loop(self, client: httpx.AsyncClient) -> None:
        """Probe the replicas once an interval, for ever (never, without a health path)."""
        while self.health_path:
            await self.check(client)
            await asyncio.sleep(self.interval)


def create_balancer_app(balancer: Balancer) -> Starlette:
    """The proxy as an ASGI app."""

    @contextlib.asynccontextmanager
    async def lifespan(_app: Starlette) -> AsyncIterator[None]:
        timeout = httpx.Timeout(connect=balancer.connect_timeout, read=None, write=30, pool=10)
        limits = httpx.Limits(max_connections=200, max_keepalive_connections=50)
        async with httpx.AsyncClient(timeout=timeout, limits=limits) as client:
            balancer._client = client
            checker = asyncio.create_task(balancer.health_loop(client))
            try:
                yield
            finally:
                checker.cancel()

    async def proxy(request: Request) -> Response:
        assert balancer._client is not None
        body = await request.body()
        headers = [
            (name, value)
            for name, value in request.headers.items()
            if name.lower() not in _HOP_BY_HOP
        ]
        client_host = request.client.host if request.client else ""
        forwarded = request.headers.get("x-forwarded-for")
        chain = f"{forwarded}, {client_host}" if forwarded else client_host
        headers.append(("x-forwarded-for", chain))
        path = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        for upstream in balancer.candidates():
            outbound = balancer._client.build_request(
                request.method, upstream.url + path, headers=headers, content=body
            )
            try:
                response = await balancer._client.send(outbound, stream=True)
            except (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout) as error:
                # Never reached the replica: safe to try the next one.
                upstream.healthy = False
                upstream.failures += 1
                log.warning("%s unreachable (%s); trying the next replica", upstream.url, error)
                continue
            except httpx.HTTPError as error:
                upstream.failures += 1
                log.warning("%s failed mid-request: %s", upstream.url, error)
                return JSONResponse({"detail": "upstream failed"}, status_code=502)
            upstream.served += 1
            relayed = StreamingResponse(
                _relay(response),
                status_code=response.status_code,
                background=BackgroundTask(response.aclose),
            )
            # Raw pairs, so that repeated headers (Set-Cookie) pass as they came.
            relayed.raw_headers = [
                (name.encode("latin-1"), value.encode("latin-1"))
                for name, value in response.headers.multi_items()
                if name.lower() not in _HOP_BY_HOP
            ]
            return relayed
        return JSONResponse({"detail": "no replica available"}, status_code=503)

    async def status(_request: Request) -> JSONResponse:
        return JSONResponse(
            {
                "upstreams": [
                    {"url": u.url, "healthy": u.healthy, "served": u.served, "failures": u.failures}
                    for u in balancer.upstreams
                ]
            }
        )

    methods = ["GET", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "HEAD"]
    return Starlette(
        routes=[
            Route("/_balancer", status, methods=["GET"]),
            Route("/{path:path}", proxy, methods=methods),
        ],
        lifespan=lifespan,
    )


async def _relay(response: httpx.Response) -> AsyncIterator[bytes]:
    try:
        async for chunk in response.aiter_raw():
            yield chunk
    except httpx.HTTPError as error:
        # The replica went away mid-answer; the client sees a cut response.
        log.warning("upstream stream ended early: %s", error)


def main(argv: Sequence[str] | None = None) -> int:
    """Run the balancer until stopped."""
    import uvicorn

    parser = argparse.ArgumentParser(prog="python -m bot.balancer")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--upstream", action="append", required=True, help="repeat per replica")
    parser.add_argument("--health", default="/healthz", help="path probed on each replica")
    parser.add_argument("--interval", type=float, default=1.0, help="seconds between probes")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="balancer: %(message)s")
    balancer = Balancer(
        upstreams=[Upstream(url.rstrip("/")) for url in args.upstream],
        health_path=args.health,
        interval=args.interval,
    )
    uvicorn.run(
        create_balancer_app(balancer),
        host=args.host,
        port=args.port,
        log_level="warning",
        timeout_keep_alive=30,
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""`wait` behind a proxy that blocks SSE and drops the long-poll parameters (as some gateways
do): it falls back to polling and still returns the finished task."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from tests.integration.conftest import Server, free_port
from tests.integration.timelines import long_render
from vidtask.client import Client

pytestmark = pytest.mark.slow


class StrippingProxy:
    def __init__(self, upstream: str) -> None:
        self.seen: list[str] = []
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"

        async def forward(request: Request) -> Response:
            self.seen.append(str(request.url.replace(scheme="http", netloc="proxy")))
            if request.url.path.endswith("/events"):
                return Response("no streaming here", status_code=404)
            params: list[tuple[str, str | int | float | bool | None]] = [
                (k, v)
                for k, v in request.query_params.multi_items()
                if k not in ("wait", "version")
            ]
            async with httpx.AsyncClient(base_url=upstream) as client:
                answer = await client.request(
                    request.method,
                    request.url.path,
                    params=params,
                    content=await request.body(),
                    headers={"content-type": request.headers.get("content-type", "")},
                )
            keep = {k: v for k, v in answer.headers.items() if k in ("etag", "retry-after")}
            return Response(answer.content, answer.status_code, keep, "application/json")

        app = Starlette(routes=[Route("/{path:path}", forward, methods=["GET", "POST"])])
        self.server = uvicorn.Server(
            uvicorn.Config(app, host="127.0.0.1", port=self.port, log_level="warning")
        )
        self.thread = threading.Thread(target=self.server.run, daemon=True)

    def __enter__(self) -> StrippingProxy:
        self.thread.start()
        while not self.server.started:
            time.sleep(0.02)
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.should_exit = True
        self.thread.join(10)


@pytest.fixture
def server(tmp_path: Path, asset_root: Path) -> Iterator[Server]:
    srv = Server(tmp_path / "data", asset_root).start()
    yield srv
    srv.stop()


def test_wait_falls_back_from_sse_to_long_poll_to_polling(server: Server) -> None:
    with StrippingProxy(server.url) as proxy, Client(proxy.url) as client:
        task = client.submit(long_render(4))
        done = client.wait(task.id, timeout=120)
    assert done.status == "completed"
    paths = [url.split("proxy", 1)[1] for url in proxy.seen]
    assert paths[1] == f"/v1/tasks/{task.id}"  # the first status read
    assert paths[2] == f"/v1/tasks/{task.id}/events"  # SSE: refused by the proxy
    rest = paths[3:]
    long_polls = [p for p in rest if "?wait=" in p]
    assert long_polls and rest[: len(long_polls)] == long_polls  # long-poll, ignored by the proxy
    polls = rest[len(long_polls) :]
    assert polls and all(p == f"/v1/tasks/{task.id}" for p in polls)  # then plain polling

"""The remote backend: ``vidtask mcp --url`` drives a running server with the SDK.

The server checks the key (``VIDTASK_API_KEY``) on every call; only the placeholder is refused
here, before any request goes out.
"""

from __future__ import annotations

import math
from collections.abc import AsyncGenerator, Awaitable, Mapping
from typing import Any, TypeVar, cast

import anyio
import httpx

from vidtask.client import AsyncClient
from vidtask.client.models import Task
from vidtask.core import errors
from vidtask.core.routing import ModelRouter
from vidtask.mcp_server import auth
from vidtask.mcp_server.backend import OnChange
from vidtask.mcp_server.models import ModelInfo

__all__ = ["RemoteBackend"]

T = TypeVar("T")


class RemoteBackend:
    def __init__(
        self,
        url: str,
        api_key: str | None,
        *,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        self.url = url
        self.api_key = api_key
        self.client = AsyncClient(url, api_key, transport=transport)
        # The SDK has no call for /v1/models; this client makes that one request.
        self._http = httpx.AsyncClient(
            base_url=url, headers=auth.key_headers(api_key), timeout=30.0, transport=transport
        )

    async def close(self) -> None:
        await self.client.close()
        await self._http.aclose()

    async def videos(self, headers: Mapping[str, str] | None) -> RemoteVideos:
        auth.check_placeholder(self.api_key)
        return RemoteVideos(self)


class RemoteVideos:
    def __init__(self, backend: RemoteBackend) -> None:
        self.backend = backend
        self.client = backend.client

    async def submit(self, model: str, input: dict[str, Any]) -> Task:
        return await _reached(self.backend, self.client.submit(input, model=model))

    async def get(self, task_id: str) -> Task:
        return await _reached(self.backend, self.client.get(task_id))

    async def cancel(self, task_id: str) -> Task:
        return await _reached(self.backend, self.client.cancel(task_id))

    async def list_tasks(self, statuses: list[str], limit: int) -> tuple[list[Task], bool]:
        found: list[Task] = []
        pages = cast(
            AsyncGenerator[Task, None],
            self.client.list_tasks(status=statuses or None, page_size=min(limit + 1, 100)),
        )
        try:
            async for task in pages:
                found.append(task)
                if len(found) > limit:
                    break
        except httpx.TransportError as exc:
            raise _unreachable(self.backend) from exc
        finally:
            await pages.aclose()
        return found[:limit], len(found) > limit

    async def models(self) -> list[ModelInfo]:
        try:
            response = await self.backend._http.get("/v1/models")
        except httpx.TransportError as exc:
            raise _unreachable(self.backend) from exc
        if response.status_code >= 400:
            raise _server_error(response)
        return [
            ModelInfo(id=m["id"], description=m.get("description", ""), alias_of=m.get("alias_of"))
            for m in response.json()["data"]
        ]

    async def router(self) -> ModelRouter:
        listed = await self.models()
        aliases = {m.id: m.alias_of for m in listed if m.alias_of}
        return ModelRouter([m.id for m in listed if not m.alias_of], aliases)

    def video_file(self, task: Task) -> str | None:
        return None

    async def wait(self, task_id: str, timeout: float, on_change: OnChange) -> Task:
        # The SDK's wait reports each version to a plain callback: pass them through a
        # stream, so `on_change` runs here, one at a time and in order.
        send, receive = anyio.create_memory_object_stream[Task](math.inf)
        outcome: list[Task | BaseException] = []

        async def follow() -> None:
            with send:
                try:
                    outcome.append(
                        await self.client.wait(task_id, timeout=timeout, on_update=send.send_nowait)
                    )
                except TimeoutError:
                    pass
                except Exception as exc:  # re-raised below, outside the task group
                    outcome.append(exc)

        async with anyio.create_task_group() as group:
            group.start_soon(follow)
            async with receive:
                async for task in receive:
                    await on_change(task)
        if not outcome:  # timed out: the task as it is now
            return await self.get(task_id)
        if isinstance(outcome[0], httpx.TransportError):
            raise _unreachable(self.backend) from outcome[0]
        if isinstance(outcome[0], BaseException):
            raise outcome[0]
        return outcome[0]


async def _reached(backend: RemoteBackend, call: Awaitable[T]) -> T:
    """``await call``, with a server that cannot be reached as a clear error."""
    try:
        return await call
    except httpx.TransportError as exc:
        raise _unreachable(backend) from exc


def _unreachable(backend: RemoteBackend) -> errors.UpstreamError:
    return errors.UpstreamError(
        f"cannot reach the vidtask server at {backend.url}; is `vidtask serve` running there?"
    )


def _server_error(response: httpx.Response) -> errors.VidtaskError:
    """The native API's ``{"error": {code, message}}`` as the error of its code."""
    try:
        error = response.json()["error"]
        return errors.error_for_code(error["code"], error["message"])
    except (ValueError, KeyError, TypeError):
        return errors.UpstreamError(f"HTTP {response.status_code}: {response.text[:200]}")

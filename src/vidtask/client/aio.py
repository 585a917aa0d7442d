"""The asyncio client (httpx): the same API as `Client`, awaitable."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any, Literal

import httpx
from httpx_sse import aconnect_sse

from vidtask.client import _common as common
from vidtask.client.local_files import local_files, with_sources
from vidtask.client.models import Delivery, Task, TaskEvent, WebhookEndpoint

__all__ = ["AsyncClient"]

OnUpdate = Callable[[Task], None]


class AsyncClient:
    """A vidtask server's native API, for asyncio code.

    >>> async with AsyncClient("http://127.0.0.1:8000", api_key="vt_sk_...") as client:
    ...     task = await client.submit(timeline)
    ...     task = await client.wait(task.id)
    """

    def __init__(
        self,
        base_url: str = "http://127.0.0.1:8000",
        api_key: str | None = None,
        *,
        timeout: float = 30.0,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        self._http = httpx.AsyncClient(
            base_url=base_url,
            headers=common.headers(api_key),
            timeout=timeout,
            transport=transport,
        )

    async def __aenter__(self) -> AsyncClient:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    async def close(self) -> None:
        await self._http.aclose()

    # --- tasks --------------------------------------------------------------------------
    async def submit(
        self,
        input: dict[str, Any],
        *,
        model: str = "timeline",
        priority: int = 0,
        webhook_url: str | None = None,
        idempotency_key: str | None = None,
        files_from: Path | None = None,
    ) -> Task:
        """Create a task. With ``files_from``, local files the input names (relative to that
        folder, or absolute) are uploaded first and the input names the uploaded copies."""
        if files_from is not None:
            uploaded = {
                name: await self.upload(path)
                for name, path in local_files(input, files_from).items()
            }
            input = with_sources(input, lambda name: uploaded.get(name, name))
        headers = {"Idempotency-Key": idempotency_key} if idempotency_key else {}
        body = common.clean(
            {"model": model, "input": input, "priority": priority, "webhook_url": webhook_url}
        )
        return Task.model_validate(
            await self._json("POST", "/v1/tasks", json=body, headers=headers)
        )

    async def get(self, task_id: str) -> Task:
        return Task.model_validate(await self._json("GET", f"/v1/tasks/{task_id}"))

    async def list_tasks(
        self,
        *,
        status: list[str] | None = None,
        model: str | None = None,
        order: str = "desc",
        page_size: int = 20,
        id_prefix: str | None = None,
    ) -> AsyncIterator[Task]:
        """Every matching task, fetching pages as you iterate. ``id_prefix`` keeps the tasks
        whose id starts with it (1-64 of ``A-Z a-z 0-9 _ -``)."""
        params = common.clean(
            {
                "status": status,
                "model": model,
                "order": order,
                "limit": page_size,
                "id_prefix": id_prefix,
            }
        )
        async for item in self._pages("/v1/tasks", params):
            yield Task.model_validate(item)

    async def cancel(self, task_id: str) -> Task:
        return Task.model_validate(await self._json("POST", f"/v1/tasks/{task_id}/cancel"))

    async def delete(self, task_id: str) -> None:
        await self._json("DELETE", f"/v1/tasks/{task_id}")

    async def upload(self, path: Path) -> str:
        """Send a local file to the server; returns the name to use as a ``src``."""
        body = await self._json(
            "POST", "/v1/uploads", params={"filename": path.name}, content=_chunks(path)
        )
        return str(body["path"])

    # --- following tasks ------------------------------------------------------------------
    async def events(
        self,
        task_id: str | None = None,
        *,
        after: int | None = None,
        status: list[str] | None = None,
        model: str | None = None,
    ) -> AsyncIterator[TaskEvent]:
        """Server-sent events of one task (ends after its terminal event) or, without
        ``task_id``, of every task of this key (endless). ``after`` resumes from an event id."""
        path = f"/v1/tasks/{task_id}/events" if task_id else "/v1/events"
        params = common.clean({"status": status, "model": model})
        headers = {} if after is None else {"Last-Event-ID": str(after)}
        timeout = httpx.Timeout(10.0, read=common.LONG_POLL_S)
        async with aconnect_sse(
            self._http, "GET", path, params=params, headers=headers, timeout=timeout
        ) as source:
            if source.response.status_code >= 400:
                await source.response.aread()
                common.checked(source.response)
            async for sse in source.aiter_sse():
                event = common.parse_event(sse)
                if event is not None:
                    yield event

    async def wait(
        self,
        task_id: str,
        *,
        timeout: float = 3600.0,
        on_update: OnUpdate | None = None,
        mode: common.WaitMode = "auto",
    ) -> Task:
        """Block until the task is terminal and return it. ``auto`` follows server-sent
        events, falls back to long-poll, then to polling that respects ``Retry-After``.
        Raises `TimeoutError` after ``timeout`` seconds."""
        deadline = time.monotonic() + timeout
        task = await self.get(task_id)
        notify = on_update or (lambda _task: None)
        notify(task)
        ways = {"sse": self._wait_sse, "long-poll": self._wait_long_poll, "poll": self._wait_poll}
        order = list(ways) if mode == "auto" else [mode]
        for name in order:
            if task.terminal:
                return task
            try:
                return await ways[name](task, deadline, notify)
            except common.Unsupported:
                continue
        raise TimeoutError(f"task {task_id} is still {task.status}")  # pragma: no cover

    async def _wait_sse(self, task: Task, deadline: float, notify: OnUpdate) -> Task:
        drops = 0
        while not task.terminal:
            left = common.time_left(task, deadline)
            timeout = httpx.Timeout(10.0, read=min(common.LONG_POLL_S, left + 0.05))
            try:
                async with aconnect_sse(
                    self._http,
                    "GET",
                    f"/v1/tasks/{task.id}/events",
                    headers={"Last-Event-ID": str(task.version)},
                    timeout=timeout,
                ) as source:
                    if common.sse_unsupported(source.response):
                        raise common.Unsupported
                    source.response.raise_for_status()
                    async for sse in source.aiter_sse():
                        event = common.parse_event(sse)
                        if event is None:
                            continue
                        task = event.task
                        notify(task)
                        if task.terminal:
                            return task
            except httpx.ReadTimeout:
                common.time_left(task, deadline)
            except (httpx.TransportError, httpx.HTTPStatusError):
                drops += 1
                if drops > 5:
                    raise common.Unsupported from None
                await asyncio.sleep(min(0.2 * drops, common.time_left(task, deadline)))
        return task

    async def _wait_long_poll(self, task: Task, deadline: float, notify: OnUpdate) -> Task:
        while not task.terminal:
            wait = min(common.LONG_POLL_S, common.time_left(task, deadline))
            started = time.monotonic()
            response = await self._http.get(
                f"/v1/tasks/{task.id}",
                params={"wait": round(wait, 2), "version": task.version},
                timeout=wait + 10.0,
            )
            fresh = Task.model_validate(common.checked(response).json())
            if fresh.version == task.version and time.monotonic() - started < wait / 2:
                raise common.Unsupported  # answered at once without a change: no long-poll here
            if fresh.version != task.version:
                task = fresh
                notify(task)
        return task

    async def _wait_poll(self, task: Task, deadline: float, notify: OnUpdate) -> Task:
        backoff = common.Backoff()
        etag = f'"{task.version}"'
        while not task.terminal:
            hint = None
            response = await self._http.get(f"/v1/tasks/{task.id}", headers={"If-None-Match": etag})
            if response.status_code != 304:
                task = Task.model_validate(common.checked(response).json())
                etag = response.headers.get("etag", etag)
                notify(task)
            if task.terminal:
                break
            hint = common.retry_after(response)
            await asyncio.sleep(min(backoff.next(hint), common.time_left(task, deadline)))
        return task

    # --- files ----------------------------------------------------------------------------
    async def download(
        self,
        target: Task | str,
        dest: Path,
        *,
        variant: Literal["video", "cover"] = "video",
        resume: bool = True,
    ) -> Path:
        """Stream a finished task's video (or cover), or any signed artifact URL, to ``dest``.
        An interrupted download continues from its ``.part`` file with a Range request."""
        url = common.artifact_url(target, variant)
        dest.parent.mkdir(parents=True, exist_ok=True)
        part = dest.with_name(dest.name + ".part")
        offset = part.stat().st_size if resume and part.exists() else 0
        headers = {"Range": f"bytes={offset}-"} if offset else {}
        async with self._http.stream("GET", url, headers=headers) as response:
            if response.status_code == 416 and offset:
                part.replace(dest)  # the part file was already complete
                return dest
            if response.status_code >= 400:
                await response.aread()
                common.checked(response)
            mode = "ab" if response.status_code == 206 else "wb"
            with part.open(mode) as fh:
                async for chunk in response.aiter_bytes():
                    fh.write(chunk)
        part.replace(dest)
        return dest

    # --- webhooks -------------------------------------------------------------------------
    async def create_webhook(
        self, url: str, *, events: list[str] | None = None, description: str = ""
    ) -> WebhookEndpoint:
        body = common.clean({"url": url, "events": events, "description": description})
        return WebhookEndpoint.model_validate(await self._json("POST", "/v1/webhooks", json=body))

    async def list_webhooks(self) -> list[WebhookEndpoint]:
        data = (await self._json("GET", "/v1/webhooks"))["data"]
        return [WebhookEndpoint.model_validate(e) for e in data]

    async def delete_webhook(self, endpoint_id: str) -> None:
        await self._json("DELETE", f"/v1/webhooks/{endpoint_id}")

    async def test_webhook(self, endpoint_id: str) -> Delivery:
        return Delivery.model_validate(await self._json("POST", f"/v1/webhooks/{endpoint_id}/test"))

    async def deliveries(
        self,
        *,
        task_id: str | None = None,
        endpoint_id: str | None = None,
        status: str | None = None,
        page_size: int = 20,
    ) -> AsyncIterator[Delivery]:
        """The delivery log, newest first, fetching pages as you iterate."""
        params = common.clean(
            {"task_id": task_id, "endpoint_id": endpoint_id, "status": status, "limit": page_size}
        )
        async for item in self._pages("/v1/webhooks/deliveries", params):
            yield Delivery.model_validate(item)

    async def get_delivery(self, delivery_id: str) -> Delivery:
        data = await self._json("GET", f"/v1/webhooks/deliveries/{delivery_id}")
        return Delivery.model_validate(data)

    async def resend_delivery(self, delivery_id: str) -> Delivery:
        data = await self._json("POST", f"/v1/webhooks/deliveries/{delivery_id}/resend")
        return Delivery.model_validate(data)

    async def task_webhook_secret(self) -> str:
        """The secret that signs deliveries to your tasks' own ``webhook_url``."""
        return str((await self._json("GET", "/v1/webhooks/task-secret"))["secret"])

    async def _pages(self, path: str, params: dict[str, Any]) -> AsyncIterator[dict[str, Any]]:
        """The items of a cursor-paged list, page after page."""
        while True:
            page = await self._json("GET", path, params=params)
            for item in page["data"]:
                yield item
            if not page["has_more"]:
                return
            params = {**params, "after": page["next_cursor"]}

    async def _json(self, method: str, path: str, **kwargs: Any) -> dict[str, Any]:
        response = common.checked(await self._http.request(method, path, **kwargs))
        data: dict[str, Any] = response.json()
        return data


async def _chunks(path: Path, size: int = 1 << 20) -> AsyncIterator[bytes]:
    """The file's bytes, read off the event loop a chunk at a time."""
    with path.open("rb") as file:
        while chunk := await asyncio.to_thread(file.read, size):
            yield chunk

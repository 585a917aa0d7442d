"""The asyncio client (httpx): the same API as `Client`, awaitable. It runs the same calls
(`_calls`), awaiting their I/O."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncGenerator, AsyncIterator
from pathlib import Path
from typing import Any, Literal, TypeVar

import httpx
from httpx_sse import EventSource

from vidtask.client import _calls as calls
from vidtask.client import _common as common
from vidtask.client import _steps as steps
from vidtask.client.models import Delivery, Task, TaskEvent, WebhookEndpoint

__all__ = ["AsyncClient"]

T = TypeVar("T")


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
        return await self._run(
            calls.submit(
                input,
                model=model,
                priority=priority,
                webhook_url=webhook_url,
                idempotency_key=idempotency_key,
                files_from=files_from,
            )
        )

    async def get(self, task_id: str) -> Task:
        return await self._run(calls.get(task_id))

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
        flow = calls.list_tasks(
            status=status, model=model, order=order, page_size=page_size, id_prefix=id_prefix
        )
        async with contextlib.aclosing(self._drive(flow)) as tasks:
            async for task in tasks:
                yield task

    async def cancel(self, task_id: str) -> Task:
        return await self._run(calls.cancel(task_id))

    async def delete(self, task_id: str) -> None:
        await self._run(calls.delete(task_id))

    async def upload(self, path: Path) -> str:
        """Send a local file to the server; returns the name to use as a ``src``."""
        return await self._run(calls.upload(path))

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
        flow = calls.events(task_id, after=after, status=status, model=model)
        async with contextlib.aclosing(self._drive(flow)) as events:
            async for event in events:
                yield event

    async def wait(
        self,
        task_id: str,
        *,
        timeout: float = 3600.0,
        on_update: common.OnUpdate | None = None,
        mode: common.WaitMode = "auto",
    ) -> Task:
        """Block until the task is terminal and return it. ``auto`` follows server-sent
        events, falls back to long-poll, then to polling that respects ``Retry-After``.
        Raises `TimeoutError` after ``timeout`` seconds."""
        return await self._run(calls.wait(task_id, timeout=timeout, on_update=on_update, mode=mode))

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
        return await self._run(calls.download(target, dest, variant=variant, resume=resume))

    # --- webhooks -------------------------------------------------------------------------
    async def create_webhook(
        self, url: str, *, events: list[str] | None = None, description: str = ""
    ) -> WebhookEndpoint:
        return await self._run(calls.create_webhook(url, events=events, description=description))

    async def list_webhooks(self) -> list[WebhookEndpoint]:
        return await self._run(calls.list_webhooks())

    async def delete_webhook(self, endpoint_id: str) -> None:
        await self._run(calls.delete_webhook(endpoint_id))

    async def test_webhook(self, endpoint_id: str) -> Delivery:
        return await self._run(calls.test_webhook(endpoint_id))

    async def deliveries(
        self,
        *,
        task_id: str | None = None,
        endpoint_id: str | None = None,
        status: str | None = None,
        page_size: int = 20,
    ) -> AsyncIterator[Delivery]:
        """The delivery log, newest first, fetching pages as you iterate."""
        flow = calls.deliveries(
            task_id=task_id, endpoint_id=endpoint_id, status=status, page_size=page_size
        )
        async with contextlib.aclosing(self._drive(flow)) as deliveries:
            async for delivery in deliveries:
                yield delivery

    async def get_delivery(self, delivery_id: str) -> Delivery:
        return await self._run(calls.get_delivery(delivery_id))

    async def resend_delivery(self, delivery_id: str) -> Delivery:
        return await self._run(calls.resend_delivery(delivery_id))

    async def task_webhook_secret(self) -> str:
        """The secret that signs deliveries to your tasks' own ``webhook_url``."""
        return await self._run(calls.task_webhook_secret())

    # --- the I/O loop ---------------------------------------------------------------------
    async def _run(self, flow: steps.Flow[T]) -> T:
        async with contextlib.aclosing(self._drive(steps.returning(flow))) as result:
            return await anext(result)

    async def _drive(self, flow: steps.Items[T]) -> AsyncGenerator[T, None]:
        """`Client._drive`, awaiting the I/O."""
        run = steps.Run(flow)
        response: httpx.Response | None = None
        pieces: AsyncIterator[Any] | None = None
        try:
            for step in run:
                if not isinstance(step, steps.Step):
                    yield step
                    continue
                with run.answering():
                    if isinstance(step, steps.Read):
                        run.answer = await anext(pieces, None) if pieces else None
                        continue
                    if response is not None:
                        await response.aclose()
                    if isinstance(step, steps.Sleep):
                        await asyncio.sleep(step.seconds)
                        continue
                    response = run.answer = await self._send(step)
                    if not step.stream or response.is_error:
                        await response.aread()
                    sse = step.stream == "sse"
                    pieces = EventSource(response).aiter_sse() if sse else response.aiter_bytes()
        finally:
            run.close()
            if response is not None:
                await response.aclose()

    async def _send(self, call: steps.Call) -> httpx.Response:
        content = _chunks(call.upload) if call.upload else None
        return await self._http.send(steps.request(self._http, call, content), stream=True)


async def _chunks(path: Path, size: int = 1 << 20) -> AsyncIterator[bytes]:
    """The file's bytes, read off the event loop a chunk at a time."""
    with path.open("rb") as file:
        while chunk := await asyncio.to_thread(file.read, size):
            yield chunk

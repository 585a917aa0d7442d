"""The synchronous client (httpx): it runs the calls of `_calls`, blocking on their I/O."""

from __future__ import annotations

import contextlib
import time
from collections.abc import Generator, Iterator
from pathlib import Path
from typing import Any, Literal, TypeVar

import httpx
from httpx_sse import EventSource

from vidtask.client import _calls as calls
from vidtask.client import _common as common
from vidtask.client import _steps as steps
from vidtask.client.models import Delivery, Task, TaskEvent, WebhookEndpoint

__all__ = ["Client"]

T = TypeVar("T")


class Client:
    """A vidtask server's native API.

    >>> with Client("http://127.0.0.1:8000", api_key="vt_sk_...") as client:
    ...     task = client.submit(timeline)
    ...     task = client.wait(task.id)
    ...     client.download(task, Path("out.mp4"))
    """

    def __init__(
        self,
        base_url: str = "http://127.0.0.1:8000",
        api_key: str | None = None,
        *,
        timeout: float = 30.0,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        self._http = httpx.Client(
            base_url=base_url,
            headers=common.headers(api_key),
            timeout=timeout,
            transport=transport,
        )

    def __enter__(self) -> Client:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        self._http.close()

    # --- tasks --------------------------------------------------------------------------
    def submit(
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
        return self._run(
            calls.submit(
                input,
                model=model,
                priority=priority,
                webhook_url=webhook_url,
                idempotency_key=idempotency_key,
                files_from=files_from,
            )
        )

    def get(self, task_id: str) -> Task:
        return self._run(calls.get(task_id))

    def list_tasks(
        self,
        *,
        status: list[str] | None = None,
        model: str | None = None,
        order: str = "desc",
        page_size: int = 20,
        id_prefix: str | None = None,
    ) -> Iterator[Task]:
        """Every matching task, fetching pages as you iterate. ``id_prefix`` keeps the tasks
        whose id starts with it (1-64 of ``A-Z a-z 0-9 _ -``)."""
        yield from self._drive(
            calls.list_tasks(
                status=status, model=model, order=order, page_size=page_size, id_prefix=id_prefix
            )
        )

    def cancel(self, task_id: str) -> Task:
        return self._run(calls.cancel(task_id))

    def delete(self, task_id: str) -> None:
        self._run(calls.delete(task_id))

    def upload(self, path: Path) -> str:
        """Send a local file to the server; returns the name to use as a ``src``."""
        return self._run(calls.upload(path))

    # --- following tasks ------------------------------------------------------------------
    def events(
        self,
        task_id: str | None = None,
        *,
        after: int | None = None,
        status: list[str] | None = None,
        model: str | None = None,
    ) -> Iterator[TaskEvent]:
        """Server-sent events of one task (ends after its terminal event) or, without
        ``task_id``, of every task of this key (endless). ``after`` resumes from an event id."""
        yield from self._drive(calls.events(task_id, after=after, status=status, model=model))

    def wait(
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
        return self._run(calls.wait(task_id, timeout=timeout, on_update=on_update, mode=mode))

    # --- files ----------------------------------------------------------------------------
    def download(
        self,
        target: Task | str,
        dest: Path,
        *,
        variant: Literal["video", "cover"] = "video",
        resume: bool = True,
    ) -> Path:
        """Stream a finished task's video (or cover), or any signed artifact URL, to ``dest``.
        An interrupted download continues from its ``.part`` file with a Range request."""
        return self._run(calls.download(target, dest, variant=variant, resume=resume))

    # --- webhooks -------------------------------------------------------------------------
    def create_webhook(
        self, url: str, *, events: list[str] | None = None, description: str = ""
    ) -> WebhookEndpoint:
        return self._run(calls.create_webhook(url, events=events, description=description))

    def list_webhooks(self) -> list[WebhookEndpoint]:
        return self._run(calls.list_webhooks())

    def delete_webhook(self, endpoint_id: str) -> None:
        self._run(calls.delete_webhook(endpoint_id))

    def test_webhook(self, endpoint_id: str) -> Delivery:
        return self._run(calls.test_webhook(endpoint_id))

    def deliveries(
        self,
        *,
        task_id: str | None = None,
        endpoint_id: str | None = None,
        status: str | None = None,
        page_size: int = 20,
    ) -> Iterator[Delivery]:
        """The delivery log, newest first, fetching pages as you iterate."""
        yield from self._drive(
            calls.deliveries(
                task_id=task_id, endpoint_id=endpoint_id, status=status, page_size=page_size
            )
        )

    def get_delivery(self, delivery_id: str) -> Delivery:
        return self._run(calls.get_delivery(delivery_id))

    def resend_delivery(self, delivery_id: str) -> Delivery:
        return self._run(calls.resend_delivery(delivery_id))

    def task_webhook_secret(self) -> str:
        """The secret that signs deliveries to your tasks' own ``webhook_url``."""
        return self._run(calls.task_webhook_secret())

    # --- the I/O loop ---------------------------------------------------------------------
    def _run(self, flow: steps.Flow[T]) -> T:
        with contextlib.closing(self._drive(steps.returning(flow))) as result:
            return next(result)

    def _drive(self, flow: steps.Items[T]) -> Generator[T, None, None]:
        """Do the I/O ``flow`` asks for and hand out the items it yields. A streamed answer
        stays open while the flow reads it or hands out items; its next call or sleep, or its
        end, closes it."""
        run = steps.Run(flow)
        response: httpx.Response | None = None
        pieces: Iterator[Any] | None = None
        try:
            for step in run:
                if not isinstance(step, steps.Step):
                    yield step
                    continue
                with run.answering():
                    if isinstance(step, steps.Read):
                        run.answer = next(pieces, None) if pieces else None
                        continue
                    if response is not None:
                        response.close()
                    if isinstance(step, steps.Sleep):
                        time.sleep(step.seconds)
                        continue
                    response = run.answer = self._send(step)
                    if not step.stream or response.is_error:
                        response.read()
                    sse = step.stream == "sse"
                    pieces = EventSource(response).iter_sse() if sse else response.iter_bytes()
        finally:
            run.close()
            if response is not None:
                response.close()

    def _send(self, call: steps.Call) -> httpx.Response:
        with contextlib.ExitStack() as files:  # an upload is streamed, not read into memory
            content = files.enter_context(call.upload.open("rb")) if call.upload else None
            return self._http.send(steps.request(self._http, call, content), stream=True)

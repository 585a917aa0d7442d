"""The synchronous client (httpx)."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, Literal

import httpx
from httpx_sse import connect_sse

from vidtask.client import _common as common
from vidtask.client.local_files import local_files, with_sources
from vidtask.client.models import Delivery, Task, TaskEvent, WebhookEndpoint

__all__ = ["Client"]

OnUpdate = Callable[[Task], None]


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
        if files_from is not None:
            uploaded = {
                name: self.upload(path) for name, path in local_files(input, files_from).items()
            }
            input = with_sources(input, lambda name: uploaded.get(name, name))
        headers = {"Idempotency-Key": idempotency_key} if idempotency_key else {}
        body = common.clean(
            {"model": model, "input": input, "priority": priority, "webhook_url": webhook_url}
        )
        return Task.model_validate(self._json("POST", "/v1/tasks", json=body, headers=headers))

    def get(self, task_id: str) -> Task:
        return Task.model_validate(self._json("GET", f"/v1/tasks/{task_id}"))

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
        params = common.clean(
            {
                "status": status,
                "model": model,
                "order": order,
                "limit": page_size,
                "id_prefix": id_prefix,
            }
        )
        yield from (Task.model_validate(t) for t in self._pages("/v1/tasks", params))

    def cancel(self, task_id: str) -> Task:
        return Task.model_validate(self._json("POST", f"/v1/tasks/{task_id}/cancel"))

    def delete(self, task_id: str) -> None:
        self._json("DELETE", f"/v1/tasks/{task_id}")

    def upload(self, path: Path) -> str:
        """Send a local file to the server; returns the name to use as a ``src``."""
        with path.open("rb") as file:  # streamed, not read into memory
            body = self._json("POST", "/v1/uploads", params={"filename": path.name}, content=file)
        return str(body["path"])

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
        path = f"/v1/tasks/{task_id}/events" if task_id else "/v1/events"
        params = common.clean({"status": status, "model": model})
        headers = {} if after is None else {"Last-Event-ID": str(after)}
        timeout = httpx.Timeout(10.0, read=common.LONG_POLL_S)
        with connect_sse(
            self._http, "GET", path, params=params, headers=headers, timeout=timeout
        ) as source:
            if source.response.status_code >= 400:
                source.response.read()
                common.checked(source.response)
            for sse in source.iter_sse():
                event = common.parse_event(sse)
                if event is not None:
                    yield event

    def wait(
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
        task = self.get(task_id)
        notify = on_update or (lambda _task: None)
        notify(task)
        ways = {"sse": self._wait_sse, "long-poll": self._wait_long_poll, "poll": self._wait_poll}
        order = list(ways) if mode == "auto" else [mode]
        for name in order:
            if task.terminal:
                return task
            try:
                return ways[name](task, deadline, notify)
            except common.Unsupported:
                continue
        raise TimeoutError(f"task {task_id} is still {task.status}")  # pragma: no cover

    def _wait_sse(self, task: Task, deadline: float, notify: OnUpdate) -> Task:
        drops = 0
        while not task.terminal:
            left = common.time_left(task, deadline)
            timeout = httpx.Timeout(10.0, read=min(common.LONG_POLL_S, left + 0.05))
            try:
                with connect_sse(
                    self._http,
                    "GET",
                    f"/v1/tasks/{task.id}/events",
                    headers={"Last-Event-ID": str(task.version)},
                    timeout=timeout,
                ) as source:
                    if common.sse_unsupported(source.response):
                        raise common.Unsupported
                    source.response.raise_for_status()
                    for sse in source.iter_sse():
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
                time.sleep(min(0.2 * drops, common.time_left(task, deadline)))
        return task

    def _wait_long_poll(self, task: Task, deadline: float, notify: OnUpdate) -> Task:
        while not task.terminal:
            wait = min(common.LONG_POLL_S, common.time_left(task, deadline))
            started = time.monotonic()
            response = self._http.get(
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

    def _wait_poll(self, task: Task, deadline: float, notify: OnUpdate) -> Task:
        backoff = common.Backoff()
        etag = f'"{task.version}"'
        while not task.terminal:
            hint = None
            response = self._http.get(f"/v1/tasks/{task.id}", headers={"If-None-Match": etag})
            if response.status_code != 304:
                task = Task.model_validate(common.checked(response).json())
                etag = response.headers.get("etag", etag)
                notify(task)
            if task.terminal:
                break
            hint = common.retry_after(response)
            time.sleep(min(backoff.next(hint), common.time_left(task, deadline)))
        return task

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
        url = common.artifact_url(target, variant)
        dest.parent.mkdir(parents=True, exist_ok=True)
        part = dest.with_name(dest.name + ".part")
        offset = part.stat().st_size if resume and part.exists() else 0
        headers = {"Range": f"bytes={offset}-"} if offset else {}
        with self._http.stream("GET", url, headers=headers) as response:
            if response.status_code == 416 and offset:
                part.replace(dest)  # the part file was already complete
                return dest
            if response.status_code >= 400:
                response.read()
                common.checked(response)
            mode = "ab" if response.status_code == 206 else "wb"
            with part.open(mode) as fh:
                for chunk in response.iter_bytes():
                    fh.write(chunk)
        part.replace(dest)
        return dest

    # --- webhooks -------------------------------------------------------------------------
    def create_webhook(
        self, url: str, *, events: list[str] | None = None, description: str = ""
    ) -> WebhookEndpoint:
        body = common.clean({"url": url, "events": events, "description": description})
        return WebhookEndpoint.model_validate(self._json("POST", "/v1/webhooks", json=body))

    def list_webhooks(self) -> list[WebhookEndpoint]:
        data = self._json("GET", "/v1/webhooks")["data"]
        return [WebhookEndpoint.model_validate(e) for e in data]

    def delete_webhook(self, endpoint_id: str) -> None:
        self._json("DELETE", f"/v1/webhooks/{endpoint_id}")

    def test_webhook(self, endpoint_id: str) -> Delivery:
        return Delivery.model_validate(self._json("POST", f"/v1/webhooks/{endpoint_id}/test"))

    def deliveries(
        self,
        *,
        task_id: str | None = None,
        endpoint_id: str | None = None,
        status: str | None = None,
        page_size: int = 20,
    ) -> Iterator[Delivery]:
        """The delivery log, newest first, fetching pages as you iterate."""
        params = common.clean(
            {"task_id": task_id, "endpoint_id": endpoint_id, "status": status, "limit": page_size}
        )
        pages = self._pages("/v1/webhooks/deliveries", params)
        yield from (Delivery.model_validate(d) for d in pages)

    def get_delivery(self, delivery_id: str) -> Delivery:
        data = self._json("GET", f"/v1/webhooks/deliveries/{delivery_id}")
        return Delivery.model_validate(data)

    def resend_delivery(self, delivery_id: str) -> Delivery:
        data = self._json("POST", f"/v1/webhooks/deliveries/{delivery_id}/resend")
        return Delivery.model_validate(data)

    def task_webhook_secret(self) -> str:
        """The secret that signs deliveries to your tasks' own ``webhook_url``."""
        return str(self._json("GET", "/v1/webhooks/task-secret")["secret"])

    def _pages(self, path: str, params: dict[str, Any]) -> Iterator[dict[str, Any]]:
        """The items of a cursor-paged list, page after page."""
        while True:
            page = self._json("GET", path, params=params)
            yield from page["data"]
            if not page["has_more"]:
                return
            params = {**params, "after": page["next_cursor"]}

    def _json(self, method: str, path: str, **kwargs: Any) -> dict[str, Any]:
        response = common.checked(self._http.request(method, path, **kwargs))
        data: dict[str, Any] = response.json()
        return data

"""Every SDK call, written once as a flow (see `_steps`): what it sends, how it reads the answer,
and for ``wait`` and ``download`` the loops between requests. `Client` and `AsyncClient` run
these; their methods only pass the arguments on."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, Literal, TypeVar

import httpx

from vidtask.client import _common as common
from vidtask.client._steps import READ, Call, Flow, Items, Sleep
from vidtask.client.local_files import local_files, with_sources
from vidtask.client.models import Delivery, Task, TaskEvent, WebhookEndpoint

__all__ = [
    "cancel",
    "create_webhook",
    "delete",
    "delete_webhook",
    "deliveries",
    "download",
    "events",
    "get",
    "get_delivery",
    "list_tasks",
    "list_webhooks",
    "resend_delivery",
    "submit",
    "task_webhook_secret",
    "test_webhook",
    "upload",
    "wait",
]

T = TypeVar("T")


def fetch(call: Call, parse: Callable[[Any], T]) -> Flow[T]:
    """Send ``call`` and parse its JSON answer; an error answer raises its `VidtaskError`."""
    response: httpx.Response = yield call
    return parse(common.checked(response).json())


def pages(path: str, params: dict[str, Any], parse: Callable[[Any], T]) -> Items[T]:
    """The items of a cursor-paged list, page after page."""
    while True:
        page: dict[str, Any] = yield from fetch(Call("GET", path, params=params), dict)
        for item in page["data"]:
            yield parse(item)
        if not page["has_more"]:
            return
        params = {**params, "after": page["next_cursor"]}


def _nothing(_body: Any) -> None:
    return None


# --- tasks ----------------------------------------------------------------------------------
def submit(
    input: dict[str, Any],
    *,
    model: str,
    priority: int,
    webhook_url: str | None,
    idempotency_key: str | None,
    files_from: Path | None,
) -> Flow[Task]:
    if files_from is not None:
        uploaded: dict[str, str] = {}
        for name, path in local_files(input, files_from).items():
            uploaded[name] = yield from upload(path)
        input = with_sources(input, lambda name: uploaded.get(name, name))
    headers = {"Idempotency-Key": idempotency_key} if idempotency_key else {}
    body = common.clean(
        {"model": model, "input": input, "priority": priority, "webhook_url": webhook_url}
    )
    call = Call("POST", "/v1/tasks", json=body, headers=headers)
    return (yield from fetch(call, Task.model_validate))


def get(task_id: str) -> Flow[Task]:
    return fetch(Call("GET", f"/v1/tasks/{task_id}"), Task.model_validate)


def list_tasks(
    *,
    status: list[str] | None,
    model: str | None,
    order: str,
    page_size: int,
    id_prefix: str | None,
) -> Items[Task]:
    params = {
        "status": status,
        "model": model,
        "order": order,
        "limit": page_size,
        "id_prefix": id_prefix,
    }
    return pages("/v1/tasks", common.clean(params), Task.model_validate)


def cancel(task_id: str) -> Flow[Task]:
    return fetch(Call("POST", f"/v1/tasks/{task_id}/cancel"), Task.model_validate)


def delete(task_id: str) -> Flow[None]:
    return fetch(Call("DELETE", f"/v1/tasks/{task_id}"), _nothing)


def upload(path: Path) -> Flow[str]:
    call = Call("POST", "/v1/uploads", params={"filename": path.name}, upload=path)
    return fetch(call, lambda body: str(body["path"]))


# --- following tasks ------------------------------------------------------------------------
def events(
    task_id: str | None, *, after: int | None, status: list[str] | None, model: str | None
) -> Items[TaskEvent]:
    response: httpx.Response = yield Call(
        "GET",
        f"/v1/tasks/{task_id}/events" if task_id else "/v1/events",
        params=common.clean({"status": status, "model": model}),
        headers={} if after is None else {"Last-Event-ID": str(after)},
        timeout=httpx.Timeout(10.0, read=common.LONG_POLL_S),
        stream="sse",
    )
    common.checked(response)
    while (sse := (yield READ)) is not None:
        event = common.parse_event(sse)
        if event is not None:
            yield event


def wait(
    task_id: str, *, timeout: float, on_update: common.OnUpdate | None, mode: common.WaitMode
) -> Flow[Task]:
    deadline = time.monotonic() + timeout
    task = yield from get(task_id)
    notify = on_update or (lambda _task: None)
    notify(task)
    ways = {"sse": _wait_sse, "long-poll": _wait_long_poll, "poll": _wait_poll}
    order = list(ways) if mode == "auto" else [mode]
    for name in order:
        if task.terminal:
            return task
        try:
            return (yield from ways[name](task, deadline, notify))
        except common.Unsupported:
            continue
    raise TimeoutError(f"task {task_id} is still {task.status}")  # pragma: no cover


def _wait_sse(task: Task, deadline: float, notify: common.OnUpdate) -> Flow[Task]:
    drops = 0
    while not task.terminal:
        left = common.time_left(task, deadline)
        try:
            response: httpx.Response = yield Call(
                "GET",
                f"/v1/tasks/{task.id}/events",
                headers={"Last-Event-ID": str(task.version)},
                timeout=httpx.Timeout(10.0, read=min(common.LONG_POLL_S, left + 0.05)),
                stream="sse",
            )
            if common.sse_unsupported(response):
                raise common.Unsupported
            response.raise_for_status()
            while (sse := (yield READ)) is not None:
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
            yield Sleep(min(0.2 * drops, common.time_left(task, deadline)))
    return task


def _wait_long_poll(task: Task, deadline: float, notify: common.OnUpdate) -> Flow[Task]:
    while not task.terminal:
        wait = min(common.LONG_POLL_S, common.time_left(task, deadline))
        started = time.monotonic()
        call = Call(
            "GET",
            f"/v1/tasks/{task.id}",
            params={"wait": round(wait, 2), "version": task.version},
            timeout=httpx.Timeout(wait + 10.0),
        )
        fresh = yield from fetch(call, Task.model_validate)
        if fresh.version == task.version and time.monotonic() - started < wait / 2:
            raise common.Unsupported  # answered at once without a change: no long-poll here
        if fresh.version != task.version:
            task = fresh
            notify(task)
    return task


def _wait_poll(task: Task, deadline: float, notify: common.OnUpdate) -> Flow[Task]:
    backoff = common.Backoff()
    etag = f'"{task.version}"'
    while not task.terminal:
        call = Call("GET", f"/v1/tasks/{task.id}", headers={"If-None-Match": etag})
        response: httpx.Response = yield call
        if response.status_code != 304:
            task = Task.model_validate(common.checked(response).json())
            etag = response.headers.get("etag", etag)
            notify(task)
        if task.terminal:
            break
        hint = common.retry_after(response)
        yield Sleep(min(backoff.next(hint), common.time_left(task, deadline)))
    return task


# --- files ----------------------------------------------------------------------------------
def download(
    target: Task | str, dest: Path, *, variant: Literal["video", "cover"], resume: bool
) -> Flow[Path]:
    url = common.artifact_url(target, variant)
    dest.parent.mkdir(parents=True, exist_ok=True)
    part = dest.with_name(dest.name + ".part")
    offset = part.stat().st_size if resume and part.exists() else 0
    headers = {"Range": f"bytes={offset}-"} if offset else {}
    response: httpx.Response = yield Call("GET", url, headers=headers, stream="bytes")
    if response.status_code == 416 and offset:
        part.replace(dest)  # the part file was already complete
        return dest
    common.checked(response)
    with part.open("ab" if response.status_code == 206 else "wb") as fh:
        while (chunk := (yield READ)) is not None:
            fh.write(chunk)
    part.replace(dest)
    return dest


# --- webhooks -------------------------------------------------------------------------------
def create_webhook(
    url: str, *, events: list[str] | None, description: str
) -> Flow[WebhookEndpoint]:
    body = common.clean({"url": url, "events": events, "description": description})
    return fetch(Call("POST", "/v1/webhooks", json=body), WebhookEndpoint.model_validate)


def list_webhooks() -> Flow[list[WebhookEndpoint]]:
    return fetch(
        Call("GET", "/v1/webhooks"),
        lambda body: [WebhookEndpoint.model_validate(e) for e in body["data"]],
    )


def delete_webhook(endpoint_id: str) -> Flow[None]:
    return fetch(Call("DELETE", f"/v1/webhooks/{endpoint_id}"), _nothing)


def test_webhook(endpoint_id: str) -> Flow[Delivery]:
    return fetch(Call("POST", f"/v1/webhooks/{endpoint_id}/test"), Delivery.model_validate)


def deliveries(
    *, task_id: str | None, endpoint_id: str | None, status: str | None, page_size: int
) -> Items[Delivery]:
    params = {"task_id": task_id, "endpoint_id": endpoint_id, "status": status, "limit": page_size}
    return pages("/v1/webhooks/deliveries", common.clean(params), Delivery.model_validate)


def get_delivery(delivery_id: str) -> Flow[Delivery]:
    return fetch(Call("GET", f"/v1/webhooks/deliveries/{delivery_id}"), Delivery.model_validate)


def resend_delivery(delivery_id: str) -> Flow[Delivery]:
    call = Call("POST", f"/v1/webhooks/deliveries/{delivery_id}/resend")
    return fetch(call, Delivery.model_validate)


def task_webhook_secret() -> Flow[str]:
    return fetch(Call("GET", "/v1/webhooks/task-secret"), lambda body: str(body["secret"]))

"""A small synchronous client for the native API (httpx)."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx

from vidtask.core import errors

__all__ = ["Client"]

TERMINAL = frozenset({"completed", "failed", "cancelled"})


class Client:
    def __init__(
        self,
        base_url: str = "http://127.0.0.1:8000",
        api_key: str | None = None,
        *,
        timeout: float = 30.0,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        headers = {"Authorization": f"Bearer {api_key}"} if api_key else {}
        self._http = httpx.Client(
            base_url=base_url, headers=headers, timeout=timeout, transport=transport
        )

    def __enter__(self) -> Client:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        self._http.close()

    def submit(
        self,
        input: dict[str, Any],
        *,
        model: str = "timeline",
        priority: int = 0,
        idempotency_key: str | None = None,
    ) -> dict[str, Any]:
        headers = {"Idempotency-Key": idempotency_key} if idempotency_key else {}
        body = {"model": model, "input": input, "priority": priority}
        return self._json("POST", "/v1/tasks", json=body, headers=headers)

    def get(self, task_id: str) -> dict[str, Any]:
        return self._json("GET", f"/v1/tasks/{task_id}")

    def list_tasks(self, **params: Any) -> dict[str, Any]:
        return self._json("GET", "/v1/tasks", params={k: v for k, v in params.items() if v})

    def iter_tasks(self, **params: Any) -> Iterator[dict[str, Any]]:
        """Every task matching the filters, following the cursor page by page."""
        after = None
        while True:
            page = self.list_tasks(**params, after=after)
            yield from page["data"]
            if not page["has_more"]:
                return
            after = page["next_cursor"]

    def cancel(self, task_id: str) -> dict[str, Any]:
        return self._json("POST", f"/v1/tasks/{task_id}/cancel")

    def delete(self, task_id: str) -> dict[str, Any]:
        return self._json("DELETE", f"/v1/tasks/{task_id}")

    def wait(
        self,
        task_id: str,
        *,
        timeout: float = 3600.0,
        on_update: Callable[[dict[str, Any]], None] | None = None,
        interval: float = 0.25,
    ) -> dict[str, Any]:
        """Poll until the task is terminal (cheaply: unchanged tasks answer 304)."""
        deadline = time.monotonic() + timeout
        task = self.get(task_id)
        etag = None
        while True:
            if on_update is not None:
                on_update(task)
            if task["status"] in TERMINAL:
                return task
            if time.monotonic() > deadline:
                raise TimeoutError(f"task {task_id} still {task['status']} after {timeout} s")
            time.sleep(interval)
            headers: dict[str, str] = {"If-None-Match": etag} if etag else {}
            response = self._http.get(f"/v1/tasks/{task_id}", headers=headers)
            if response.status_code != 304:
                task = _checked(response).json()
                etag = response.headers.get("etag")

    def download(self, url: str, dest: Path) -> Path:
        """Stream a (signed) artifact URL to a file."""
        dest.parent.mkdir(parents=True, exist_ok=True)
        with self._http.stream("GET", url) as response:
            _checked(response)
            with dest.open("wb") as fh:
                for chunk in response.iter_bytes():
                    fh.write(chunk)
        return dest

    def _json(self, method: str, path: str, **kwargs: Any) -> dict[str, Any]:
        response = _checked(self._http.request(method, path, **kwargs))
        data: dict[str, Any] = response.json()
        return data


def _checked(response: httpx.Response) -> httpx.Response:
    if response.status_code < 400:
        return response
    response.read()  # a streamed response has no body yet
    try:
        error = response.json()["error"]
        problem = errors.error_for_code(error["code"], error["message"])
        problem.param = error.get("param")
    except (ValueError, KeyError, TypeError):
        problem = errors.VidtaskError(f"HTTP {response.status_code}: {response.text[:200]}")
    raise problem

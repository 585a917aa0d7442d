"""The calls of `vidtask.client._calls` run by both clients against one in-process fake server
(``httpx.MockTransport``): ``wait``'s fallbacks and reconnects, ``download``'s resume, paging,
uploads and errors. Each test runs once per client and checks the same requests went out."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from vidtask.client import AsyncClient, Client, Task
from vidtask.core import errors

URL = "http://vidtask.test"
Handler = Callable[[httpx.Request], httpx.Response]


def task(version: int, status: str = "running", **extra: Any) -> dict[str, Any]:
    when = "2024-09-24T10:30:00.000Z"
    return {
        "id": "vt_1",
        "model": "timeline",
        "status": status,
        "stage": status,
        "progress": 100.0 if status == "completed" else 10.0 * version,
        "version": version,
        "created_at": when,
        "updated_at": when,
        **extra,
    }


def sse(*events: dict[str, Any] | None) -> httpx.Response:
    """An event stream: each task as its event, None as a ``: ping`` heartbeat."""
    text = "".join(
        ": ping\n\n"
        if t is None
        else f"id: {t['version']}\nevent: task.x\ndata: {json.dumps(t)}\n\n"
        for t in events
    )
    return httpx.Response(200, headers={"content-type": "text/event-stream"}, text=text)


def gone(code: str = "not_found") -> httpx.Response:
    return httpx.Response(404, json={"error": {"code": code, "message": "no such thing"}})


@pytest.fixture(params=["sync", "async"])
def call(request: pytest.FixtureRequest) -> Callable[..., Any]:
    """``call(handler, "wait", "vt_1", ...)``: the method's result on this client (a list for
    the iterators)."""

    def sync(handler: Handler, name: str, *args: Any, **kwargs: Any) -> Any:
        with Client(URL, transport=httpx.MockTransport(handler)) as client:
            result = getattr(client, name)(*args, **kwargs)
            return list(result) if isinstance(result, Iterator) else result

    def aio(handler: Handler, name: str, *args: Any, **kwargs: Any) -> Any:
        async def main() -> Any:
            async with AsyncClient(URL, transport=httpx.MockTransport(handler)) as client:
                result = getattr(client, name)(*args, **kwargs)
                if isinstance(result, AsyncIterator):
                    return [item async for item in result]
                return await result

        return asyncio.run(main())

    return sync if request.param == "sync" else aio


def test_wait_falls_back_from_sse_to_long_poll_to_polling(call: Callable[..., Any]) -> None:
    seen: list[str] = []
    etags: list[str] = []
    answers = [
        httpx.Response(200, json=task(1)),  # the first read
        httpx.Response(304, headers={"retry-after": "0"}),
        httpx.Response(200, json=task(2), headers={"etag": '"2"', "retry-after": "0"}),
        httpx.Response(200, json=task(3, "completed")),
    ]

    def server(request: httpx.Request) -> httpx.Response:
        seen.append(f"{request.url.path}?{request.url.query.decode()}")
        if request.url.path.endswith("/events"):
            return httpx.Response(404)
        if "wait" in request.url.params:
            return httpx.Response(200, json=task(1))  # answered at once: no long-poll here
        etags.append(request.headers.get("if-none-match", ""))
        return answers[len(etags) - 1]

    versions: list[int] = []
    done = call(server, "wait", "vt_1", timeout=10, on_update=lambda t: versions.append(t.version))
    assert done.status == "completed" and versions == [1, 2, 3]
    assert seen[:2] == ["/v1/tasks/vt_1?", "/v1/tasks/vt_1/events?"]
    assert seen[2].startswith("/v1/tasks/vt_1?wait=") and seen[2].endswith("&version=1")
    assert seen[3:] == ["/v1/tasks/vt_1?"] * 3
    assert etags == ["", '"1"', '"1"', '"2"']


def test_wait_over_sse_reconnects_after_timeouts_and_drops(call: Callable[..., Any]) -> None:
    last_ids: list[str] = []
    streams: list[Callable[[httpx.Request], httpx.Response]] = [
        lambda r: (_ for _ in ()).throw(httpx.ReadTimeout("slow", request=r)),
        lambda r: (_ for _ in ()).throw(httpx.ConnectError("dropped", request=r)),
        lambda r: sse(None, task(2)),  # ends without a terminal event: reconnect from 2
        lambda r: sse(task(3, "completed")),
    ]

    def server(request: httpx.Request) -> httpx.Response:
        if not request.url.path.endswith("/events"):
            return httpx.Response(200, json=task(1))
        assert request.headers["accept"] == "text/event-stream"
        last_ids.append(request.headers["last-event-id"])
        return streams[len(last_ids) - 1](request)

    versions: list[int] = []
    done = call(server, "wait", "vt_1", mode="sse", on_update=lambda t: versions.append(t.version))
    assert done.version == 3 and versions == [1, 2, 3]
    assert last_ids == ["1", "1", "1", "2"]


def test_wait_raises_timeout_error_at_its_deadline(call: Callable[..., Any]) -> None:
    def server(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, json=task(1), headers={"retry-after": "0"})

    with pytest.raises(TimeoutError, match="vt_1 is still running"):
        call(server, "wait", "vt_1", timeout=0.3, mode="poll")


def test_wait_returns_a_finished_task_at_once(call: Callable[..., Any]) -> None:
    seen: list[str] = []

    def server(request: httpx.Request) -> httpx.Response:
        seen.append(request.url.path)
        return httpx.Response(200, json=task(4, "failed"))

    assert call(server, "wait", "vt_1").status == "failed" and seen == ["/v1/tasks/vt_1"]


@pytest.mark.parametrize(
    ("part", "status", "body", "whole"),
    [
        (None, 200, b"abcdef", b"abcdef"),
        (b"abc", 206, b"def", b"abcdef"),  # resumed with Range
        (b"abc", 200, b"abcdef", b"abcdef"),  # the server ignored Range
        (b"abcdef", 416, b"", b"abcdef"),  # the part was complete
    ],
)
def test_download_streams_and_resumes(
    call: Callable[..., Any],
    tmp_path: Path,
    part: bytes | None,
    status: int,
    body: bytes,
    whole: bytes,
) -> None:
    dest = tmp_path / "sub" / "out.mp4"
    if part is not None:
        dest.parent.mkdir()
        dest.with_name("out.mp4.part").write_bytes(part)
    ranges: list[str | None] = []

    def server(request: httpx.Request) -> httpx.Response:
        ranges.append(request.headers.get("range"))
        return httpx.Response(status, content=body)

    done = Task.model_validate(task(3, "completed", result={"video_url": f"{URL}/files/a.mp4"}))
    assert call(server, "download", done, dest) == dest
    assert dest.read_bytes() == whole and not dest.with_name("out.mp4.part").exists()
    assert ranges == [None if part is None else f"bytes={len(part)}-"]


def test_download_errors(call: Callable[..., Any], tmp_path: Path) -> None:
    with pytest.raises(errors.NotFound, match="no such thing"):
        call(lambda r: gone(), "download", f"{URL}/files/a.mp4", tmp_path / "a.mp4")
    with pytest.raises(errors.Conflict, match="no cover"):
        call(
            lambda r: gone(),
            "download",
            Task.model_validate(task(1)),
            tmp_path / "a.jpg",
            variant="cover",
        )


def test_lists_page_on_with_the_cursor(call: Callable[..., Any]) -> None:
    afters: list[str | None] = []

    def server(request: httpx.Request) -> httpx.Response:
        after = request.url.params.get("after")
        afters.append(after)
        assert request.url.params.get_list("status") == ["running", "queued"]
        data = [task(1)] if after is None else [task(2)]
        return httpx.Response(
            200, json={"data": data, "has_more": after is None, "next_cursor": "c1"}
        )

    found = call(server, "list_tasks", status=["running", "queued"], page_size=1)
    assert [t.version for t in found] == [1, 2] and afters == [None, "c1"]


def test_events_skip_heartbeats_and_errors_keep_their_code(call: Callable[..., Any]) -> None:
    def server(request: httpx.Request) -> httpx.Response:
        if request.url.path == "/v1/tasks/vt_missing/events":
            return gone()
        assert request.headers["last-event-id"] == "1"
        return sse(None, task(2), None, task(3, "completed"))

    assert [e.id for e in call(server, "events", "vt_1", after=1)] == [2, 3]
    with pytest.raises(errors.NotFound) as missing:
        call(server, "events", "vt_missing")
    assert missing.value.code == "not_found"


def test_submit_uploads_local_files_first(call: Callable[..., Any], tmp_path: Path) -> None:
    (tmp_path / "clip.mp4").write_bytes(b"clip bytes")
    sent: list[tuple[str, bytes]] = []

    def server(request: httpx.Request) -> httpx.Response:
        sent.append((request.url.path, request.read()))
        if request.url.path == "/v1/uploads":
            assert request.url.params["filename"] == "clip.mp4"
            return httpx.Response(200, json={"path": "uploads/u1.mp4"})
        assert request.headers["idempotency-key"] == "k1"
        return httpx.Response(201, json=task(1, "queued"))

    timeline = {"tracks": [{"clips": [{"asset": {"src": "clip.mp4"}}, {"asset": {"src": "x"}}]}]}
    made = call(server, "submit", timeline, idempotency_key="k1", files_from=tmp_path)
    assert made.status == "queued"
    assert sent[0] == ("/v1/uploads", b"clip bytes")
    body = json.loads(sent[1][1])
    assert body == {
        "model": "timeline",
        "priority": 0,
        "input": {
            "tracks": [{"clips": [{"asset": {"src": "uploads/u1.mp4"}}, {"asset": {"src": "x"}}]}]
        },
    }


class Stream(httpx.SyncByteStream, httpx.AsyncByteStream):
    """A response body that notes when the client closes it."""

    def __init__(self, *events: dict[str, Any]) -> None:
        self.body = sse(*events).content
        self.closed = False

    def __iter__(self) -> Iterator[bytes]:
        yield self.body

    async def __aiter__(self) -> AsyncIterator[bytes]:
        yield self.body

    def close(self) -> None:
        self.closed = True

    async def aclose(self) -> None:
        self.closed = True


def streaming(streams: list[Stream]) -> Handler:
    def server(request: httpx.Request) -> httpx.Response:
        if not request.url.path.endswith("/events"):
            return httpx.Response(200, json=task(1))
        stream = Stream(task(2), task(3, "completed"), task(4, "completed"))
        streams.append(stream)
        return httpx.Response(200, headers={"content-type": "text/event-stream"}, stream=stream)

    return server


def test_wait_closes_the_stream_at_the_terminal_event(call: Callable[..., Any]) -> None:
    streams: list[Stream] = []
    assert call(streaming(streams), "wait", "vt_1", mode="sse").version == 3
    assert len(streams) == 1 and streams[0].closed


def test_an_events_iterator_left_early_closes_its_stream() -> None:
    streams: list[Stream] = []
    with Client(URL, transport=httpx.MockTransport(streaming(streams))) as client:
        events = client.events("vt_1")
        assert next(events).id == 2
        events.close()  # type: ignore[attr-defined]
    assert streams[-1].closed

    async def main() -> None:
        async with AsyncClient(URL, transport=httpx.MockTransport(streaming(streams))) as client:
            events = client.events("vt_1")
            assert (await anext(events)).id == 2
            await events.aclose()  # type: ignore[attr-defined]

    asyncio.run(main())
    assert len(streams) == 2 and streams[-1].closed

"""The SDK without I/O: each call is a *flow*, a generator that yields the I/O it needs and gets
the answer back, so `Client` and `AsyncClient` share every method body and differ only in the
loop that does the I/O (``send`` or ``await send``, ``sleep`` or ``await sleep``).

A flow yields three kinds of step: a `Call` (send a request; the answer is its
``httpx.Response``), `READ` (the next piece of the last answer, streamed: a server-sent event or
a chunk of bytes, None at its end) and a `Sleep`. A flow that lists things also yields the items
to hand out. A client throws its I/O errors back into the flow, at the ``yield`` that asked, so
``try``/``except`` around a ``yield`` works as around a call (the SSE reconnects rely on it).

Why this, httpx's ``BaseClient`` idea taken down to a sans-I/O core, and not unasync (httpcore's
way: the sync client generated from the async one): with unasync every call still exists twice,
once generated, behind a build step and a test that the generated file is fresh. Here the hard
parts, ``wait``'s fallbacks (SSE, long-poll, polling) and ``download``'s resume, exist once, as
plain generators, and one test suite runs them through both clients (tests/client/test_calls.py).
A ``BaseClient`` that only builds requests would share less: those loops send, sleep and retry
between requests.
"""

from __future__ import annotations

from collections.abc import Generator, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Generic, Literal, TypeAlias, TypeVar

import httpx

__all__ = ["READ", "Call", "Flow", "Items", "Read", "Run", "Sleep", "Step", "request", "returning"]

T = TypeVar("T")

#: What a request for server-sent events adds (as httpx-sse's ``connect_sse`` does).
SSE_HEADERS = {"Accept": "text/event-stream", "Cache-Control": "no-store"}


@dataclass(frozen=True, slots=True)
class Call:
    """Send a request; the answer is its response, read in full unless ``stream`` is set, when
    the flow reads its body with `READ` (an error answer is always read in full)."""

    method: str
    url: str
    params: dict[str, Any] | None = None
    json: Any = None
    headers: dict[str, str] = field(default_factory=dict)
    #: None: the client's own timeout.
    timeout: httpx.Timeout | None = None
    #: A file to stream as the body.
    upload: Path | None = None
    stream: Literal["sse", "bytes"] | None = None


@dataclass(frozen=True, slots=True)
class Read:
    """Read the next piece of the last, streamed answer; None at its end."""


READ = Read()


@dataclass(frozen=True, slots=True)
class Sleep:
    seconds: float


Step: TypeAlias = Call | Read | Sleep
#: A call that returns a ``T``.
Flow: TypeAlias = Generator[Step, Any, T]
#: A call that hands out ``T``'s (the listings, the event streams).
Items: TypeAlias = Generator[Step | T, Any, None]


def returning(flow: Flow[T]) -> Items[T]:
    """``flow``'s result handed out as its one item, so one loop runs both kinds."""
    result = yield from flow
    yield result


class Run(Generic[T]):
    """A flow as a client runs it: iterating gives its steps, the I/O to do and the items to
    hand out. Inside `answering`, the client sets `answer` to the I/O's result; an exception
    raised there goes to the flow instead."""

    def __init__(self, flow: Items[T]) -> None:
        self._flow = flow
        self.answer: Any = None
        self._error: Exception | None = None

    def __iter__(self) -> Run[T]:
        return self

    def __next__(self) -> Step | T:
        answer, error = self.answer, self._error
        self.answer = self._error = None
        return self._flow.send(answer) if error is None else self._flow.throw(error)

    @contextmanager
    def answering(self) -> Iterator[None]:
        try:
            yield
        except Exception as exc:
            self._error = exc

    def close(self) -> None:
        self._flow.close()


def request(http: httpx.Client | httpx.AsyncClient, call: Call, content: Any) -> httpx.Request:
    """The request ``call`` describes, on ``http``'s base URL and headers."""
    headers = {**SSE_HEADERS, **call.headers} if call.stream == "sse" else call.headers
    return http.build_request(
        call.method,
        call.url,
        params=call.params,
        json=call.json,
        headers=headers,
        content=content,
        timeout=call.timeout or httpx.USE_CLIENT_DEFAULT,
    )

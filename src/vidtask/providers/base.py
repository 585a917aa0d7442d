"""What every upstream kind provides: sans-I/O request building and response reading.

An upstream kind (`ark`, `openai_videos`, `newapi`) never does I/O. It says which HTTP call
creates, reads or cancels a task (`Call`), and what a response means (`UpstreamState`,
`Refusal`). `vidtask.providers.client` makes the calls, with the keys, limits and retries.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, Protocol

from vidtask.core.upstream import Phase

__all__ = [
    "RELAY_FIELDS",
    "Call",
    "KindDefaults",
    "Refusal",
    "RelayInput",
    "Trouble",
    "UpstreamKind",
    "UpstreamState",
    "bearer",
    "first_id",
]

#: The fields of `RelayInput`, the names a kind's ``refuses`` may list.
RELAY_FIELDS = (
    "prompt",
    "first_frame",
    "last_frame",
    "reference_images",
    "seconds",
    "width",
    "height",
    "seed",
)


@dataclass(frozen=True, slots=True)
class RelayInput:
    """A prompt-style request, as a relayed model's input holds it (validated at submit)."""

    prompt: str | None = None
    first_frame: str | None = None
    last_frame: str | None = None
    reference_images: tuple[str, ...] = ()
    seconds: int | None = None
    width: int | None = None
    height: int | None = None
    seed: int | None = None

    @classmethod
    def from_input(cls, data: dict[str, Any]) -> RelayInput:
        return cls(
            prompt=data.get("prompt"),
            first_frame=data.get("first_frame"),
            last_frame=data.get("last_frame"),
            reference_images=tuple(data.get("reference_images") or ()),
            seconds=data.get("seconds"),
            width=data.get("width"),
            height=data.get("height"),
            seed=data.get("seed"),
        )


@dataclass(frozen=True, slots=True)
class Call:
    """One HTTP request to the provider, relative to its ``base_url``."""

    method: str
    path: str
    json: dict[str, Any] | None = None
    #: Headers this call needs besides the key's (DashScope's ``X-DashScope-Async``).
    headers: Mapping[str, str] | None = None


@dataclass(frozen=True, slots=True)
class UpstreamState:
    """What one status read said."""

    word: str
    phase: Phase
    #: The provider's own progress (0-100), when it reports one.
    progress: float | None = None
    video_url: str | None = None
    last_frame_url: str | None = None
    #: Whether ``video_url`` needs the provider key (OpenAI's content endpoint) or must not
    #: get it (a signed storage URL on another host).
    video_needs_key: bool = False
    error: str | None = None
    #: Tasks ahead of this one in the provider's queue, when it says (fal's ``queue_position``).
    queue_position: int | None = None
    #: The provider's log lines so far, when it gives them (Replicate's and fal's ``logs``).
    logs: tuple[str, ...] = ()
    #: Preview frame URLs so far (Scenext's), fetched like a result and kept as the task's.
    previews: tuple[str, ...] = ()
    extra: dict[str, Any] = field(default_factory=dict)
    #: One more read before the result is known (MiniMax answers a ``file_id``, and its files
    #: endpoint the download URL): the poller makes it and hands the answer to ``resolve``.
    then: Call | None = None


class Trouble(StrEnum):
    """Why a provider refused a call, which decides what happens next."""

    #: Try again later (429, 5xx, a network error): same key, backoff, ``Retry-After``.
    RETRY = "retry"
    #: The key is bad or out of quota (401, 403, quota exhausted): park it, use another.
    KEY = "key"
    #: The request itself is wrong (4xx about the input): fail, never try elsewhere.
    INPUT = "input"
    #: The task is gone upstream (404 on a read).
    GONE = "gone"


@dataclass(frozen=True, slots=True)
class Refusal:
    trouble: Trouble
    message: str


class UpstreamKind(Protocol):
    kind: str
    #: `RelayInput` fields this kind cannot send: a task that gives one is refused at submit
    #: (400 naming the field and the provider) rather than silently made without it.
    refuses: frozenset[str]
    #: Whether the documentation offers a way to stop a task that has not started.
    can_cancel: bool
    #: Whether status answers carry the provider's own progress (else it is estimated).
    reports_progress: bool
    #: Whether the provider calls back (``callback_url``) on status changes.
    calls_back: bool

    def create(self, model: str, request: RelayInput, callback_url: str | None) -> Call: ...

    def created_id(self, body: Any) -> str:
        """The upstream task id in a create response; `ValueError` if there is none."""
        ...

    def status(self, upstream_id: str) -> Call: ...

    def state(self, provider: str, upstream_id: str, body: Any) -> UpstreamState:
        """Read a status response; an unknown status word raises `UpstreamError`."""
        ...

    def cancel(self, upstream_id: str) -> Call | None: ...

    def check(self) -> Call:
        """A cheap authenticated read, to tell whether a key works (`vidtask providers check`);
        a 404 answer counts as working."""
        ...

    def refusal(self, status_code: int, body: Any) -> Refusal:
        """What a non-2xx answer means, with the provider's message (never a key)."""
        ...

    def refusal_in(self, body: Any) -> Refusal | None:
        """A refusal inside a 2xx answer (MiniMax's ``base_resp``), or None."""
        ...

    def auth(self, secret: str) -> dict[str, str]:
        """The headers that carry the key (the client never logs them)."""
        ...

    def resolve(self, provider: str, state: UpstreamState, body: Any) -> UpstreamState:
        """``state`` completed with the answer to its ``then`` call."""
        ...


def bearer(secret: str) -> dict[str, str]:
    """``Authorization: Bearer <key>``, what every kind so far documents."""
    return {"Authorization": f"Bearer {secret}"}


class KindDefaults:
    """What most kinds share, so that a kind states only where it differs: the key as a
    bearer token, every input field sent, errors only in non-2xx answers, no extra read."""

    refuses: frozenset[str] = frozenset()

    def auth(self, secret: str) -> dict[str, str]:
        return bearer(secret)

    def refusal_in(self, body: Any) -> Refusal | None:
        return None

    def resolve(self, provider: str, state: UpstreamState, body: Any) -> UpstreamState:
        raise NotImplementedError(f"{type(self).__name__} asks for no extra read")


def first_id(body: Any, *keys: str) -> str:
    """The first non-empty string among ``keys`` of a create answer (the upstream task id), or
    `ValueError`."""
    if isinstance(body, dict):
        for key in keys:
            if isinstance(body.get(key), str) and body[key]:
                return str(body[key])
    raise ValueError(f"the create answer has no {' or '.join(keys)}")


def error_fields(body: Any) -> tuple[str, str]:
    """``(code, message)`` from an ``{"error": {...}}`` envelope (Ark and OpenAI), else blanks."""
    error = body.get("error") if isinstance(body, dict) else None
    if not isinstance(error, dict):
        return "", ""
    return str(error.get("code") or ""), str(error.get("message") or "")


def default_refusal(status_code: int, code: str, message: str) -> Refusal:
    """The usual reading of an HTTP status: 429/5xx retry, 401/403 the key, 404 gone, else input."""
    text = (
        f"HTTP {status_code}" + (f" {code}" if code else "") + (f": {message}" if message else "")
    )
    if status_code in (408, 409, 425, 429) or status_code >= 500:
        return Refusal(Trouble.RETRY, text)
    if status_code in (401, 403):
        return Refusal(Trouble.KEY, text)
    if status_code == 404:
        return Refusal(Trouble.GONE, text)
    return Refusal(Trouble.INPUT, text)

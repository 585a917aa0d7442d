"""The canonical task and its state machine.

    queued ──claim──▶ in_progress ──finish──▶ completed | failed | cancelled
      │  ▲                 │
      │  └──requeue (worker lost, attempts remain)
      └──cancel──▶ cancelled

A terminal status is written once (the store does it by compare-and-swap), progress never
decreases and ``version`` goes up on every change. Times are unix seconds (float); the clock
is always passed in.

``MOVES`` is the state machine, written once: each store operation that changes a status, with
the statuses it applies to and those it leaves. ``TRANSITIONS`` is derived from it, and so are
the store's SQL guards (``store/sql`` renders each operation's ``sources`` into its ``WHERE``).
"""

from __future__ import annotations

import base64
import secrets
from dataclasses import dataclass, field, replace
from enum import StrEnum
from typing import Any

__all__ = [
    "ACTIVE",
    "LEASED",
    "MOVES",
    "Links",
    "Move",
    "TERMINAL",
    "TRANSITIONS",
    "Status",
    "Task",
    "TaskSpec",
    "can_transition",
    "clamp_progress",
    "new_task_id",
]


class Status(StrEnum):
    QUEUED = "queued"
    IN_PROGRESS = "in_progress"
    COMPLETED = "completed"
    FAILED = "failed"
    CANCELLED = "cancelled"

    @property
    def terminal(self) -> bool:
        return self in TERMINAL


TERMINAL = frozenset({Status.COMPLETED, Status.FAILED, Status.CANCELLED})
ACTIVE = frozenset({Status.QUEUED, Status.IN_PROGRESS})
#: The statuses in which a worker holds the task's lease: its fenced writes (heartbeat, report,
#: checkpoint) need one of them, and a cancel of such a task is a request to its worker.
LEASED = frozenset({Status.IN_PROGRESS})


@dataclass(frozen=True, slots=True)
class Move:
    """A store operation that changes a task's status: it applies to a task in one of
    ``sources`` (to no other) and leaves it in one of ``targets``."""

    sources: frozenset[Status]
    targets: frozenset[Status]


#: Every store operation that changes a status, by the name the store's SQL uses for it.
MOVES: dict[str, Move] = {
    # a worker takes the task and holds its lease
    "claim": Move(frozenset({Status.QUEUED}), LEASED),
    # cancelled at once; a running task is flagged instead, and its worker finishes it
    "cancel": Move(frozenset({Status.QUEUED}), frozenset({Status.CANCELLED})),
    # the worker writes the outcome, once
    "finish": Move(LEASED, TERMINAL),
    # a worker that shuts down hands the task back without using up the attempt
    "release": Move(LEASED, frozenset({Status.QUEUED})),
    # the worker is gone: requeued while attempts remain, else failed (cancelled if asked)
    "recover": Move(LEASED, frozenset({Status.QUEUED, Status.FAILED, Status.CANCELLED})),
    # past its deadline
    "expire": Move(ACTIVE, frozenset({Status.FAILED})),
}

#: Every legal status change, from ``MOVES``. Requeue (in_progress -> queued) happens when a
#: worker is lost and attempts remain. Terminal statuses have no way out.
TRANSITIONS: dict[Status, frozenset[Status]] = {
    status: frozenset(
        target for move in MOVES.values() if status in move.sources for target in move.targets
    )
    for status in Status
}


def can_transition(old: Status, new: Status) -> bool:
    return new in TRANSITIONS[old]


def new_task_id() -> str:
    """``vt_`` + 26 lowercase base32 characters (130 random bits): unguessable."""
    raw = secrets.token_bytes(17)
    return "vt_" + base64.b32encode(raw).decode("ascii").lower()[:26]


def clamp_progress(current: float, new: float) -> float:
    """Progress is 0-100 and never goes down."""
    return max(current, min(100.0, max(0.0, new)))


@dataclass(frozen=True, slots=True)
class TaskSpec:
    """What a dialect parser produces: everything needed to create a task."""

    model: str
    input: dict[str, Any]
    priority: int = 0
    webhook_url: str | None = None
    #: The payload shape sent to ``webhook_url``: ``native`` (Standard Webhooks event), or a
    #: dialect's callback body (``ark``, ``scenext``).
    webhook_format: str = "native"
    idempotency_key: str | None = None
    #: A hash of the request body, to tell a replay from a different request with the same key.
    request_hash: str | None = None
    external_ref: dict[str, Any] = field(default_factory=dict)
    max_attempts: int = 2
    #: Seconds the task may take from submission; past them it fails with ``expired``
    #: (Ark's ``execution_expires_after``). None: no deadline.
    expires_after_s: float | None = None


@dataclass(frozen=True, slots=True)
class Task:
    id: str
    owner: str
    model: str
    input: dict[str, Any]
    status: Status
    stage: str
    progress: float
    created_at: float
    updated_at: float
    version: int
    priority: int = 0
    previews: list[dict[str, Any]] = field(default_factory=list)
    #: Artifact names and probed metadata: {video, cover, format, metadata{...}, warnings}.
    result: dict[str, Any] | None = None
    error: dict[str, str] | None = None
    started_at: float | None = None
    completed_at: float | None = None
    attempt: int = 0
    max_attempts: int = 2
    lease_owner: str | None = None
    lease_expires_at: float | None = None
    cancel_requested: bool = False
    idempotency_key: str | None = None
    request_hash: str | None = None
    webhook_url: str | None = None
    webhook_format: str = "native"
    external_ref: dict[str, Any] = field(default_factory=dict)
    expires_at: float | None = None

    @property
    def terminal(self) -> bool:
        return self.status in TERMINAL

    @property
    def warnings(self) -> list[str]:
        """What the client should know about how the task was served (set at submission, e.g.
        that ``sora-2`` is a local title-card model here), then the renderer's own."""
        if self.result is not None:  # the worker put the submit-time ones first in the result
            return [str(w) for w in self.result.get("warnings", [])]
        return [str(w) for w in self.external_ref.get("warnings", [])]

    @property
    def eta_seconds(self) -> float | None:
        """Seconds left, estimated from the progress rate as of the last update (so it is
        stable for a given version); None until there is a rate to go by."""
        if self.status is not Status.IN_PROGRESS or self.started_at is None:
            return None
        if self.progress < 1.0:
            return None
        elapsed = max(0.0, self.updated_at - self.started_at)
        return round(elapsed * (100.0 - self.progress) / self.progress, 1)

    @classmethod
    def create(cls, spec: TaskSpec, *, owner: str, now: float, task_id: str | None = None) -> Task:
        return cls(
            id=task_id or new_task_id(),
            owner=owner,
            model=spec.model,
            input=spec.input,
            status=Status.QUEUED,
            stage="queued",
            progress=0.0,
            created_at=now,
            updated_at=now,
            version=1,
            priority=spec.priority,
            idempotency_key=spec.idempotency_key,
            request_hash=spec.request_hash,
            webhook_url=spec.webhook_url,
            webhook_format=spec.webhook_format,
            external_ref=dict(spec.external_ref),
            max_attempts=spec.max_attempts,
            expires_at=None if spec.expires_after_s is None else now + spec.expires_after_s,
        )

    def evolve(self, **changes: Any) -> Task:
        return replace(self, **changes)


@dataclass(frozen=True, slots=True)
class Links:
    """Absolute, signed URLs of a task's artifacts (empty until they exist). Views get these
    from the service, so they stay pure."""

    video_url: str | None = None
    cover_url: str | None = None
    previews: tuple[dict[str, str], ...] = ()
    #: A PNG of the video's last frame, made from the video when first fetched.
    last_frame_url: str | None = None

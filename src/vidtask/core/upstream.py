"""Upstream status words, mapped into vidtask's task life in one table.

A relayed task is ``in_progress`` from the moment a poller takes it until the provider finishes
it. What the provider says while it works becomes the task's *stage* (``upstream_queued``,
``upstream_running``); what it says at the end becomes the terminal status and error code. A word
the table does not know fails the task with ``upstream_error`` naming the provider and the word:
a relay never guesses that an unknown word means "still running".
"""

from __future__ import annotations

from enum import StrEnum

from vidtask.core import errors

__all__ = ["UPSTREAM_WORDS", "Phase", "phase_of"]


class Phase(StrEnum):
    """Where an upstream task is, in vidtask's words."""

    QUEUED = "upstream_queued"
    RUNNING = "upstream_running"
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    CANCELLED = "cancelled"
    #: The provider gave up on the task for lack of time (Ark's ``execution_expires_after``).
    EXPIRED = "expired"
    #: The relay lost track of its own upstream (New API's ``unknown``): poll on for a bounded
    #: grace, then fail.
    LOST = "lost"

    @property
    def finished(self) -> bool:
        return self in _FINISHED


_FINISHED = frozenset({Phase.SUCCEEDED, Phase.FAILED, Phase.CANCELLED, Phase.EXPIRED})

#: Per upstream kind, every status word its documentation lists (docs/providers.md cites them).
UPSTREAM_WORDS: dict[str, dict[str, Phase]] = {
    "ark": {
        "queued": Phase.QUEUED,
        "running": Phase.RUNNING,
        "succeeded": Phase.SUCCEEDED,
        "failed": Phase.FAILED,
        "cancelled": Phase.CANCELLED,
        "expired": Phase.EXPIRED,
    },
    "openai_videos": {
        "queued": Phase.QUEUED,
        "in_progress": Phase.RUNNING,
        "completed": Phase.SUCCEEDED,
        "failed": Phase.FAILED,
    },
    "newapi": {
        "queued": Phase.QUEUED,
        "in_progress": Phase.RUNNING,
        "completed": Phase.SUCCEEDED,
        "failed": Phase.FAILED,
        "unknown": Phase.LOST,
    },
    "minimax": {
        "Preparing": Phase.QUEUED,
        "Queueing": Phase.QUEUED,
        "Processing": Phase.RUNNING,
        "Success": Phase.SUCCEEDED,
        "Fail": Phase.FAILED,
    },
    "dashscope": {
        "PENDING": Phase.QUEUED,
        "RUNNING": Phase.RUNNING,
        "SUCCEEDED": Phase.SUCCEEDED,
        "FAILED": Phase.FAILED,
        "CANCELED": Phase.CANCELLED,
        # An unknown id, or one past the 24 h DashScope keeps tasks: nothing will come.
        "UNKNOWN": Phase.FAILED,
    },
    "runway": {
        "PENDING": Phase.QUEUED,
        # Waiting for a free slot of the organization's concurrency: still queued.
        "THROTTLED": Phase.QUEUED,
        "RUNNING": Phase.RUNNING,
        "SUCCEEDED": Phase.SUCCEEDED,
        "FAILED": Phase.FAILED,
        "CANCELLED": Phase.CANCELLED,
    },
    "kling": {
        "submitted": Phase.QUEUED,
        "processing": Phase.RUNNING,
        "succeed": Phase.SUCCEEDED,
        "failed": Phase.FAILED,
    },
    # A Gemini API operation has no status word, only ``done`` and ``error``: these are the
    # names `vidtask.providers.veo` gives its cases (docs/providers.md, Veo section).
    "veo": {
        "running": Phase.RUNNING,  # done is false or absent
        "done": Phase.SUCCEEDED,  # done, with a video
        "filtered": Phase.FAILED,  # done, every video withheld by the safety filters
        "error": Phase.FAILED,  # the operation carries an error
    },
    "luma": {
        "queued": Phase.QUEUED,
        "dreaming": Phase.RUNNING,
        "completed": Phase.SUCCEEDED,
        "failed": Phase.FAILED,
    },
    "replicate": {
        # Booting a worker, or waiting for one: nothing of the model has run yet.
        "starting": Phase.QUEUED,
        "processing": Phase.RUNNING,
        "succeeded": Phase.SUCCEEDED,
        "failed": Phase.FAILED,
        "canceled": Phase.CANCELLED,
        # Its deadline passed before it started running.
        "aborted": Phase.EXPIRED,
    },
    "fal": {
        "IN_QUEUE": Phase.QUEUED,
        "IN_PROGRESS": Phase.RUNNING,
        # A completed request may carry an error: the kind reads it as failed (or cancelled).
        "COMPLETED": Phase.SUCCEEDED,
    },
    "vidu": {
        "created": Phase.QUEUED,
        "queueing": Phase.QUEUED,
        "processing": Phase.RUNNING,
        "success": Phase.SUCCEEDED,
        # A cancelled task reads failed with err_code UserCancelled (the kind tells them apart).
        "failed": Phase.FAILED,
    },
    "scenext": {
        # The only word before the end: queued and rendering alike.
        "IN_PROGRESS": Phase.RUNNING,
        "COMPLETED": Phase.SUCCEEDED,
        "FAILED": Phase.FAILED,
    },
}


def phase_of(kind: str, provider: str, word: object) -> Phase:
    """The phase of ``word`` as upstream kind ``kind`` uses it, or `UpstreamError` naming the
    provider and the word when the table does not know it."""
    phase = UPSTREAM_WORDS[kind].get(word) if isinstance(word, str) else None
    if phase is None:
        raise errors.UpstreamError(
            f"provider {provider!r} answered with the status {word!r}, which vidtask does not "
            f"know for a {kind} upstream ({', '.join(UPSTREAM_WORDS[kind])})"
        )
    return phase

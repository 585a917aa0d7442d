"""The vocabulary of the simulators: task phases, API operations, error kinds and test scripts.

``Phase`` is the provider-neutral life of a simulated task; each provider names the phases with
its own status words. ``Outcome`` and ``Script`` are what a test chooses for the tasks whose
prompt matches (see ``Simulator.script``), or what a ``[sim:<outcome>]`` marker in a prompt asks
for when the test cannot reach the simulator object (a benchmark in another process).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum
from typing import TypedDict

__all__ = ["TERMINAL", "Op", "Outcome", "Phase", "Refusal", "Script", "ScriptOptions", "marker"]


class Phase(StrEnum):
    """Where a simulated task is in its life."""

    QUEUED = "queued"
    RUNNING = "running"
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    EXPIRED = "expired"
    CANCELLED = "cancelled"


TERMINAL = frozenset({Phase.SUCCEEDED, Phase.FAILED, Phase.EXPIRED, Phase.CANCELLED})


class Op(StrEnum):
    """An API operation, for counting requests and aiming faults (``on=Op.CREATE``)."""

    CREATE = "create"
    GET = "get"
    LIST = "list"
    DELETE = "delete"
    CONTENT = "content"


class Refusal(StrEnum):
    """What went wrong with a request; each provider renders it in its own error envelope."""

    INVALID = "invalid"  # the input: never worth retrying elsewhere
    UNAUTHORIZED = "unauthorized"
    QUOTA = "quota"  # the key's balance or quota is exhausted
    RATE_LIMITED = "rate_limited"
    SERVER_ERROR = "server_error"
    NOT_FOUND = "not_found"
    CONFLICT = "conflict"  # the task's status does not allow the operation


class Outcome(StrEnum):
    """How a scripted task ends."""

    SUCCEED = "succeed"
    FAIL = "fail"  # ends in the provider's failed status, with its error object
    HANG = "hang"  # stays running (a provider's own expiry still applies: Ark)
    UNKNOWN_STATUS = "unknown_status"  # reads show a status word the docs do not list
    EXPIRE = "expire"  # Ark: status expired; others: succeeds with the result already expired
    RESULT_404 = "result_404"  # succeeds, but downloading the result answers 404
    RESULT_TRUNCATED = "result_truncated"  # succeeds; the download stops halfway and closes


class ScriptOptions(TypedDict, total=False):
    """The options of ``Simulator.script`` (all optional; see ``Script``)."""

    status_word: str
    word_polls: int | None
    error_code: str | int
    error_message: str
    callback_before_create: bool
    callback_copies: int
    bad_downloads: int | None
    queue_s: float
    run_s: float


@dataclass(frozen=True, slots=True, kw_only=True)
class Script:
    """What a test wants from the tasks whose prompt matches."""

    outcome: Outcome = Outcome.SUCCEED
    #: UNKNOWN_STATUS: the word to report (default: the provider's ``unknown_word``).
    status_word: str | None = None
    #: UNKNOWN_STATUS: how many status reads show the word before the real one; None: forever.
    word_polls: int | None = None
    #: FAIL: the error code and message (default: the provider's).
    error_code: str | int | None = None
    error_message: str | None = None
    #: Send the first callback (``queued``) and wait for its answer before answering the create.
    callback_before_create: bool = False
    #: Send every callback this many times (duplicates).
    callback_copies: int = 1
    #: RESULT_404 / RESULT_TRUNCATED: how many downloads fail before one works; None: all.
    bad_downloads: int | None = None
    #: This task's own life, instead of the simulator's defaults.
    queue_s: float | None = None
    run_s: float | None = None

    def __post_init__(self) -> None:
        if self.callback_copies < 1:
            raise ValueError("callback_copies must be at least 1")
        if self.word_polls is not None and self.word_polls < 0:
            raise ValueError("word_polls must be None or at least 0")


_MARKER = re.compile(r"\[sim:([a-z0-9_]+)\]")


def marker(prompt: str) -> Script | None:
    """The script a ``[sim:<outcome>]`` marker asks for, e.g. ``"a cat [sim:hang]"``.

    An unknown outcome name raises ``ValueError``: a typo must not pass as a normal task."""
    found = _MARKER.search(prompt)
    if found is None:
        return None
    return Script(outcome=Outcome(found.group(1)))

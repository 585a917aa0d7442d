"""The `ArtifactStore` protocol: where the files of finished attempts live.

An artifact is named relative to its task, ``<attempt>/<file>`` (``1/video.mp4``), and each
attempt writes only its own names, so a late write from a lost attempt never clobbers the files
of the attempt that won. `vidtask.storage.open_artifacts` picks the implementation; everything
else holds an `ArtifactStore`.

Links to artifacts are signed separately (`vidtask.storage.signing`): a link names our own
``/v1/files`` route, whose HMAC does not depend on where the bytes are, so every store serves
through that one door. A store that can hand out links of its own (an object store's presigned
URLs) says so through `ArtifactStore.url`; clients then fetch from it directly.
"""

from __future__ import annotations

import errno
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

__all__ = ["ArtifactInfo", "ArtifactStore", "ArtifactStoreError", "is_task_id"]


@dataclass(frozen=True, slots=True)
class ArtifactInfo:
    """What an HTTP response needs to know about one artifact before sending it."""

    #: Length in bytes.
    size: int
    #: Last change, in Unix seconds (``Last-Modified``).
    modified: float


class ArtifactStoreError(OSError):
    """A store that could not take or give a file: an object store that refused the request or
    could not be reached (after its own retries). An `OSError` like a full disk, so every caller
    that survives a failed write survives this one; its ``strerror`` names the store and the
    reason, and a task that could not save its result fails with it as ``storage_error``."""

    def __init__(self, message: str) -> None:
        super().__init__(errno.EIO, message)


def is_task_id(task_id: str) -> bool:
    """Whether ``task_id`` can name a task's artifacts (never a path)."""
    return task_id.startswith("vt_") and "/" not in task_id


class ArtifactStore(Protocol):
    """The files of each task's attempts. Methods given a bad or unknown name answer None (or
    nothing), never a file outside the task."""

    @property
    def local_root(self) -> Path | None:
        """The folder on this machine that holds the artifacts, which a full disk names; None
        when they live elsewhere (an object store)."""
        ...

    def save(self, task_id: str, attempt: int, files: list[Path]) -> list[str]:
        """Move ``files`` (in a scratch folder) into the attempt's artifacts, keeping their
        file names; return their artifact names, in order. Raises `OSError` (a full disk,
        `ArtifactStoreError`); then some of the files may be saved (`discard_attempt` them)."""
        ...

    def names(self, task_id: str, attempt: int) -> list[str]:
        """The artifact names of one attempt, sorted."""
        ...

    def stat(self, task_id: str, name: str) -> ArtifactInfo | None:
        """Size and age of an artifact; None if the name is bad or the file is gone."""
        ...

    def read_range(
        self, task_id: str, name: str, start: int = 0, stop: int | None = None
    ) -> Iterator[bytes]:
        """The bytes ``start`` to ``stop - 1`` (``stop`` None: to the end) of an artifact, in
        chunks. Raises `FileNotFoundError` when it is gone (check `stat` first)."""
        ...

    def local_path(self, task_id: str, name: str) -> Path | None:
        """The file behind an artifact when it is on this machine's filesystem (read it in
        place); None if the name is bad, the file is gone, or the store is not local."""
        ...

    def url(self, task_id: str, name: str, expires_at: int) -> str | None:
        """A link that fetches the artifact straight from the store until ``expires_at`` (Unix
        seconds), or None: link to vidtask's own signed ``/v1/files`` route (the default; a
        local store always answers None)."""
        ...

    def discard_attempt(self, task_id: str, attempt: int) -> None:
        """Delete one attempt's artifacts (a failed, cancelled or superseded attempt)."""
        ...

    def delete(self, task_id: str) -> None:
        """Delete every artifact of a task (the task was deleted)."""
        ...

    def sweep_uploads(self, now: float) -> int:
        """Abort the uploads that began long before ``now`` and never finished (a worker killed
        mid-upload leaves one, invisible among the artifacts but billed); how many. Called by
        the leftovers sweep every few seconds, so a store that must list remotely does so at
        its own pace. A store whose files appear whole at once has none: 0."""
        ...

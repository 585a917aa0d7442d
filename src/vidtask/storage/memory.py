"""An `ArtifactStore` in a dict: the fake for tests, and the shape of a store that is not on
this machine's filesystem (`local_path` and `local_root` are None), as an object store is."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path

from vidtask.storage.base import ArtifactInfo, is_task_id

__all__ = ["MemoryArtifacts"]


class MemoryArtifacts:
    """Artifacts kept as bytes, keyed by ``(task_id, name)``."""

    def __init__(self, clock_s: float = 0.0, chunk: int = 64 * 1024) -> None:
        self.files: dict[tuple[str, str], tuple[bytes, float]] = {}
        self._clock_s = clock_s
        self._chunk = chunk
        self._lock = threading.Lock()

    @property
    def local_root(self) -> Path | None:
        return None

    def save(self, task_id: str, attempt: int, files: list[Path]) -> list[str]:
        names = []
        for file in files:
            name = f"{attempt}/{file.name}"
            data = file.read_bytes()
            with self._lock:
                self.files[task_id, name] = (data, self._clock_s)
            file.unlink()
            names.append(name)
        return names

    def names(self, task_id: str, attempt: int) -> list[str]:
        prefix = f"{attempt}/"
        with self._lock:
            return sorted(n for t, n in self.files if t == task_id and n.startswith(prefix))

    def stat(self, task_id: str, name: str) -> ArtifactInfo | None:
        found = self._get(task_id, name)
        return None if found is None else ArtifactInfo(size=len(found[0]), modified=found[1])

    def read_range(
        self, task_id: str, name: str, start: int = 0, stop: int | None = None
    ) -> Iterator[bytes]:
        found = self._get(task_id, name)
        if found is None:
            raise FileNotFoundError(f"no artifact {name!r} of task {task_id}")
        data = found[0][start:stop]
        return iter([data[i : i + self._chunk] for i in range(0, len(data), self._chunk)])

    def local_path(self, task_id: str, name: str) -> Path | None:
        return None

    def url(self, task_id: str, name: str, expires_at: int) -> str | None:
        return None  # served through vidtask's signed /v1/files links

    def discard_attempt(self, task_id: str, attempt: int) -> None:
        prefix = f"{attempt}/"
        with self._lock:
            for key in [k for k in self.files if k[0] == task_id and k[1].startswith(prefix)]:
                del self.files[key]

    def delete(self, task_id: str) -> None:
        with self._lock:
            for key in [k for k in self.files if k[0] == task_id]:
                del self.files[key]

    def sweep_uploads(self, now: float) -> int:
        return 0

    def _get(self, task_id: str, name: str) -> tuple[bytes, float] | None:
        if not is_task_id(task_id) or ".." in name.split("/"):
            return None
        with self._lock:
            return self.files.get((task_id, name))

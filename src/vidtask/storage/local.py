"""Artifacts on a local (or shared, e.g. NFS) directory: ``<root>/<task_id>/<attempt>/<file>``.

Each attempt writes its own folder, so a late write from a lost attempt can never clobber the
files of the attempt that won.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

from vidtask.storage.base import ArtifactInfo, is_task_id

__all__ = ["LocalArtifacts"]

#: Bytes per chunk of `LocalArtifacts.read_range` (Starlette's FileResponse reads 64 KiB too).
_CHUNK = 64 * 1024


class LocalArtifacts:
    """The `ArtifactStore` of one directory."""

    def __init__(self, root: Path) -> None:
        self.root = root
        root.mkdir(parents=True, exist_ok=True)

    @property
    def local_root(self) -> Path:
        return self.root

    def save(self, task_id: str, attempt: int, files: list[Path]) -> list[str]:
        """Move files into the attempt's folder; return their names relative to the task."""
        folder = self.root / task_id / str(attempt)
        folder.mkdir(parents=True, exist_ok=True)
        names = []
        for file in files:
            shutil.move(str(file), folder / file.name)
            names.append(f"{attempt}/{file.name}")
        return names

    def names(self, task_id: str, attempt: int) -> list[str]:
        if not is_task_id(task_id):
            return []
        folder = self.root / task_id / str(attempt)
        if not folder.is_dir():
            return []
        found = (f"{attempt}/{file.name}" for file in sorted(folder.iterdir()))
        return [name for name in found if self.path(task_id, name) is not None]

    def stat(self, task_id: str, name: str) -> ArtifactInfo | None:
        path = self.path(task_id, name)
        if path is None:
            return None
        try:
            found = path.stat()
        except FileNotFoundError:
            return None
        return ArtifactInfo(size=found.st_size, modified=found.st_mtime)

    def read_range(
        self, task_id: str, name: str, start: int = 0, stop: int | None = None
    ) -> Iterator[bytes]:
        path = self.path(task_id, name)
        if path is None:
            raise FileNotFoundError(f"no artifact {name!r} of task {task_id}")
        return _chunks(path, start, stop)

    def local_path(self, task_id: str, name: str) -> Path | None:
        return self.path(task_id, name)

    def path(self, task_id: str, name: str) -> Path | None:
        """The file behind an artifact name, or None if the name is bad or the file is gone."""
        if not is_task_id(task_id) or ".." in name.split("/"):
            return None
        base = (self.root / task_id).resolve()
        candidate = (base / name).resolve()
        if base not in candidate.parents or not candidate.is_file():
            return None
        return candidate

    def url(self, task_id: str, name: str, expires_at: int) -> str | None:
        return None  # served through vidtask's signed /v1/files links

    def discard_attempt(self, task_id: str, attempt: int) -> None:
        shutil.rmtree(self.root / task_id / str(attempt), ignore_errors=True)

    def delete(self, task_id: str) -> None:
        if is_task_id(task_id):
            shutil.rmtree(self.root / task_id, ignore_errors=True)

    def sweep_uploads(self, now: float) -> int:
        return 0  # a save is a rename: no half-made file is ever an artifact


def _chunks(path: Path, start: int, stop: int | None) -> Iterator[bytes]:
    with path.open("rb") as file:
        file.seek(start)
        left = None if stop is None else max(0, stop - start)
        while left is None or left > 0:
            chunk = file.read(_CHUNK if left is None else min(_CHUNK, left))
            if not chunk:
                return
            if left is not None:
                left -= len(chunk)
            yield chunk

"""Artifacts on a local (or shared, e.g. NFS) directory: ``<root>/<task_id>/<attempt>/<file>``.

Each attempt writes its own folder, so a late write from a lost attempt can never clobber the
files of the attempt that won.
"""

from __future__ import annotations

import shutil
from pathlib import Path

__all__ = ["LocalArtifacts"]


class LocalArtifacts:
    def __init__(self, root: Path) -> None:
        self.root = root
        root.mkdir(parents=True, exist_ok=True)

    def save(self, task_id: str, attempt: int, files: list[Path]) -> list[str]:
        """Move files into the attempt's folder; return their names relative to the task."""
        folder = self.root / task_id / str(attempt)
        folder.mkdir(parents=True, exist_ok=True)
        names = []
        for file in files:
            shutil.move(str(file), folder / file.name)
            names.append(f"{attempt}/{file.name}")
        return names

    def path(self, task_id: str, name: str) -> Path | None:
        """The file behind an artifact name, or None if the name is bad or the file is gone."""
        if not task_id.startswith("vt_") or "/" in task_id or ".." in name.split("/"):
            return None
        base = (self.root / task_id).resolve()
        candidate = (base / name).resolve()
        if base not in candidate.parents or not candidate.is_file():
            return None
        return candidate

    def discard_attempt(self, task_id: str, attempt: int) -> None:
        shutil.rmtree(self.root / task_id / str(attempt), ignore_errors=True)

    def delete(self, task_id: str) -> None:
        if task_id.startswith("vt_") and "/" not in task_id:
            shutil.rmtree(self.root / task_id, ignore_errors=True)

"""Inputs: files a client sent for timelines to name (``POST /v1/uploads``, images inside
create requests, unpacked JianYing drafts), kept where every renderer can read them.

An input has a relative path, ``uploads/<sha256>.png``. `vidtask.storage.open_inputs` picks the
`InputStore`: the first asset root on this machine (`LocalInputs`, where a renderer on the same
machine or with the same folder mounted finds it among its asset roots), or, when artifacts are
in a bucket, the bucket's ``<prefix>/inputs/`` (`vidtask.storage.s3.S3Inputs`, which the
renderer is given as its `vidtask.render.assets.InputSource`), so machines share no folder.
Routes write through this one seam and never ask which store it is.
"""

from __future__ import annotations

import os
from pathlib import Path, PurePosixPath
from typing import Protocol

__all__ = ["InputStore", "LocalInputs", "input_path"]


def input_path(path: str) -> str | None:
    """``path`` as an input's name, or None when it could leave the inputs (absolute, ``..``,
    empty parts)."""
    parts = path.split("/")
    if path.startswith("/") or any(part in ("", ".", "..") or "\x00" in part for part in parts):
        return None
    return str(PurePosixPath(*parts))


class InputStore(Protocol):
    """Where a machine that takes inputs in keeps them."""

    @property
    def staging(self) -> Path:
        """A folder on this machine for files on their way in: write one here, then `keep`
        it (a local store moves it in place, so staging is on the same filesystem)."""
        ...

    def keep(self, file: Path, path: str) -> None:
        """Make ``file`` (under `staging`) the input ``path``; the local file is gone after.
        Inputs are content-addressed, so one that is already there is kept as it is. Raises
        `OSError` (`vidtask.storage.base.ArtifactStoreError` for a bucket) or `ValueError`
        for a bad ``path``."""
        ...

    def src(self, path: str) -> str:
        """What a timeline's ``src`` says to name the input ``path``."""
        ...


class LocalInputs:
    """Inputs under a folder on this machine (the first asset root)."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder

    @property
    def staging(self) -> Path:
        return self.folder

    def keep(self, file: Path, path: str) -> None:
        dest = self.folder / _checked(path)
        if file.resolve() == dest.resolve():
            return  # written in place (an unpacked folder under staging)
        dest.parent.mkdir(parents=True, exist_ok=True)
        if dest.is_file():
            file.unlink()
        else:
            os.replace(file, dest)

    def src(self, path: str) -> str:
        return str(self.folder / _checked(path))


def _checked(path: str) -> str:
    name = input_path(path)
    if name is None:
        raise ValueError(f"not an input path: {path!r}")
    return name

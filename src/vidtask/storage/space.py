"""Free disk space: what ``storage_error``, ``vidtask doctor`` and ``/readyz`` report.

A full disk shows up in many shapes: ``OSError(ENOSPC)`` from Python, SQLite's "database or
disk is full" (the stores raise ``StorageError`` for it), or ffmpeg's "No space left on device"
in a ``render_failed`` message. `is_full` recognises each, so a task fails with one clear
``storage_error`` instead of ``render_failed`` or ``worker_lost``.
"""

from __future__ import annotations

import errno
import shutil
from pathlib import Path

from vidtask.core import errors

__all__ = ["free_bytes", "is_full", "low_space", "out_of_space"]

_FULL_ERRNOS = frozenset({errno.ENOSPC, errno.EDQUOT})
#: How ffmpeg and other programs say it (strerror of ENOSPC and EDQUOT).
_FULL_TEXTS = ("No space left on device", "Disk quota exceeded")


def free_bytes(path: Path) -> int:
    """Bytes free to unprivileged users on the filesystem holding ``path`` (or its nearest
    existing parent)."""
    while not path.exists() and path != path.parent:
        path = path.parent
    return shutil.disk_usage(path).free


def out_of_space(path: Path) -> errors.StorageError:
    """``no space left on /data (12 KB free)``."""
    return errors.no_space(str(path), free_bytes(path))


def is_full(exc: BaseException) -> bool:
    """Whether ``exc`` (or one of its causes) means the disk is full."""
    seen: BaseException | None = exc
    while seen is not None:
        if isinstance(seen, errors.StorageError):
            return True
        if isinstance(seen, OSError) and seen.errno in _FULL_ERRNOS:
            return True
        if isinstance(seen, errors.VidtaskError) and any(t in seen.message for t in _FULL_TEXTS):
            return True
        seen = seen.__cause__ or seen.__context__
    return False


def low_space(path: Path, minimum: int) -> str | None:
    """A warning when less than ``minimum`` bytes are free under ``path``, else None."""
    free = free_bytes(path)
    if free >= minimum:
        return None
    return (
        f"low disk space on {path}: {errors.size_text(free)} free, below "
        f"VIDTASK_MIN_FREE_BYTES ({errors.size_text(minimum)}); renders need room for sources "
        "and output"
    )

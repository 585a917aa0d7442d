"""Children that cannot outlive their parent: Linux's ``PR_SET_PDEATHSIG``.

Used for the worker processes (they die with the server) and for ffmpeg (it dies with its
worker), so a SIGKILL anywhere up the tree leaves no orphan render running. The signal fires
when the parent *thread* that forked exits, so spawn from a thread that lives as long as the
child.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import os
import signal
from collections.abc import Callable

__all__ = ["die_with_parent"]

_PR_SET_PDEATHSIG = 1
_libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True)


def die_with_parent(parent_pid: int) -> Callable[[], None]:
    """A ``preexec_fn`` (no imports, no allocation) for `subprocess.Popen`."""

    def preexec() -> None:
        _libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
        if os.getppid() != parent_pid:  # the parent died before prctl took effect
            os._exit(1)

    return preexec

"""Local files a task input names (a clip's ``src``, a slide's ``images``), found on the client's
machine so the client can upload them (``POST /v1/uploads``) before it submits.

A name counts as local when it is not a URL and names an existing file, absolute or relative to
the folder the input came from; names that are not files here are left for the server, whose
asset roots may hold them.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

__all__ = ["local_files", "with_sources"]

#: Keys whose string value is a file name; ``images`` holds a list of them.
_FILE_KEYS = frozenset({"src", "opening_image"})
_LIST_KEYS = frozenset({"images"})


def _names(value: Any) -> list[str]:
    found: list[str] = []
    if isinstance(value, dict):
        for key, item in value.items():
            if key in _FILE_KEYS and isinstance(item, str):
                found.append(item)
            elif key in _LIST_KEYS and isinstance(item, list):
                found.extend(i for i in item if isinstance(i, str))
            else:
                found.extend(_names(item))
    elif isinstance(value, list):
        for item in value:
            found.extend(_names(item))
    return found


def local_files(data: Any, base: Path) -> dict[str, Path]:
    """The names in ``data`` that are files on this machine, to their paths."""
    found: dict[str, Path] = {}
    for name in _names(data):
        if urlsplit(name).scheme or name in found:
            continue
        path = Path(name).expanduser()
        path = path if path.is_absolute() else base / path
        if path.is_file():
            found[name] = path
    return found


def with_sources(data: Any, rename: Callable[[str], str]) -> Any:
    """A copy of ``data`` with every file name passed through ``rename``."""
    if isinstance(data, dict):
        out: dict[str, Any] = {}
        for key, item in data.items():
            if key in _FILE_KEYS and isinstance(item, str):
                out[key] = rename(item)
            elif key in _LIST_KEYS and isinstance(item, list):
                out[key] = [rename(i) if isinstance(i, str) else i for i in item]
            else:
                out[key] = with_sources(item, rename)
        return out
    if isinstance(data, list):
        return [with_sources(item, rename) for item in data]
    return data

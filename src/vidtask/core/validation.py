"""Turn pydantic validation errors into `InvalidRequest` naming the field path."""

from __future__ import annotations

from collections.abc import Sequence

from pydantic import ValidationError

from vidtask.core import errors

__all__ = ["field_path", "invalid_request"]


def field_path(loc: Sequence[int | str], prefix: str = "") -> str:
    """``("tracks", 0, "clips", 2, "length")`` -> ``tracks[0].clips[2].length``."""
    path = prefix
    for part in loc:
        if isinstance(part, int):
            path += f"[{part}]"
        else:
            path += f".{part}" if path else str(part)
    return path


def invalid_request(exc: ValidationError, prefix: str = "") -> errors.InvalidRequest:
    """The first error, as ``<path>: <reason>``; the others are summarised by count."""
    details = exc.errors(include_url=False)
    first = details[0]
    # Tagged unions put the tag in the location; it is noise to a user.
    loc = [p for p in first["loc"] if not (isinstance(p, str) and p.startswith("function-"))]
    path = field_path(loc, prefix) or prefix or "body"
    reason = first["msg"]
    if first["type"] == "extra_forbidden":
        reason = "unknown field"
    elif first["type"] == "missing":
        reason = "field required"
    more = f" (and {len(details) - 1} more problems)" if len(details) > 1 else ""
    return errors.InvalidRequest(f"{path}: {reason}{more}", param=path)

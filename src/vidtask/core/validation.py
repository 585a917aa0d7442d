"""Turn pydantic validation errors into `InvalidRequest` naming the field path and the reason."""

from __future__ import annotations

import difflib
import math
from collections.abc import Collection, Sequence
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError

from vidtask.core import errors

__all__ = ["field_path", "invalid_request", "non_finite", "reason", "validated"]

M = TypeVar("M", bound=BaseModel)


def field_path(loc: Sequence[int | str], prefix: str = "", *, tags: Collection[str] = ()) -> str:
    """``("tracks", 0, "clips", 2, "length")`` -> ``tracks[0].clips[2].length``.

    Pydantic puts the tag of a discriminated union (e.g. ``image``) into the location; name
    those in ``tags`` and they are left out, since a user never wrote them.
    """
    path = prefix
    skipped = False
    for part in loc:
        # A tag is followed by the field inside that variant, which may share its name
        # (`asset.color.color`): only the first of the two is the tag.
        if isinstance(part, str) and (
            part.startswith("function-") or (part in tags and not skipped)
        ):
            skipped = True
            continue
        skipped = False
        if isinstance(part, int):
            path += f"[{part}]"
        else:
            path += f".{part}" if path else str(part)
    return path


def reason(error: Any) -> str:
    """Pydantic's message, phrased to follow a field name."""
    message = str(error["msg"])
    if error["type"] == "missing":
        return "is required"
    if error["type"] == "extra_forbidden":
        return "unknown field"
    if error["type"] == "finite_number":
        return f"must be a finite number, not {non_finite(error['input'])}"
    if message.startswith("Value error, "):
        return message.removeprefix("Value error, ")
    if message.startswith("Input should be "):
        return "must be " + message.removeprefix("Input should be ")
    return message[:1].lower() + message[1:]


def non_finite(value: Any) -> str:
    """``NaN``, ``Infinity`` or ``-Infinity``, as JSON spells them (``value`` as given if it is
    not a number)."""
    try:
        number = float(value)
    except (TypeError, ValueError):
        return repr(value)
    if math.isnan(number):
        return "NaN"
    if math.isinf(number):
        return "Infinity" if number > 0 else "-Infinity"
    return repr(value)


def invalid_request(
    exc: ValidationError, prefix: str = "", *, tags: Collection[str] = ()
) -> errors.InvalidRequest:
    """The first error, as ``<path>: <reason>``. A required field that is missing beside an
    unknown one is most likely misspelt: the unknown field is named, with the likely fix."""
    found = exc.errors(include_url=False)
    first = found[0]
    hint = ""
    if first["type"] == "missing":
        parent = tuple(first["loc"][:-1])
        missing = [str(e["loc"][-1]) for e in found if e["type"] == "missing"]
        for error in found:
            if error["type"] == "extra_forbidden" and tuple(error["loc"][:-1]) == parent:
                first = error
                close = difflib.get_close_matches(str(error["loc"][-1]), missing, n=1)
                hint = f" (did you mean {close[0]!r}?)" if close else ""
                break
    path = field_path(first["loc"], prefix, tags=tags) or prefix or "body"
    return errors.InvalidRequest(f"{path}: {reason(first)}{hint}", param=path)


def validated(model: type[M], data: Any, *, tags: Collection[str] = ()) -> M:
    """``data`` as a ``model``, or `InvalidRequest` naming the first wrong field."""
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        raise invalid_request(exc, tags=tags) from exc

"""JSON request bodies, read once and checked before any parser sees them."""

from __future__ import annotations

import json
import math
import re
from typing import Any

from starlette.requests import Request

from vidtask.core import errors, validation

__all__ = ["MAX_JSON_DEPTH", "read_json"]

#: The deepest nesting of arrays and objects a JSON body may have. Python's parser recurses, so
#: a body nested a thousand deep would end in RecursionError (a 500, and a dropped connection).
MAX_JSON_DEPTH = 64
_STRINGS = re.compile(r'"[^"\\]*(?:\\.[^"\\]*)*"')
_NOT_BRACKETS = re.compile(r"[^\[\]{}]+")
#: What may hide a lone surrogate or a non-finite number; only then is the parsed body walked.
_SUSPECT = re.compile(r"\\u[dD][89a-fA-F]|[\ud800-\udfff]|NaN|Infinity|\d[eE]\+?\d{3}|\d{300}")
_SURROGATE = re.compile(r"[\ud800-\udfff]")


async def read_json(request: Request) -> Any:
    """The request body as JSON, or a clear 400: not empty, well-formed, nested at most
    `MAX_JSON_DEPTH` deep, with no lone UTF-16 surrogate in a string (nothing downstream can
    encode one) and no NaN or Infinity."""
    raw = await request.body()
    if not raw.strip():
        raise errors.InvalidRequest("the request body is empty; send a JSON object", param="body")
    try:
        text = raw.decode(json.detect_encoding(raw), "surrogatepass")  # as json.loads does
        if _too_deep(text):
            raise errors.InvalidRequest(
                f"body: arrays and objects are nested more than {MAX_JSON_DEPTH} deep",
                param="body",
            )
        value = json.loads(text)
    except ValueError as exc:
        raise errors.InvalidRequest(f"malformed JSON body: {exc}", param="body") from exc
    if _SUSPECT.search(text):
        _check_values(value)
    return value


def _too_deep(text: str) -> bool:
    """Whether the arrays and objects in ``text`` nest deeper than `MAX_JSON_DEPTH`, counted
    without parsing (so without recursion), brackets inside strings left out."""
    if text.count("[") + text.count("{") <= MAX_JSON_DEPTH:
        return False
    depth = 0
    for char in _NOT_BRACKETS.sub("", _STRINGS.sub("", text)):
        depth += 1 if char in "[{" else -1
        if depth > MAX_JSON_DEPTH:
            return True
    return False


def _check_values(value: Any) -> None:
    """Refuse the first lone surrogate or non-finite number, naming its JSON path."""
    unicode = "contains a lone UTF-16 surrogate (\\ud800-\\udfff); send valid Unicode"
    stack: list[tuple[list[int | str], Any]] = [([], value)]
    while stack:
        loc, item = stack.pop()
        if isinstance(item, dict):
            if any(_SURROGATE.search(key) for key in item):
                raise _invalid(loc, "an object key " + unicode)
            stack.extend(([*loc, key], child) for key, child in reversed(item.items()))
        elif isinstance(item, list):
            stack.extend(([*loc, n], child) for n, child in reversed(list(enumerate(item))))
        elif isinstance(item, str) and _SURROGATE.search(item):
            raise _invalid(loc, unicode)
        elif isinstance(item, float) and not math.isfinite(item):
            raise _invalid(loc, f"must be a finite number, not {validation.non_finite(item)}")


def _invalid(loc: list[int | str], why: str) -> errors.InvalidRequest:
    path = validation.field_path(loc) or "body"
    return errors.InvalidRequest(f"{path}: {why}", param=path)

"""OpenAPI ``responses`` for routes that return a dialect's JSON themselves: the success body and
the dialect's error envelope under each error status, so the schema (and schemathesis) know the
real shapes."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel

__all__ = ["request_body", "responses"]

_REASONS = {
    400: "Invalid request (the message names the field)",
    401: "Missing or invalid API key",
    404: "Unknown id, or another key's",
    409: "Not allowed in the task's current state",
    413: "Request body too large",
}


def responses(
    ok: type[BaseModel] | None, error: type[BaseModel], *codes: int
) -> dict[int | str, dict[str, Any]]:
    documented: dict[int | str, dict[str, Any]] = {
        code: {"model": error, "description": _REASONS[code]} for code in codes
    }
    if ok is not None:
        documented[200] = {"model": ok, "description": "OK"}
    return documented


def request_body(model: type[BaseModel], *media_types: str) -> dict[str, Any]:
    """``openapi_extra`` declaring a body the route reads itself; nested models are inlined
    (a model's own ``$defs`` would not resolve inside the OpenAPI document)."""
    schema = _inline(model.model_json_schema())
    content = {media: {"schema": schema} for media in media_types or ("application/json",)}
    return {"requestBody": {"required": True, "content": content}}


def _inline(schema: dict[str, Any]) -> dict[str, Any]:
    defs = schema.pop("$defs", {})

    def resolve(node: Any) -> Any:
        if isinstance(node, dict):
            ref = node.get("$ref")
            if isinstance(ref, str) and ref.startswith("#/$defs/"):
                return resolve(defs[ref.removeprefix("#/$defs/")])
            return {key: resolve(value) for key, value in node.items()}
        if isinstance(node, list):
            return [resolve(item) for item in node]
        return node

    resolved: dict[str, Any] = resolve(schema)
    return resolved

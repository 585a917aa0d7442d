"""OpenAPI links: the id a create answers with, and the operations that take it.

They document the flows (create, then get, cancel, delete) for readers of ``/openapi.json`` and
let schemathesis walk them statefully (``tests/hardening/test_stateful.py``).
"""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI

__all__ = ["install"]

_NATIVE = "$response.body#/id"
#: (create path, its success status, id expression) -> operations taking that id as ``param``.
_FLOWS: list[tuple[str, str, str, str, list[tuple[str, str, str]]]] = [
    (
        "/v1/tasks",
        "201",
        _NATIVE,
        "task_id",
        [
            ("GetTask", "get", "/v1/tasks/{task_id}"),
            ("CancelTask", "post", "/v1/tasks/{task_id}/cancel"),
            ("DeleteTask", "delete", "/v1/tasks/{task_id}"),
        ],
    ),
    (
        "/v1/video/generations",
        "200",
        "$response.body#/task_id",
        "task_id",
        [("GetGeneration", "get", "/v1/video/generations/{task_id}")],
    ),
    (
        "/v1/videos",
        "200",
        _NATIVE,
        "video_id",
        [
            ("RetrieveVideo", "get", "/v1/videos/{video_id}"),
            ("RemixVideo", "post", "/v1/videos/{video_id}/remix"),
            ("DeleteVideo", "delete", "/v1/videos/{video_id}"),
        ],
    ),
    (
        "/api/v3/contents/generations/tasks",
        "200",
        _NATIVE,
        "task_id",
        [
            ("GetArkTask", "get", "/api/v3/contents/generations/tasks/{task_id}"),
            ("DeleteArkTask", "delete", "/api/v3/contents/generations/tasks/{task_id}"),
        ],
    ),
    (
        "/api/gen_video",
        "200",
        "$response.body#/data/task_id",
        "task_id",
        [("GetStatus", "get", "/api/get_status/{task_id}")],
    ),
]


def install(app: FastAPI) -> None:
    """Add the links to the app's OpenAPI document when it is first built."""
    build = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            _add_links(build())  # FastAPI keeps what it built as app.openapi_schema
        return app.openapi_schema or build()

    app.openapi = openapi  # type: ignore[method-assign]


def _add_links(spec: dict[str, Any]) -> None:
    paths = spec["paths"]
    for path, status, expression, param, targets in _FLOWS:
        response = paths[path]["post"]["responses"].setdefault(status, {"description": "OK"})
        response["links"] = {
            name: {
                "operationId": paths[target][method]["operationId"],
                "parameters": {param: expression},
            }
            for name, method, target in targets
        }

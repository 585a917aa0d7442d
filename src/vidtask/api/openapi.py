"""The OpenAPI document: every route, the dialects' included, and their links.

A dialect's routes are mounted as one group (`vidtask.web.mount.RouteGroup`), which FastAPI's
own document would leave out: it lists only the routes it knows, so the document is built from
the flattened route list. The links are the dialects' flows (`vidtask.web.dialect.Flow`): the id
a create answers with, and the operations that take it. They document the flows (create, then
get, cancel, delete) for readers of ``/openapi.json`` and let schemathesis walk them statefully
(``tests/hardening/test_stateful.py``).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi

from vidtask.web.dialect import Flow
from vidtask.web.mount import flatten

__all__ = ["install"]


def install(app: FastAPI, flows: Sequence[Flow]) -> None:
    """Build the app's OpenAPI document (once, when first asked for) from all its routes."""

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            spec = get_openapi(
                title=app.title,
                version=app.version,
                openapi_version=app.openapi_version,
                summary=app.summary,
                description=app.description,
                terms_of_service=app.terms_of_service,
                contact=app.contact,
                license_info=app.license_info,
                routes=flatten(app.routes),
                webhooks=app.webhooks.routes,
                tags=app.openapi_tags,
                servers=app.servers,
                separate_input_output_schemas=app.separate_input_output_schemas,
            )
            _add_links(spec, flows)
            app.openapi_schema = spec
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]


def _add_links(spec: dict[str, Any], flows: Sequence[Flow]) -> None:
    paths = spec["paths"]
    for flow in flows:
        responses = paths[flow.create]["post"]["responses"]
        response = responses.setdefault(flow.status, {"description": "OK"})
        response["links"] = {
            name: {
                "operationId": paths[target][method]["operationId"],
                "parameters": {flow.param: flow.expression},
            }
            for name, method, target in flow.targets
        }

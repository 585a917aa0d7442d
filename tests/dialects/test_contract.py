"""Schemathesis against ``/openapi.json``: generated requests to every route get no 5xx, and
every documented answer matches its documented schema."""

from __future__ import annotations

from typing import Any

import schemathesis
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import not_a_server_error, response_schema_conformance
from schemathesis.core.result import Err

#: Event streams (SSE) never end, so they are left out; everything else is generated.
STREAMS = r"/events$"
EXAMPLES_PER_OPERATION = 20


def test_no_server_error_and_documented_shapes(client: TestClient) -> None:
    # Operations are walked here rather than with `schema.parametrize()`: the schema needs the
    # app of a fixture, and schemathesis' `from_fixture` does not run under pytest 9.
    schema = schemathesis.openapi.from_asgi("/openapi.json", client.app).exclude(path_regex=STREAMS)
    labels = []
    for result in schema.get_all_operations():
        if isinstance(result, Err):
            raise result.err()
        operation = result.ok()
        labels.append(operation.label)

        @given(case=operation.as_strategy())
        @settings(
            max_examples=EXAMPLES_PER_OPERATION,
            deadline=None,
            database=None,
            suppress_health_check=list(HealthCheck),
        )
        def check(case: schemathesis.Case[Any]) -> None:
            case.call_and_validate(checks=[not_a_server_error, response_schema_conformance])

        check()
    assert "POST /v1/videos" in labels and "GET /api/get_status/{task_id}" in labels
    assert "GET /api/v3/contents/generations/tasks" in labels
    assert "GET /v1/files/{task_id}/{name}" in labels and "POST /v1/tasks" in labels

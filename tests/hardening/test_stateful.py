"""Schemathesis, stateful: it follows the OpenAPI links (create, then get, cancel, remix, delete
the task it made) in every dialect, checking no answer is a 5xx and every answer has the
documented shape."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import schemathesis
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error, response_schema_conformance

from vidtask.api.app import create_app
from vidtask.settings import Settings

pytestmark = pytest.mark.slow


@pytest.fixture
def client(tmp_path: Path, asset_root: Path) -> Iterator[TestClient]:
    settings_ = Settings(data_dir=tmp_path / "data", workers=0, asset_roots=[asset_root])
    with TestClient(create_app(settings_, start_workers=False), raise_server_exceptions=False) as c:
        yield c


@pytest.mark.timeout(600)
def test_linked_flows_hold_up(client: TestClient) -> None:
    schema = schemathesis.openapi.from_asgi("/openapi.json", client.app).exclude(
        path_regex=r"/events$"
    )
    machine = schema.as_state_machine()

    followed: set[str] = set()

    class Flows(machine):  # type: ignore[misc, valid-type]
        def validate_response(self, response, case, **kwargs):  # type: ignore[no-untyped-def]
            followed.add(case.operation.label)
            case.validate_response(
                response, checks=[not_a_server_error, response_schema_conformance]
            )

    links = schema.statistic.transitions.total
    assert links >= 11, f"only {links} links in /openapi.json"
    Flows.run(
        settings=settings(
            max_examples=25,
            stateful_step_count=6,
            deadline=None,
            database=None,
            derandomize=True,
            suppress_health_check=list(HealthCheck),
        )
    )
    # The walk went on from the creates to operations that only links lead to.
    linked = {label for label in followed if "{" in label}
    assert len(linked) >= 3, followed

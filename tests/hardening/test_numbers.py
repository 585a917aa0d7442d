"""Finding 9: NaN and Infinity are refused as "must be a finite number, not NaN" (NaN was
refused as "must be ≤ 86400"), and ``GET /v1/tasks?created_after=NaN`` is a 400."""

from __future__ import annotations

import json

import pytest
from fastapi.testclient import TestClient

from tests.hardening.conftest import refusal, timeline
from vidtask.core import errors
from vidtask.render import schema

LENGTH = "tracks[0].clips[0].length"


@pytest.mark.parametrize(
    ("literal", "name"),
    [("NaN", "NaN"), ("Infinity", "Infinity"), ("-Infinity", "-Infinity"), ("1e999", "Infinity")],
)
def test_non_finite_numbers_in_a_body(client: TestClient, literal: str, name: str) -> None:
    raw = json.dumps({"input": timeline(length="{}")}).replace('"{}"', literal)
    response = client.post("/v1/tasks", content=raw, headers={"Content-Type": "application/json"})
    message, param = refusal(response)
    assert message == f"input.{LENGTH}: must be a finite number, not {name}"
    assert param == f"input.{LENGTH}"
    message, _ = refusal(
        client.post(
            "/v1/videos",
            content=f'{{"prompt": "a", "seconds": {literal}}}',
            headers={"Content-Type": "application/json"},
        )  # fmt: skip
    )
    assert message == f"seconds: must be a finite number, not {name}"


@pytest.mark.parametrize(
    ("value", "name"), [(float("nan"), "NaN"), (float("inf"), "Infinity"), (-1e400, "-Infinity")]
)
@pytest.mark.parametrize("field", ["length", "start"])
def test_the_timeline_schema_names_them(value: float, name: str, field: str) -> None:
    data = timeline()
    data["tracks"][0]["clips"][0][field] = value
    with pytest.raises(errors.InvalidRequest) as caught:
        schema.parse_timeline(data, schema.Limits())
    path = f"tracks[0].clips[0].{field}"
    assert caught.value.message == f"{path}: must be a finite number, not {name}"
    assert caught.value.param == path


@pytest.mark.parametrize("value", ["NaN", "nan", "Infinity", "-inf", "1e999"])
@pytest.mark.parametrize("name", ["created_after", "created_before"])
def test_list_refuses_non_finite_times(client: TestClient, name: str, value: str) -> None:
    message, param = refusal(client.get("/v1/tasks", params={name: value}))
    assert message.startswith(f"{name}: ") and "finite number" in message, message
    assert param == name
    assert client.get("/v1/tasks", params={name: "1700000000.5"}).status_code == 200

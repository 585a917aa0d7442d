"""Findings 4 and 5: JSON bodies nested a thousand deep, and lone UTF-16 surrogates in strings,
are refused with a 400 naming the field, in every dialect's shape (they were 500s)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient

from tests.hardening.conftest import CAPCUT, Response, refusal
from tests.integration.conftest import Server

ARK = "/api/v3/contents/generations/tasks"
MAX_JSON_DEPTH = 64  # vidtask.web.body.MAX_JSON_DEPTH

#: Every route that reads a JSON body, with a body whose string field is (path, value).
JSON_ROUTES: list[tuple[str, Any, str]] = [
    ("/v1/tasks", {"input": {"prompt": "{}"}, "model": "slides"}, "input.prompt"),
    ("/v1/videos", {"prompt": "{}"}, "prompt"),
    ("/v1/video/generations", {"model": "slides", "prompt": "{}"}, "prompt"),
    (
        ARK,
        {"model": "doubao-seedance-1-0-pro", "content": [{"type": "text", "text": "{}"}]},
        "content[0].text",
    ),  # fmt: skip
    ("/api/gen_video", {"question": "{}", "questionImages": []}, "question"),
    ("/v1/webhooks", {"url": "{}"}, "url"),
    (CAPCUT + "/add_captions", {"draft_url": "x", "captions": "{}"}, "captions"),
    (CAPCUT + "/gen_video", {"draft_url": "{}"}, "draft_url"),
]


def post(client: TestClient | httpx.Client, path: str, raw: str) -> Response:
    return client.post(path, content=raw, headers={"Content-Type": "application/json"})


def with_value(body: Any, value: str) -> str:
    """``body`` as JSON with ``"{}"`` replaced by ``value`` (already JSON)."""
    return json.dumps(body).replace('"{}"', value)


@pytest.mark.parametrize("path", [route[0] for route in JSON_ROUTES])
def test_deep_nesting_is_refused_naming_body_and_the_limit(client: TestClient, path: str) -> None:
    for raw in ("[" * 1000 + "]" * 1000, '{"a":' * 1000 + "1" + "}" * 1000):
        message, param = refusal(post(client, path, raw))
        assert f"nested more than {MAX_JSON_DEPTH} deep" in message
        assert message.startswith("body") and param in ("body", None)


def test_nesting_up_to_the_limit_still_parses(client: TestClient) -> None:
    deep = "[" * (MAX_JSON_DEPTH - 2) + "]" * (MAX_JSON_DEPTH - 2)
    body = with_value({"input": {"prompt": "{}"}, "model": "slides"}, deep)
    message, _ = refusal(post(client, "/v1/tasks", body))
    assert "nested" not in message  # the timeline's own validation answers
    brackets = json.dumps("[" * 1000)  # brackets inside strings do not count
    message, _ = refusal(post(client, "/v1/tasks", with_value({"input": "{}"}, brackets)))
    assert "nested" not in message


@pytest.mark.slow
def test_deep_nesting_keeps_the_connection(tmp_path: Path, asset_root: Path) -> None:
    server = Server(tmp_path / "data", asset_root, VIDTASK_WORKERS="0").start()
    try:
        with httpx.Client(base_url=server.url, timeout=30) as http:
            for _ in range(3):
                refusal(post(http, "/v1/tasks", "[" * 1000 + "]" * 1000))
            assert http.get("/healthz").status_code == 200
    finally:
        server.stop()


@pytest.mark.parametrize(("path", "body", "field"), JSON_ROUTES)
def test_lone_surrogate_is_refused_naming_the_field(
    client: TestClient, path: str, body: Any, field: str
) -> None:
    for escape in ('"\\ud800"', '"ok \\udfff"', '"\\ude00\\ud83d"'):
        message, param = refusal(post(client, path, with_value(body, escape)))
        assert message.startswith(f"{field}: contains a lone UTF-16 surrogate"), message
        assert param in (field, None)


def test_surrogate_pairs_and_other_text_still_pass(client: TestClient) -> None:
    raw = with_value({"model": "slides", "input": {"prompt": "{}"}}, '"cat \\ud83d\\ude00 ok"')
    assert post(client, "/v1/tasks", raw).status_code == 201


def test_lone_surrogate_in_a_key_is_refused(client: TestClient) -> None:
    for path in ("/v1/tasks", CAPCUT + "/create_draft"):
        raw = '{"width": 640, "x\\ud800": 1}'
        message, _ = refusal(post(client, path, raw))
        assert message.startswith("body: an object key contains a lone UTF-16 surrogate")
    raw = '{"input": {"tracks": [{"\\udc00": 1}]}}'
    message, param = refusal(post(client, "/v1/tasks", raw))
    assert message.startswith("input.tracks[0]: an object key") and param == "input.tracks[0]"

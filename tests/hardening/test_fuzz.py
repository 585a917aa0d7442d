"""Property-based fuzz of every create route: whatever the body, the answer is a 2xx or a 4xx
with a JSON body, never a 5xx, and it comes back (pytest-timeout catches a hang).

Bodies are drawn three ways: any JSON value; objects using the field names the routes know,
with any values; and raw bytes that JSON parsers trip over (deep nesting, lone surrogates,
NaN, truncation). Bounded examples keep it a few seconds per route.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from vidtask.api.app import create_app
from vidtask.settings import Settings

CAPCUT = "/openapi/capcut-mate/v1"
ROUTES = [
    "/v1/tasks",
    "/v1/video/generations",
    "/v1/videos",
    "/api/v3/contents/generations/tasks",
    "/api/gen_video",
    "/v1/webhooks",
    *(
        f"{CAPCUT}/{name}"
        for name in (
            "create_draft",
            "add_videos",
            "add_images",
            "add_audios",
            "add_captions",
            "add_keyframes",
            "save_draft",
            "gen_video",
            "gen_video_status",
            "audio_timelines",
        )
    ),
]
#: Field names the create routes read, so drawn objects reach past "unknown field".
FIELDS = [
    "model", "input", "prompt", "timeline", "priority", "webhook_url", "duration", "width",
    "height", "fps", "size", "seconds", "input_reference", "content", "type", "text",
    "image_url", "url", "callback_url", "return_last_frame", "question", "answer", "quality",
    "questionImages", "notify_url", "tracks", "clips", "asset", "start", "length", "output",
    "draft_url", "video_infos", "image_infos", "audio_infos", "captions", "keyframes", "seed",
]  # fmt: skip

scalars = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**70), max_value=2**70)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=40)
    | st.sampled_from(["sora-2", "slides", "timeline", "#fff", "http://127.0.0.1/x", "../x"])
)
json_values = st.recursive(
    scalars,
    lambda inner: (
        st.lists(inner, max_size=4)
        | st.dictionaries(st.sampled_from(FIELDS) | st.text(max_size=8), inner, max_size=5)
    ),
    max_leaves=25,
)
known_objects = st.dictionaries(st.sampled_from(FIELDS), json_values, min_size=1, max_size=6)


def nested(depth: int) -> bytes:
    return b'{"prompt": ' + b"[" * depth + b"]" * depth + b"}"


RAW_BODIES = [
    nested(1000),
    nested(100_000),
    b'{"model": "slides", "prompt": "\\ud800"}',
    b'{"prompt": "\\udfff tail", "model": "sora-2"}',
    b'{"length": NaN}',
    b'{"model": "timeline", "input": {"tracks": [{"clips": [{"length": Infinity}]}]}}',
    b'{"model": "timeline"',
    b"\xff\xfe\x00",
    b"[]",
    b"null",
    b'"just a string"',
    b"1e999999",
]


@pytest.fixture(scope="module")
def client(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestClient]:
    data = tmp_path_factory.mktemp("fuzz")
    settings_ = Settings(data_dir=data / "data", workers=0, asset_roots=[data / "assets"])
    with TestClient(create_app(settings_, start_workers=False), raise_server_exceptions=False) as c:
        yield c


def answered_sanely(client: TestClient, route: str, body: bytes) -> None:
    response = client.post(route, content=body, headers={"content-type": "application/json"})
    assert response.status_code < 500, (route, body[:200], response.text[:500])
    json.loads(response.content)  # an error body in the dialect's shape, never a bare page


FUZZ = settings(
    max_examples=40,
    deadline=None,
    database=None,
    suppress_health_check=list(HealthCheck),
)


@pytest.mark.timeout(600)
@pytest.mark.parametrize("route", ROUTES)
def test_no_body_reaches_a_server_error(client: TestClient, route: str) -> None:
    @FUZZ
    @given(body=json_values | known_objects)
    def any_json(body: Any) -> None:
        answered_sanely(client, route, json.dumps(body).encode())

    any_json()
    for body in RAW_BODIES:
        answered_sanely(client, route, body)


def test_routes_exist(client: TestClient, tmp_path: Path) -> None:
    """The fuzzed paths are real routes (a renamed route must not turn the fuzz into 404s)."""
    for route in ROUTES:
        assert client.post(route, json={}).status_code not in (404, 405), route

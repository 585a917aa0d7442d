"""The dashboard's server side: the page and its files (CSP, content types, no traversal), the
bundled examples, `POST /v1/tasks/validate` and `GET /v1/tasks/{id}/dialects`. The browser
itself is tested in ``test_browser*.py``."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from starlette.responses import JSONResponse

from tests.api.conftest import color_timeline
from tests.dialects.conftest import run_queued
from vidtask.api.app import create_app
from vidtask.dashboard.headers import security_headers
from vidtask.dashboard.routes import STATIC
from vidtask.service.keys import new_key
from vidtask.settings import Settings

CAPCUT = "/openapi/capcut-mate/v1"
#: What the page may load: its own scripts and styles only; media also from the file links' host.
POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data: blob:{files}; "
    "media-src 'self' blob:{files}; connect-src 'self'; object-src 'none'; base-uri 'none'; "
    "frame-ancestors 'none'; form-action 'self'"
)


@pytest.fixture
def settings(tmp_path: Path, asset_root: Path) -> Settings:
    return Settings(data_dir=tmp_path / "data", workers=0, asset_roots=[asset_root])


@pytest.fixture
def client(settings: Settings) -> Iterator[TestClient]:
    with TestClient(create_app(settings, start_workers=False), raise_server_exceptions=False) as c:
        yield c


def keyed(client: TestClient) -> tuple[str, str]:
    """Two API keys, with the server switched to keyed mode."""
    store = client.app.state.vidtask.service.store  # type: ignore[attr-defined]
    _, alice = new_key(store, "alice", 0)
    _, bob = new_key(store, "bob", 0)
    client.app.state.vidtask.auth._anonymous = False  # type: ignore[attr-defined]
    return alice, bob


def assert_secured(response: Any, files: str = " http://127.0.0.1:8000") -> None:
    policy = response.headers["content-security-policy"]
    assert policy == POLICY.format(files=files)
    assert "unsafe-inline" not in policy and "unsafe-eval" not in policy
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.headers["referrer-policy"] == "no-referrer"


# --- the page and its files ----------------------------------------------------------------


def test_page_and_static_files_are_served_with_the_policy_and_types(client: TestClient) -> None:
    page = client.get("/")
    assert page.status_code == 200 and page.content == (STATIC / "index.html").read_bytes()
    assert page.headers["content-type"] == "text/html; charset=utf-8"
    assert_secured(page)  # the test client's origin is not the base URL's: it is named
    script = client.get("/dashboard/static/js/app.js")
    assert script.status_code == 200
    assert script.content == (STATIC / "js" / "app.js").read_bytes()
    assert script.headers["content-type"] == "text/javascript; charset=utf-8"  # a module
    assert_secured(script)
    style = client.get("/dashboard/static/app.css")
    assert style.headers["content-type"] == "text/css; charset=utf-8"
    assert_secured(style)
    missing = client.get("/dashboard/static/js/nope.js")
    assert missing.status_code == 404
    assert_secured(missing)
    # The API around it is untouched.
    assert client.get("/healthz").json() == {"status": "ok"}
    assert client.get("/docs").status_code == 200
    assert "/" not in client.get("/openapi.json").json()["paths"]


def test_the_file_links_origin_is_named_only_when_it_is_another(tmp_path: Path) -> None:
    same = Settings(data_dir=tmp_path / "data", workers=0, public_url="http://testserver")
    with TestClient(create_app(same, start_workers=False)) as client:
        assert_secured(client.get("/"), files="")
    headers = security_headers(
        "https://videos.example", ("https://videos.example", "https://files.example:8443")
    )
    policy = headers["Content-Security-Policy"]
    assert "img-src 'self' data: blob: https://files.example:8443;" in policy


@pytest.mark.parametrize(
    "path",
    [
        "/dashboard/static/%2e%2e/%2e%2e/settings.py",
        "/dashboard/static/%2e%2e/routes.py",
        "/dashboard/static/..%2froutes.py",
        "/dashboard/static/js/%2e%2e/%2e%2e/headers.py",
        "/dashboard/static/%2fetc%2fpasswd",
    ],
)
def test_no_file_outside_the_static_folder_is_served(client: TestClient, path: str) -> None:
    response = client.get(path)
    assert response.status_code == 404
    assert b"import" not in response.content and b"root:" not in response.content


# --- examples ------------------------------------------------------------------------------


def examples(client: TestClient, **headers: str) -> list[dict[str, Any]]:
    answer = client.get("/dashboard/examples.json", headers=headers)
    assert answer.status_code == 200, answer.text
    assert_secured(answer)
    body = answer.json()
    assert body["object"] == "list"
    data: list[dict[str, Any]] = body["data"]
    return data


def test_examples_are_listed_sorted_and_each_validates(client: TestClient) -> None:
    data = examples(client)
    names = [example["name"] for example in data]
    assert len(data) >= 3 and names == sorted(names)
    assert {example["request"].get("model", "timeline") for example in data} >= {
        "timeline",
        "slides",
    }
    for example in data:
        assert set(example) == {"name", "description", "request"} and example["description"]
        checked = client.post("/v1/tasks/validate", json=example["request"])
        assert checked.status_code == 200, (example["name"], checked.text)
    assert client.get("/v1/tasks").json()["data"] == []


@pytest.mark.slow
def test_every_example_renders(client: TestClient) -> None:
    ids = []
    for example in examples(client):
        created = client.post("/v1/tasks", json=example["request"])
        assert created.status_code == 201, (example["name"], created.text)
        ids.append((example["name"], created.json()["id"]))
    run_queued(client)
    for name, task_id in ids:
        task = client.get(f"/v1/tasks/{task_id}").json()
        assert task["status"] == "completed", (name, task["error"])
        assert task["result"]["metadata"]["duration"] > 0


# --- POST /v1/tasks/validate ---------------------------------------------------------------


def test_validate_answers_the_normalized_input_and_creates_nothing(client: TestClient) -> None:
    body = {"input": color_timeline(2.0), "priority": 5}
    answer = client.post("/v1/tasks/validate", json=body, headers={"Idempotency-Key": "k1"})
    assert answer.status_code == 200, answer.text
    checked = answer.json()
    assert list(checked) == ["object", "valid", "model", "input"]
    assert checked["object"] == "validation" and checked["valid"] is True
    assert checked["model"] == "timeline"
    output = checked["input"]["output"]  # normalized: defaults filled in
    assert output["width"] == 320 and output["format"] == "mp4" and output["quality"]
    alias = client.post("/v1/tasks/validate", json={"model": "sora-2", "input": {"prompt": "hi"}})
    assert alias.json()["model"] == "slides" and alias.json()["input"]["prompt"] == "hi"
    assert client.get("/v1/tasks").json()["data"] == []
    # The key was not used up: it still creates, with another body than the one validated.
    other = {"input": color_timeline(1.0)}
    created = client.post("/v1/tasks", json=other, headers={"Idempotency-Key": "k1"})
    assert created.status_code == 201, created.text
    again = client.post("/v1/tasks/validate", json=body, headers={"Idempotency-Key": "k1"})
    assert again.status_code == 200  # nor is it checked against the task it made
    assert len(client.get("/v1/tasks").json()["data"]) == 1


def _bad_length(body: dict[str, Any]) -> None:
    body["input"]["tracks"][0]["clips"].append(
        {"asset": {"type": "color", "color": "#00ff00"}, "start": 1, "length": -1}
    )


@pytest.mark.parametrize(
    ("change", "param"),
    [
        (_bad_length, "input.tracks[0].clips[1].length"),
        (lambda body: body.update(model="no-such-model"), "model"),
        (lambda body: body.update(webhook_url="http://127.0.0.1:9/hook"), "webhook_url"),
        (lambda body: body.update(webhook_url="not a url"), "webhook_url"),
        (lambda body: body.update(priority=1000), "priority"),
        (lambda body: body["input"].update(tracks="no"), "input.tracks"),
    ],
)
def test_validate_refuses_as_create_would(client: TestClient, change: Any, param: str) -> None:
    body: dict[str, Any] = {"input": color_timeline()}
    change(body)
    refused = client.post("/v1/tasks/validate", json=body)
    assert refused.status_code == 400, refused.text
    assert refused.json()["error"]["param"] == param
    created = client.post("/v1/tasks", json=body)
    assert (created.status_code, created.json()) == (400, refused.json())
    assert client.get("/v1/tasks").json()["data"] == []


def test_validate_is_in_openapi_like_create(client: TestClient) -> None:
    paths = client.get("/openapi.json").json()["paths"]
    create = paths["/v1/tasks"]["post"]["requestBody"]
    assert paths["/v1/tasks/validate"]["post"]["requestBody"] == create
    assert "get" in paths["/v1/tasks/{task_id}/dialects"]


# --- GET /v1/tasks/{id}/dialects -----------------------------------------------------------


def status_read(client: TestClient, dialect: str, task_id: str, draft_url: str = "") -> bytes:
    """The body the dialect's own status route answers for the task."""
    reads = {
        "native": lambda: client.get(f"/v1/tasks/{task_id}"),
        "newapi": lambda: client.get(f"/v1/video/generations/{task_id}"),
        "openai": lambda: client.get(f"/v1/videos/{task_id}"),
        "ark": lambda: client.get(f"/api/v3/contents/generations/tasks/{task_id}"),
        "scenext": lambda: client.get(f"/api/get_status/{task_id}"),
        "capcut_mate": lambda: client.post(
            f"{CAPCUT}/gen_video_status", json={"draft_url": draft_url}
        ),
    }
    response = reads[dialect]()
    assert response.status_code == 200, (dialect, response.text)
    return response.content


def serialized(dialect: str, entry: Any) -> bytes:
    """An entry as its dialect's route writes it (capcut-mate's routes are JSONResponses, the
    others' status reads `vidtask.web.tasks.task_response`)."""
    if dialect == "capcut_mate":
        return bytes(JSONResponse(entry).body)
    return json.dumps(entry, ensure_ascii=False).encode()


def dialects_of(client: TestClient, task_id: str) -> dict[str, Any]:
    answer = client.get(f"/v1/tasks/{task_id}/dialects")
    assert answer.status_code == 200, answer.text
    body: dict[str, Any] = answer.json()
    assert list(body) == ["object", "id", "dialects"]
    assert body["object"] == "task.dialects" and body["id"] == task_id
    views: dict[str, Any] = body["dialects"]
    assert list(views) == ["native", "newapi", "openai", "ark", "scenext", "capcut_mate"]
    return views


def test_dialects_answer_as_each_status_route(client: TestClient) -> None:
    task_id = client.post("/v1/tasks", json={"input": color_timeline()}).json()["id"]
    views = dialects_of(client, task_id)
    for dialect, entry in views.items():
        if dialect == "capcut_mate":
            assert entry is None  # capcut-mate asks only about a draft's render
            continue
        assert serialized(dialect, entry) == status_read(client, dialect, task_id), dialect


@pytest.mark.slow
def test_dialects_of_a_rendered_draft_answer_as_each_status_route(client: TestClient) -> None:
    made = client.post(f"{CAPCUT}/create_draft", json={"width": 320, "height": 180}).json()
    url = made["draft_url"]
    captions = json.dumps([{"start": 0, "end": 1_000_000, "text": "你好 dialects"}])
    added = client.post(f"{CAPCUT}/add_captions", json={"draft_url": url, "captions": captions})
    assert added.status_code == 200, added.text
    task_id = client.post(f"{CAPCUT}/gen_video", json={"draft_url": url}).json()["task_id"]
    run_queued(client)
    views = dialects_of(client, task_id)
    assert views["native"]["status"] == "completed" and views["native"]["result"]["video_url"]
    assert views["capcut_mate"]["draft_url"] == url
    for dialect, entry in views.items():
        read = status_read(client, dialect, task_id, url)
        assert serialized(dialect, entry) == read, dialect


def test_dialects_of_an_unknown_or_another_keys_task_is_a_native_404(
    client: TestClient,
) -> None:
    alice, bob = keyed(client)
    own = {"Authorization": f"Bearer {alice}"}
    task_id = client.post("/v1/tasks", json={"input": color_timeline()}, headers=own).json()["id"]
    assert client.get(f"/v1/tasks/{task_id}/dialects", headers=own).status_code == 200
    for other in (f"/v1/tasks/{task_id}/dialects", "/v1/tasks/vt_nope/dialects"):
        missing = client.get(other, headers={"X-API-Key": bob})
        assert missing.status_code == 404
        assert missing.json()["error"]["code"] == "not_found"
        assert missing.json()["error"]["param"] == "task_id"


def test_input_is_a_create_body_that_runs_the_task_again(client: TestClient) -> None:
    alice, bob = keyed(client)
    own = {"X-API-Key": alice}
    asked = {"model": "sora-2", "input": {"prompt": "a fox"}, "priority": 3}
    first = client.post("/v1/tasks", json=asked, headers=own).json()
    body = client.get(f"/v1/tasks/{first['id']}/input", headers=own).json()
    assert body["model"] == "sora-2"  # as the client named it, not the local model it maps to
    assert body["input"]["prompt"] == "a fox" and body["priority"] == 3
    again = client.post("/v1/tasks", json=body, headers=own)
    assert again.status_code == 201 and again.json()["id"] != first["id"]
    missing = client.get(f"/v1/tasks/{first['id']}/input", headers={"X-API-Key": bob})
    assert missing.status_code == 404 and missing.json()["error"]["param"] == "task_id"


# --- keys ----------------------------------------------------------------------------------


def test_json_routes_need_a_key_and_the_page_does_not(client: TestClient) -> None:
    alice, _ = keyed(client)
    for path in ("/", "/dashboard/static/js/app.js", "/dashboard/static/app.css"):
        assert client.get(path).status_code == 200, path
    task_id = client.post(
        "/v1/tasks", json={"input": color_timeline()}, headers={"X-API-Key": alice}
    ).json()["id"]
    calls = [
        ("get", "/dashboard/examples.json", None),
        ("post", "/v1/tasks/validate", {"input": color_timeline()}),
        ("get", f"/v1/tasks/{task_id}/dialects", None),
        ("get", f"/v1/tasks/{task_id}/input", None),
    ]
    for method, path, body in calls:
        refused = client.request(method, path, json=body)
        assert refused.status_code == 401, path
        assert refused.json()["error"]["code"] == "unauthorized"
        allowed = client.request(method, path, json=body, headers={"X-API-Key": alice})
        assert allowed.status_code == 200, (path, allowed.text)

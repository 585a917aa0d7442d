"""The native API in-process (no workers): validation, errors, auth, idempotency, ETags."""

from __future__ import annotations

import json
from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.api.conftest import color_timeline
from vidtask.api.app import check_bind
from vidtask.core import errors
from vidtask.service.keys import new_key
from vidtask.settings import Settings


def submit(client: TestClient, body: dict[str, Any], **headers: str) -> Any:  # httpx or httpx2
    return client.post("/v1/tasks", json=body, headers=headers)


def test_submit_get_list_cancel_delete(client: TestClient) -> None:
    created = submit(client, {"input": color_timeline(), "priority": 3})
    assert created.status_code == 201, created.text
    task = created.json()
    assert task["id"].startswith("vt_") and task["status"] == "queued" and task["priority"] == 3
    assert task["model"] == "timeline" and task["version"] == 1 and task["result"] is None
    got = client.get(f"/v1/tasks/{task['id']}")
    assert got.json() == task and got.headers["etag"] == '"1"'
    assert (
        client.get(f"/v1/tasks/{task['id']}", headers={"If-None-Match": '"1"'}).status_code == 304
    )
    listed = client.get("/v1/tasks", params={"status": "queued"}).json()
    assert [t["id"] for t in listed["data"]] == [task["id"]]
    assert client.delete(f"/v1/tasks/{task['id']}").status_code == 409
    cancelled = client.post(f"/v1/tasks/{task['id']}/cancel").json()
    assert cancelled["status"] == "cancelled" and cancelled["error"]["code"] == "cancelled"
    assert (
        client.get(f"/v1/tasks/{task['id']}", headers={"If-None-Match": '"1"'}).status_code == 200
    )
    deleted = client.delete(f"/v1/tasks/{task['id']}")
    assert deleted.json() == {"id": task["id"], "object": "task.deleted", "deleted": True}
    assert client.get(f"/v1/tasks/{task['id']}").status_code == 404


def test_cursor_pagination(client: TestClient) -> None:
    ids = [submit(client, {"input": color_timeline()}).json()["id"] for _ in range(5)]
    page = client.get("/v1/tasks", params={"limit": 2}).json()
    seen = [t["id"] for t in page["data"]]
    while page["has_more"]:
        page = client.get("/v1/tasks", params={"limit": 2, "after": page["next_cursor"]}).json()
        seen += [t["id"] for t in page["data"]]
    assert seen == ids[::-1]
    assert client.get("/v1/tasks", params={"model": "other"}).json()["data"] == []
    assert client.get("/v1/tasks", params={"limit": 0}).status_code == 400


def test_idempotency_key(client: TestClient) -> None:
    body = {"input": color_timeline()}
    first = submit(client, body, **{"Idempotency-Key": "abc"})
    again = submit(client, body, **{"Idempotency-Key": "abc"})
    assert first.status_code == 201 and again.status_code == 200
    assert again.json()["id"] == first.json()["id"]
    other = submit(client, {"input": color_timeline(2.0)}, **{"Idempotency-Key": "abc"})
    assert other.status_code == 409
    assert other.json()["error"]["code"] == "conflict"
    assert other.json()["error"]["param"] == "Idempotency-Key"


def test_malformed_json(client: TestClient) -> None:
    response = client.post(
        "/v1/tasks", content=b'{"input": ', headers={"Content-Type": "application/json"}
    )
    assert response.status_code == 400
    error = response.json()["error"]
    assert error["code"] == "invalid_request" and "malformed JSON" in error["message"]
    empty = client.post("/v1/tasks", content=b"")
    assert empty.status_code == 400 and "empty" in empty.json()["error"]["message"]


@pytest.mark.parametrize(
    ("mutate", "param", "words"),
    [
        (lambda b: b.update(bogus=1), "bogus", "unknown field"),
        (lambda b: b.update(priority="high"), "priority", "integer"),
        (lambda b: b.update(model="sora-9"), "model", "unknown model"),
        (
            lambda b: b["input"]["tracks"][0]["clips"][0].update(length=0),
            "input.tracks[0].clips[0].length",
            "greater than 0",
        ),
        (
            lambda b: b["input"]["tracks"][0]["clips"][0].update(length=-2),
            "input.tracks[0].clips[0].length",
            "greater than 0",
        ),
        (lambda b: b["input"]["tracks"][0]["clips"][0].update(length=36000), "input", "long"),
        (
            lambda b: b["input"]["output"].update(width=15360, height=8640),
            "input.output.width",
            "4096",
        ),
        (
            lambda b: b["input"]["tracks"][0]["clips"][0]["asset"].update(wat=1),
            "input.tracks[0].clips[0].asset.wat",
            "unknown field",
        ),
        (
            lambda b: b.update(webhook_url="http://169.254.169.254/hook"),
            "webhook_url",
            "link-local",
        ),
    ],
)
def test_invalid_fields_name_the_path(client: TestClient, mutate, param: str, words: str) -> None:  # type: ignore[no-untyped-def]
    body = {"input": color_timeline()}
    mutate(body)
    response = submit(client, body)
    assert response.status_code == 400, response.text
    error = response.json()["error"]
    assert error["code"] == "invalid_request"
    assert error["param"].startswith(param), error
    assert words in error["message"], error


def test_ten_thousand_clips_refused(client: TestClient) -> None:
    clip = {"asset": {"type": "color", "color": "#000000"}, "start": 0, "length": 0.1}
    body = {
        "input": {"output": {"width": 320, "height": 180}, "tracks": [{"clips": [clip] * 10_000}]}
    }
    response = submit(client, body)
    assert response.status_code == 400
    assert "clips" in response.json()["error"]["message"]


@pytest.mark.parametrize(
    ("src", "words"),
    [
        ("http://169.254.169.254/latest/meta-data", "link-local"),
        ("http://127.0.0.1:8000/x.png", "loopback"),
        ("http://10.1.2.3/x.png", "private"),
        ("http://[::1]/x.png", "loopback"),
        ("../../etc/passwd", ".."),
        ("/etc/passwd", "allowed asset directories"),
        ("ftp://example.com/x.png", "scheme"),
    ],
)
def test_asset_sources_are_guarded(client: TestClient, src: str, words: str) -> None:
    body = {"input": color_timeline()}
    body["input"]["tracks"].append(
        {"clips": [{"asset": {"type": "image", "src": src}, "start": 0, "length": 1}]}
    )
    response = submit(client, body)
    assert response.status_code == 400, response.text
    error = response.json()["error"]
    assert error["param"] == "input.tracks[1].clips[0].asset.src"
    assert words in error["message"], error["message"]


def test_oversized_body_is_413(settings: Settings) -> None:
    from vidtask.api.app import create_app

    small = settings.model_copy(update={"max_body_bytes": 1000})
    with TestClient(create_app(small, start_workers=False)) as client:
        response = submit(client, {"input": color_timeline(), "pad": "x" * 5000})
        assert response.status_code == 413
        assert response.json()["error"]["code"] == "invalid_request"
        chunked = client.post("/v1/tasks", content=iter([b"{" + b" " * 2000 + b"}"]))
        assert chunked.status_code == 413


def test_unknown_ids_in_each_dialect(client: TestClient) -> None:
    native = client.get("/v1/tasks/vt_nope")
    assert native.status_code == 404
    assert native.json()["error"]["code"] == "not_found"
    newapi = client.get("/v1/video/generations/vt_nope")
    assert newapi.status_code == 404
    assert set(newapi.json()["error"]) == {"message", "type", "param", "code"}
    assert client.post("/v1/tasks/vt_nope/cancel").status_code == 404
    assert client.delete("/v1/tasks/vt_nope").status_code == 404
    route = client.get("/v1/nothing-here")
    assert route.status_code == 404 and "no route" in route.json()["error"]["message"]


def test_keys_isolate_owners_and_wrong_keys_get_401(client: TestClient) -> None:
    store = client.app.state.vidtask.service.store  # type: ignore[attr-defined]
    _, alice = new_key(store, "alice", 0)
    _, bob = new_key(store, "bob", 0)
    client.app.state.vidtask.auth._anonymous = False  # type: ignore[attr-defined]
    assert submit(client, {"input": color_timeline()}).status_code == 401
    wrong = client.get("/v1/tasks", headers={"Authorization": "Bearer vtk_wrong"})
    assert wrong.status_code == 401 and wrong.json()["error"]["code"] == "unauthorized"
    assert client.get("/v1/tasks", headers={"Authorization": "Basic abc"}).status_code == 401
    task = submit(client, {"input": color_timeline()}, Authorization=f"Bearer {alice}").json()
    assert client.get(f"/v1/tasks/{task['id']}", headers={"X-API-Key": alice}).status_code == 200
    assert client.get(f"/v1/tasks/{task['id']}", headers={"X-API-Key": bob}).status_code == 404
    assert client.get("/v1/tasks", headers={"X-API-Key": bob}).json()["data"] == []


def test_refuses_public_bind_without_keys(settings: Settings) -> None:
    from vidtask.store.sqlite import SQLiteStore

    store = SQLiteStore(settings.database_path)
    check_bind(settings, store)  # loopback is fine
    with pytest.raises(errors.Unauthorized, match="refusing to bind"):
        check_bind(settings.model_copy(update={"host": "0.0.0.0"}), store)
    new_key(store, "ops", 0)
    check_bind(settings.model_copy(update={"host": "0.0.0.0"}), store)


def test_internal_errors_never_leak_a_trace(
    client: TestClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    service = client.app.state.vidtask.service  # type: ignore[attr-defined]

    def boom(owner: str, task_id: str) -> None:
        raise RuntimeError("secret internals at /srv/app.py line 3")

    monkeypatch.setattr(service, "get", boom)
    for path in ("/v1/tasks/vt_x", "/v1/video/generations/vt_x"):
        response = client.get(path)
        assert response.status_code == 500
        assert "Traceback" not in response.text and "secret internals" not in response.text
        assert "internal_error" in response.text


def test_models_schema_openapi_and_ops(client: TestClient) -> None:
    models = client.get("/v1/models").json()
    assert {"timeline", "slides"} <= {m["id"] for m in models["data"]}
    schema = client.get("/v1/schemas/timeline.json").json()
    assert "tracks" in json.dumps(schema)
    assert client.get("/v1/schemas/nope.json").status_code == 404
    paths = client.get("/openapi.json").json()["paths"]
    assert {"/v1/tasks", "/v1/tasks/{task_id}", "/v1/video/generations/{task_id}"} <= set(paths)
    assert client.get("/healthz").json() == {"status": "ok"}
    assert client.get("/readyz").json()["status"] == "ready"
    submit(client, {"input": color_timeline()})
    metrics = client.get("/metrics").text
    assert 'vidtask_tasks{status="queued"} 1.0' in metrics
    assert 'vidtask_tasks_submitted_total{model="timeline"} 1.0' in metrics


def test_newapi_create_from_prompt_and_timeline(client: TestClient) -> None:
    created = client.post(
        "/v1/video/generations", json={"model": "timeline", "prompt": "Hello 你好", "duration": 2}
    )
    assert created.status_code == 200, created.text
    body = created.json()
    assert set(body) == {"task_id", "status", "url", "format", "metadata"}
    assert body["status"] == "queued"
    task = client.get(f"/v1/tasks/{body['task_id']}").json()
    assert task["model"] == "timeline"
    via_prompt = client.post("/v1/video/generations", json={"prompt": json.dumps(color_timeline())})
    assert via_prompt.status_code == 200
    missing = client.post("/v1/video/generations", json={"model": "timeline"})
    assert missing.status_code == 400
    assert set(missing.json()["error"]) == {"message", "type", "param", "code"}
    assert missing.json()["error"]["type"] == "invalid_request_error"

"""Scenext's dialect: the envelopes of seeds 000 and 002 exactly, the question/answer parser, and
every route in-process (renders done by a real worker)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient

from tests.dialects.conftest import (
    GEN_MODEL,
    LINKS,
    app_state,
    completed,
    fixture,
    make_task,
    run_queued,
    shape,
)
from vidtask.core import errors
from vidtask.core.routing import ModelRouter
from vidtask.core.task import Links, Status
from vidtask.dialects import scenext
from vidtask.dialects.registry import DIALECTS
from vidtask.service.keys import new_key

PAYLOADS = DIALECTS.payloads()

ROUTER = ModelRouter(["slides", "timeline"], {})


def parse(body: dict[str, Any]) -> Any:
    return scenext.parse_create(body, router=ROUTER, idempotency_key=None, body_hash="0" * 64)


def query_video_status(
    client: httpx.Client | TestClient, task_id: str, api_key: str = "YOUR_API_KEY"
) -> dict[str, Any]:
    """Seed 000's MCP handler (scenext_mcp/server.py:141-194), ported from aiohttp: what an
    existing Scenext MCP server does with our answer."""
    if not task_id.strip():
        return {"error": "任务ID不能为空"}
    headers = {"Authorization": f"Bearer {api_key}"}
    response = client.get(f"/api/get_status/{task_id}", headers=headers)
    if response.status_code == 200:
        result = response.json()
        if result.get("status") == "success":
            return dict(result.get("data", {}))
        return {"error": "API返回错误状态", "details": result}
    return {"error": f"状态查询失败: {response.status_code}", "details": response.text}


# -- pure ---------------------------------------------------------------------------------------


def test_in_progress_view_is_seed_002_exactly() -> None:
    golden = fixture("scenext_get_status.json")
    task = make_task(status=Status.IN_PROGRESS, stage="rendering", progress=40.0)
    body = scenext.view(task, LINKS)
    assert shape(body) == shape(golden)
    assert list(body["data"]) == list(golden["data"])
    assert body["data"]["status"] == "IN_PROGRESS"
    assert [p["id"] for p in body["data"]["progress"]] == ["frame1", "frame2"]


@pytest.mark.parametrize(
    ("status", "word"),
    [
        (Status.QUEUED, "IN_PROGRESS"),
        (Status.IN_PROGRESS, "IN_PROGRESS"),
        (Status.FAILED, "FAILED"),
        (Status.CANCELLED, "FAILED"),
    ],
)
def test_statuses(status: Status, word: str) -> None:
    error = {"code": "render_failed", "message": "boom"} if status is Status.FAILED else None
    body = scenext.view(make_task(status=status, error=error), Links())
    assert body["status"] == "success" and body["data"]["status"] == word
    assert body["data"]["progress"] == [] and "result" not in body["data"]
    assert body["data"].get("error") == error
    assert (
        scenext.StatusAnswer.model_validate(body, strict=True).model_dump(exclude_unset=True)
        == body
    )


def test_completed_view_carries_video_and_cover() -> None:
    body = scenext.view(completed(make_task()), LINKS)
    assert body["data"]["status"] == "COMPLETED"
    scenext.StatusAnswer.model_validate(body, strict=True)
    assert body["data"]["result"] == {"video_url": LINKS.video_url, "cover_url": LINKS.cover_url}
    assert len(body["data"]["progress"]) == 2
    assert PAYLOADS["scenext"]("task.completed", completed(make_task()), LINKS) == body


@pytest.mark.parametrize(
    ("quality", "size", "slides_quality"),
    [("l", (854, 480), "standard"), ("m", (1280, 720), "standard"), ("h", (1920, 1080), "high")],
)
def test_question_and_answer_go_to_slides(
    quality: str, size: tuple[int, int], slides_quality: str
) -> None:
    spec = parse(
        {
            "question": "What is 1+1?",
            "answer": "It is 2.",
            "questionImages": ["https://img.example/q.png"],
            "answerImages": ["https://img.example/a1.png", "https://img.example/a2.png"],
            "quality": quality,
            "notify_url": "https://hooks.example/scenext",
        }
    )
    assert spec.model == "slides"
    assert spec.input == {
        "prompt": None,
        "question": "What is 1+1?",
        "answer": "It is 2.",
        "images": [
            "https://img.example/q.png",
            "https://img.example/a1.png",
            "https://img.example/a2.png",
        ],
        "opening_image": None,
        "width": size[0],
        "height": size[1],
        "fps": 30,
        "seconds": None,
        "quality": slides_quality,
        "seed": None,
    }
    assert (spec.webhook_url, spec.webhook_format) == ("https://hooks.example/scenext", "scenext")


def test_a_named_model_renders_it() -> None:
    spec = parse({"question": "Q?", "answer": "A.", "model": "timeline", "quality": "l"})
    assert spec.model == "timeline"
    text = spec.input["tracks"][1]["clips"][0]["asset"]["text"]
    assert text == "Q?\n\nA." and spec.input["output"]["width"] == 854


@pytest.mark.parametrize(
    ("body", "param", "words"),
    [
        ({"answer": "2"}, "question", "is required"),
        ({"question": "q", "quality": "x"}, "quality", "'h', 'm' or 'l'"),
        ({"question": "q", "questionImages": "a.png"}, "questionImages", "valid list"),
        ({"question": "q", "answerImages": [" "]}, "answerImages", "must not be empty"),
        ({"question": "q", "voice": "x"}, "voice", "unknown field"),
        ({"question": "q", "model": "veo-3"}, "model", "unknown model"),
    ],
)
def test_bad_requests_name_the_field(body: dict[str, Any], param: str, words: str) -> None:
    with pytest.raises(errors.InvalidRequest) as caught:
        parse(body)
    assert caught.value.param == param and words in caught.value.message


def test_error_envelope() -> None:
    status, body = scenext.error_view(errors.NotFound("no task", param="task_id"))
    assert status == 404
    assert body == {
        "status": "error",
        "message": "no task",
        "code": "not_found",
        "param": "task_id",
    }


# -- routes, in-process -------------------------------------------------------------------------


def gen_video(client: TestClient, **body: Any) -> str:
    response = client.post(
        "/api/gen_video", json={"question": "1+1?", "answer": "2", "quality": "l", **body}
    )
    assert response.status_code == 200, response.text
    created = response.json()
    assert shape(created) == shape(fixture("scenext_gen_video.json"))
    return str(created["data"]["task_id"])


@pytest.mark.slow
def test_seed_000_handler_follows_a_task_to_its_result(client: TestClient) -> None:
    _, key = new_key(app_state(client).service.store, "mcp", 0)
    client.headers["Authorization"] = f"Bearer {key}"
    task_id = gen_video(client, model=GEN_MODEL)
    queued = query_video_status(client, task_id, key)
    assert queued == {"task_id": task_id, "status": "IN_PROGRESS", "progress": []}
    run_queued(client)
    data = query_video_status(client, task_id, key)
    assert data["status"] == "COMPLETED", data
    assert [p["id"] for p in data["progress"]] == [
        f"frame{i}" for i in range(1, len(data["progress"]) + 1)
    ]
    assert data["progress"], "preview frames are listed"
    for url in (
        data["result"]["video_url"],
        data["result"]["cover_url"],
        data["progress"][0]["image"],
    ):
        fetched = client.get(httpx.URL(url).raw_path.decode())
        assert fetched.status_code == 200 and fetched.content


def test_unknown_id_other_key_and_bad_key(client: TestClient) -> None:
    assert query_video_status(client, "vt_nope")["error"] == "状态查询失败: 401"  # no such key
    missing = client.get("/api/get_status/vt_nope")
    assert missing.json() == {
        "status": "error",
        "message": "no task with id 'vt_nope'",
        "code": "not_found",
        "param": "task_id",
    }
    store = app_state(client).service.store
    _, alice = new_key(store, "alice", 0)
    _, bob = new_key(store, "bob", 0)
    app_state(client).auth._anonymous = False
    created = client.post(
        "/api/gen_video",
        json={"question": "q", "model": GEN_MODEL},
        headers={"Authorization": f"Bearer {alice}"},
    )
    task_id = created.json()["data"]["task_id"]
    assert query_video_status(client, "vt_nope", alice)["error"] == "状态查询失败: 404"
    assert query_video_status(client, task_id, alice)["task_id"] == task_id
    assert query_video_status(client, task_id, bob)["error"] == "状态查询失败: 404"
    assert client.get(f"/api/get_status/{task_id}", headers={"X-API-Key": alice}).status_code == 200
    other = client.get(f"/api/get_status/{task_id}", headers={"X-API-Key": bob})
    assert other.status_code == 404 and other.json()["status"] == "error"
    anonymous = client.post("/api/gen_video", json={"question": "q"})
    assert anonymous.status_code == 401
    assert anonymous.json()["status"] == "error" and anonymous.json()["code"] == "unauthorized"


def test_bad_body_and_cancelled_task(client: TestClient) -> None:
    bad = client.post("/api/gen_video", json={"question": "q", "quality": "ultra"})
    assert bad.status_code == 400 and bad.json()["param"] == "quality"
    broken = client.post(
        "/api/gen_video", content=b"{", headers={"Content-Type": "application/json"}
    )
    assert broken.status_code == 400 and "malformed JSON" in broken.json()["message"]
    task_id = gen_video(client, model=GEN_MODEL)
    client.post(f"/v1/tasks/{task_id}/cancel")
    data = client.get(f"/api/get_status/{task_id}").json()["data"]
    assert data["status"] == "FAILED" and data["error"]["code"] == "cancelled"


def test_notify_url_is_the_task_webhook(client: TestClient) -> None:
    task_id = gen_video(client, model=GEN_MODEL, notify_url="https://93.184.215.14/notify")
    task = app_state(client).service.get("anonymous", task_id)
    assert (task.webhook_url, task.webhook_format) == ("https://93.184.215.14/notify", "scenext")
    refused = client.post(
        "/api/gen_video",
        json={"question": "q", "model": GEN_MODEL, "notify_url": "http://127.0.0.1:9/x"},
    )
    assert refused.status_code == 400 and refused.json()["param"] == "notify_url"
    assert refused.json()["message"].startswith("notify_url: ")


@pytest.mark.slow
def test_failed_render_is_failed(client: TestClient, asset_root: Path) -> None:
    (asset_root / "broken.png").write_text("no image")
    task_id = gen_video(client, model="timeline", questionImages=["broken.png"])
    run_queued(client)
    data = client.get(f"/api/get_status/{task_id}").json()["data"]
    assert data["status"] == "FAILED" and data["error"]["code"] == "unsupported_media"
    assert "result" not in data

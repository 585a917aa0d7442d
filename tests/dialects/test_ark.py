"""Volcengine Ark's dialect (Doubao Seedance tasks): the parser with its legacy text flags, the
golden task body, list filters and paging, Ark's delete rules, deadlines, the last frame PNG."""

from __future__ import annotations

import base64
import io
import json
import time
from pathlib import Path
from typing import Any

import av
import httpx
import numpy as np
import pytest
from fastapi.testclient import TestClient
from PIL import Image

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
from tests.dialects.test_openai import png_bytes
from vidtask.core import errors
from vidtask.core.routing import ModelRouter
from vidtask.core.task import Links, Status
from vidtask.dialects import ark
from vidtask.dialects.registry import DIALECTS
from vidtask.service.keys import new_key
from vidtask.store.base import Fence

PAYLOADS = DIALECTS.payloads()

TASKS = "/api/v3/contents/generations/tasks"
SEEDANCE = "doubao-seedance-1-0-pro-250528"
ROUTER = ModelRouter(["slides", "timeline"], {"doubao-seedance-*": "slides"})


def parse(body: dict[str, Any], body_hash: str = "0000abcd" + "0" * 56) -> Any:
    return ark.parse_create(body, router=ROUTER, idempotency_key=None, body_hash=body_hash)


def text(value: str) -> dict[str, str]:
    return {"type": "text", "text": value}


def image(url: str, role: str | None = None) -> dict[str, Any]:
    item: dict[str, Any] = {"type": "image_url", "image_url": {"url": url}}
    return item if role is None else item | {"role": role}


# -- pure: parser -------------------------------------------------------------------------------


def test_parse_a_seedance_request_with_legacy_flags() -> None:
    spec = parse(
        {
            "model": SEEDANCE,
            "content": [
                text("A cat on a piano --rs 480p --rt 9:16 --dur 8 --seed 42 --cf true --wm false"),
                image("https://img.example/first.png", "first_frame"),
            ],
            "callback_url": "https://hooks.example/ark",
            "return_last_frame": True,
            "execution_expires_after": 3600,
        }
    )
    assert spec.model == "slides"
    assert spec.input["prompt"] == "A cat on a piano"
    assert spec.input["opening_image"] == "https://img.example/first.png"
    assert (spec.input["width"], spec.input["height"], spec.input["fps"]) == (480, 854, 24)
    assert spec.input["seconds"] == 8.0 and spec.input["seed"] == 42
    assert (spec.webhook_url, spec.webhook_format) == ("https://hooks.example/ark", "ark")
    assert spec.expires_after_s == 3600.0
    assert spec.external_ref == {
        "requested_model": SEEDANCE,
        "ark": {
            "seed": 42,
            "resolution": "480p",
            "ratio": "9:16",
            "framespersecond": 24,
            "camera_fixed": True,
            "watermark": False,
            "return_last_frame": True,
            "execution_expires_after": 3600,
            "duration": 8,
        },
    }


def test_body_fields_win_over_flags_and_defaults() -> None:
    spec = parse(
        {
            "model": SEEDANCE,
            "content": [text("x --rs 480p --dur 8")],
            "resolution": "1080p",
            "frames": 48,
        }
    )
    echo = spec.external_ref["ark"]
    assert (echo["resolution"], echo["frames"], echo["ratio"]) == ("1080p", 48, "16:9")
    assert "duration" not in echo and spec.input["seconds"] == 2.0
    assert (spec.input["width"], spec.input["height"]) == (1920, 1080)
    plain = parse({"model": SEEDANCE, "content": [text("x")]})
    assert plain.external_ref["ark"]["duration"] == 5
    assert plain.external_ref["ark"]["execution_expires_after"] == 172_800
    assert plain.external_ref["ark"]["seed"] == 0xABCD  # -1: derived from the request
    assert parse({"model": SEEDANCE, "content": [text("x --seed -1")]}).external_ref["ark"][
        "seed"
    ] == (0xABCD)


@pytest.mark.parametrize(
    ("resolution", "ratio", "size"),
    [
        ("480p", "16:9", (854, 480)),
        ("720p", "9:16", (720, 1280)),
        ("720p", "1:1", (720, 720)),
        ("720p", "4:3", (960, 720)),
        ("1080p", "21:9", (2520, 1080)),
        ("1080p", "adaptive", (1920, 1080)),
    ],
)
def test_dimensions(resolution: str, ratio: str, size: tuple[int, int]) -> None:
    assert ark.dimensions(resolution, ratio) == size


def test_image_roles() -> None:
    lone = parse({"model": SEEDANCE, "content": [text("x"), image("a.png")]})
    assert lone.input["opening_image"] == "a.png" and lone.input["images"] == []
    both = parse(
        {
            "model": SEEDANCE,
            "content": [
                image("last.png", "last_frame"),
                image("ref.png", "reference_image"),
                image("first.png", "first_frame"),
            ],
        }
    )
    assert both.input["opening_image"] == "first.png"
    assert both.input["images"] == ["ref.png", "last.png"]
    assert both.input["prompt"] is None


@pytest.mark.parametrize(
    ("body", "param", "words"),
    [
        ({"content": [text("x")]}, "model", "is required"),
        ({"model": SEEDANCE, "content": []}, "content", "at least 1"),
        ({"model": SEEDANCE, "content": [{"type": "video"}]}, "content[0]", "does not match"),
        (
            {"model": SEEDANCE, "content": [{"type": "image_url"}]},
            "content[0].image_url",
            "required",
        ),
        (
            {"model": SEEDANCE, "content": [text("x --foo 1")]},
            "content[0].text",
            "unknown flag --foo",
        ),
        ({"model": SEEDANCE, "content": [text("x --dur")]}, "content[0].text", "needs a value"),
        (
            {"model": SEEDANCE, "content": [text("x --dur five")]},
            "content[0].text --dur",
            "integer",
        ),
        ({"model": SEEDANCE, "content": [text("x --rs 4k")]}, "content[0].text --rs", "'480p'"),
        ({"model": SEEDANCE, "content": [text("x --fps 30")]}, "content[0].text --fps", "24"),
        (
            {"model": SEEDANCE, "content": [text("x --wm yes")]},
            "content[0].text --wm",
            "true or false",
        ),
        ({"model": SEEDANCE, "content": [text("x --dur 5 --frames 48")]}, "content", "not both"),
        (
            {"model": SEEDANCE, "content": [text("x")], "duration": 5, "frames": 48},
            "frames",
            "not both",
        ),
        ({"model": SEEDANCE, "content": [text("x")], "resolution": "4k"}, "resolution", "'480p'"),
        (
            {"model": SEEDANCE, "content": [text("x")], "execution_expires_after": 0},
            "execution_expires_after",
            "greater than or equal to 1",
        ),
        (
            {"model": SEEDANCE, "content": [image("a", "first_frame"), image("b", "first_frame")]},
            "content",
            "more than one first_frame",
        ),
        ({"model": "veo-3", "content": [text("x")]}, "model", "unknown model"),
    ],
)
def test_bad_requests_name_the_field(body: dict[str, Any], param: str, words: str) -> None:
    with pytest.raises(errors.InvalidRequest) as caught:
        parse(body)
    assert caught.value.param == param, caught.value.message
    assert words in caught.value.message


# -- pure: views --------------------------------------------------------------------------------


def test_succeeded_view_matches_the_golden_task() -> None:
    golden = fixture("ark_task.json")
    sent = parse(
        {
            "model": SEEDANCE,
            "content": [text("x")],
            "seed": 10,
            "return_last_frame": True,
        }
    )
    task = completed(make_task(external_ref=sent.external_ref))
    body = ark.view(task, LINKS)
    assert list(body) == list(golden) and shape(body) == shape(golden)
    assert body["status"] == "succeeded" and body["model"] == SEEDANCE
    assert body["content"] == {
        "video_url": LINKS.video_url,
        "last_frame_url": LINKS.last_frame_url,
    }
    assert body["usage"] == {"completion_tokens": 108_000, "total_tokens": 108_000}
    assert (body["created_at"], body["updated_at"]) == (1712697600, 1712697720)
    assert PAYLOADS["ark"]("task.completed", task, LINKS) == body  # the callback body
    assert ark.ArkTask.model_validate(body, strict=True).model_dump(exclude_unset=True) == body
    no_frame = parse({"model": SEEDANCE, "content": [text("x")]}).external_ref
    assert (
        "last_frame_url"
        not in ark.view(completed(make_task(external_ref=no_frame)), LINKS)["content"]
    )


@pytest.mark.parametrize(
    ("status", "code", "word"),
    [
        (Status.QUEUED, None, "queued"),
        (Status.IN_PROGRESS, None, "running"),
        (Status.FAILED, "render_failed", "failed"),
        (Status.FAILED, "expired", "expired"),
        (Status.CANCELLED, "cancelled", "cancelled"),
    ],
)
def test_view_statuses(status: Status, code: str | None, word: str) -> None:
    error = None if code is None else {"code": code, "message": "why"}
    body = ark.view(make_task(status=status, error=error), LINKS)
    assert body["status"] == word and body["error"] == error
    ark.ArkTask.model_validate(body, strict=True)
    assert "content" not in body and "usage" not in body


def test_list_create_and_error_envelopes() -> None:
    task = make_task()
    assert shape(ark.created_view(task)) == shape(fixture("ark_create.json"))
    listed = ark.list_view([task], [Links()], 7)
    assert list(listed) == list(fixture("ark_list.json")) and listed["total"] == 7
    status, body = ark.error_view(errors.InvalidRequest("content: is required", param="content"))
    assert status == 400 and body == fixture("ark_error.json") | {
        "error": fixture("ark_error.json")["error"] | {"code": "MissingParameter"}
    }
    assert ark.error_view(errors.NotFound())[1]["error"]["code"] == "ResourceNotFound"
    assert ark.error_view(errors.Unauthorized())[0] == 401
    assert ark.error_view(errors.VidtaskError())[1]["error"]["type"] == "InternalServerError"


def test_status_filters() -> None:
    query = ark.task_filter(ark.ListQuery(2, 5, "expired", ("a,b", "c"), SEEDANCE))
    assert (query.offset, query.limit, query.ids) == (5, 5, ("a", "b", "c"))
    assert (query.statuses, query.error_code, query.requested_model) == (
        (Status.FAILED,),
        "expired",
        SEEDANCE,
    )
    assert ark.task_filter(ark.ListQuery(status="failed")).not_error_code == "expired"
    assert ark.task_filter(ark.ListQuery(status="running")).statuses == (Status.IN_PROGRESS,)


# -- routes, in-process -------------------------------------------------------------------------


def create(client: TestClient, prompt: str = "A cat", **body: Any) -> str:
    payload = {
        "model": SEEDANCE,
        "content": [text(prompt + " --rs 480p --rt 16:9 --dur 1")],
        **body,
    }
    response = client.post(TASKS, json=payload)
    assert response.status_code == 200, response.text
    assert shape(response.json()) == shape(fixture("ark_create.json"))
    return str(response.json()["id"])


def get(client: TestClient, task_id: str) -> Any:
    response = client.get(f"{TASKS}/{task_id}")
    assert response.status_code == 200, response.text
    return response.json()


def test_list_filters_and_pages(client: TestClient) -> None:
    ids = [create(client, f"task {i}") for i in range(4)]
    other_model = client.post(
        TASKS, json={"model": GEN_MODEL, "content": [text("plain --dur 1 --rs 480p")]}
    ).json()["id"]
    everything = client.get(TASKS).json()
    assert everything["total"] == 5 and [t["id"] for t in everything["items"]][:2] == [
        other_model,
        ids[3],
    ]
    page2 = client.get(TASKS, params={"page_num": 2, "page_size": 2}).json()
    assert [t["id"] for t in page2["items"]] == [ids[2], ids[1]] and page2["total"] == 5
    by_model = client.get(TASKS, params={"filter.model": SEEDANCE}).json()
    assert by_model["total"] == 4 and all(t["model"] == SEEDANCE for t in by_model["items"])
    by_ids = client.get(
        TASKS, params=[("filter.task_ids", ids[0]), ("filter.task_ids", f"{ids[1]},{ids[2]}")]
    ).json()
    assert sorted(t["id"] for t in by_ids["items"]) == sorted(ids[:3])
    client.delete(f"{TASKS}/{ids[0]}")  # queued: cancelled
    cancelled = client.get(TASKS, params={"filter.status": "cancelled"}).json()
    assert [t["id"] for t in cancelled["items"]] == [ids[0]]
    assert client.get(TASKS, params={"filter.status": "queued"}).json()["total"] == 4
    for params, param in (
        ({"page_size": 0}, "page_size"),
        ({"page_size": 501}, "page_size"),
        ({"page_num": 0}, "page_num"),
        ({"filter.status": "done"}, "filter.status"),
    ):
        bad = client.get(TASKS, params=params)
        assert bad.status_code == 400, params
        assert bad.json()["error"]["code"] == "InvalidParameter"
        assert bad.json()["error"]["param"] == param


def test_delete_follows_arks_rules(client: TestClient) -> None:
    service = app_state(client).service
    queued = create(client)
    assert client.delete(f"{TASKS}/{queued}").json() == {}
    assert get(client, queued)["status"] == "cancelled"  # a queued task is cancelled, kept
    again = client.delete(f"{TASKS}/{queued}")
    assert again.status_code == 409 and again.json()["error"]["code"] == "OperationDenied"
    running = create(client)
    claimed = service.store.claim("w_x", (GEN_MODEL,), time.time(), 60)
    assert claimed is not None and claimed.id == running
    refused = client.delete(f"{TASKS}/{running}")
    assert refused.status_code == 409 and "in_progress" in refused.json()["error"]["message"]
    fence = Fence(running, "w_x", claimed.attempt)
    assert service.store.finish(
        fence, time.time(), Status.FAILED, error={"code": "render_failed", "message": "x"}
    )
    assert get(client, running)["status"] == "failed"
    assert client.delete(f"{TASKS}/{running}").json() == {}  # failed: deleted
    gone = client.get(f"{TASKS}/{running}")
    assert gone.status_code == 404 and gone.json()["error"]["code"] == "ResourceNotFound"
    assert client.delete(f"{TASKS}/vt_nope").status_code == 404


def test_deadline_turns_a_task_expired(client: TestClient) -> None:
    service = app_state(client).service
    queued = create(client, execution_expires_after=1)
    running = create(client, execution_expires_after=1)
    later = create(client)
    assert get(client, queued)["execution_expires_after"] == 1
    claimed = service.store.claim("w_x", (GEN_MODEL,), time.time(), 60)
    assert claimed is not None and claimed.id == queued
    assert service.store.expire_overdue(time.time()) == []
    expired = service.store.expire_overdue(time.time() + 2)
    assert {t.id for t in expired} == {queued, running}
    for task_id in (queued, running):
        body = get(client, task_id)
        assert body["status"] == "expired" and body["error"]["code"] == "expired"
    # the worker that held the expired task has lost its lease: its writes change nothing
    fence = Fence(queued, "w_x", claimed.attempt)
    assert not service.store.finish(fence, time.time(), Status.COMPLETED, result={})
    assert get(client, later)["status"] == "queued"
    listed = client.get(TASKS, params={"filter.status": "expired"}).json()
    assert sorted(t["id"] for t in listed["items"]) == sorted([queued, running])
    assert client.get(TASKS, params={"filter.status": "failed"}).json()["total"] == 0
    assert client.delete(f"{TASKS}/{queued}").json() == {}  # expired: deleted


def test_unknown_id_other_key_and_bad_key(client: TestClient) -> None:
    store = app_state(client).service.store
    _, alice = new_key(store, "alice", 0)
    _, bob = new_key(store, "bob", 0)
    app_state(client).auth._anonymous = False
    client.headers["Authorization"] = f"Bearer {alice}"
    task_id = create(client)
    client.headers["Authorization"] = f"Bearer {bob}"
    for method, path in (("GET", f"{TASKS}/{task_id}"), ("DELETE", f"{TASKS}/{task_id}")):
        response = client.request(method, path)
        assert response.status_code == 404
        assert response.json()["error"]["type"] == "NotFound"
    assert client.get(TASKS).json() == {"items": [], "total": 0}
    client.headers["Authorization"] = "Bearer wrong"
    unauthorized = client.get(TASKS)
    assert unauthorized.status_code == 401
    assert unauthorized.json()["error"]["code"] == "AuthenticationError"


def test_data_url_images_and_callback_field(client: TestClient) -> None:
    data_url = "data:image/png;base64," + base64.b64encode(png_bytes()).decode()
    task_id = create(client, content=[text("x"), image(data_url, "first_frame")])
    task = app_state(client).service.get("anonymous", task_id)
    opening = task.input.get("opening_image") or task.input["tracks"][0]["clips"][0]["asset"]["src"]
    assert Path(opening).read_bytes() == png_bytes()
    bad = client.post(
        TASKS,
        json={"model": SEEDANCE, "content": [image("data:image/png;base64,xx", "first_frame")]},
    )
    assert bad.status_code == 400 and bad.json()["error"]["param"] == "content[0].image_url.url"
    hook = client.post(
        TASKS,
        json={"model": SEEDANCE, "content": [text("x")], "callback_url": "http://10.0.0.1/cb"},
    )
    assert hook.status_code == 400 and hook.json()["error"]["param"] == "callback_url"


@pytest.mark.slow
def test_succeeded_task_has_a_real_last_frame_png(client: TestClient) -> None:
    task_id = create(client, "Last frame", return_last_frame=True)
    run_queued(client)
    body = get(client, task_id)
    assert body["status"] == "succeeded", body
    assert body["usage"]["total_tokens"] == ark.usage_tokens(
        app_state(client).service.get("anonymous", task_id).result["metadata"]  # type: ignore[index]
    )
    assert body["usage"]["total_tokens"] > 0
    video = client.get(httpx.URL(body["content"]["video_url"]).raw_path.decode())
    png = client.get(httpx.URL(body["content"]["last_frame_url"]).raw_path.decode())
    assert png.status_code == 200 and png.headers["content-type"] == "image/png"
    picture = Image.open(io.BytesIO(png.content))
    assert picture.format == "PNG" and picture.size == (854, 480)
    with av.open(io.BytesIO(video.content), mode="r") as container:
        frames = [f.to_ndarray(format="rgb24") for f in container.decode(video=0)]
    last = np.asarray(picture.convert("RGB"), dtype=np.int16)
    assert np.abs(last - frames[-1].astype(np.int16)).mean() < 2.0
    cached = client.get(httpx.URL(body["content"]["last_frame_url"]).raw_path.decode())
    assert cached.content == png.content  # made once, then served from the artifact


@pytest.mark.slow
def test_failed_render_is_failed(client: TestClient, asset_root: Path) -> None:
    (asset_root / "broken.png").write_text("no image")
    timeline = {
        "output": {"width": 64, "height": 64},
        "tracks": [
            {"clips": [{"asset": {"type": "image", "src": "broken.png"}, "start": 0, "length": 1}]}
        ],
    }
    created = client.post(
        TASKS, json={"model": "timeline", "content": [text(json.dumps(timeline))]}
    )
    assert created.status_code == 200, created.text
    run_queued(client)
    body = get(client, created.json()["id"])
    assert body["status"] == "failed" and body["error"]["code"] == "unsupported_media"
    assert "content" not in body


def test_last_frame_links_are_signed_and_need_a_video(client: TestClient) -> None:
    service = app_state(client).service
    task_id = create(client)
    signed = service.signer.url(task_id, "1/last_frame.png", time.time())
    missing = client.get(httpx.URL(signed).raw_path.decode())
    assert missing.status_code == 404  # a valid link, but there is no video to take it from
    forged = signed.replace("sig=", "sig=0")
    assert client.get(httpx.URL(forged).raw_path.decode()).status_code == 404
    non_ascii = httpx.URL(signed).copy_set_param("sig", "é" * 32)
    assert client.get(non_ascii.raw_path.decode()).status_code == 404  # not a 500
    other = service.signer.url(task_id, "../1/last_frame.png", time.time())
    assert client.get(httpx.URL(other).raw_path.decode()).status_code == 404
    queued = ark.view(
        service.get("anonymous", task_id), service.links(service.get("anonymous", task_id))
    )
    assert (
        "content" not in queued
        and service.links(service.get("anonymous", task_id)).last_frame_url is None
    )

"""OpenAI's Videos dialect: the pure parser and view against the golden Video object, then every
route in-process (renders done by a real worker)."""

from __future__ import annotations

import base64
import io
import json
from pathlib import Path
from typing import Any

import av
import pytest
from fastapi.testclient import TestClient
from openai.types import Video, VideoDeleteResponse
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
from vidtask.core import errors
from vidtask.core.routing import ModelRouter
from vidtask.core.task import Links, Status
from vidtask.dialects import openai
from vidtask.service.keys import new_key

ROUTER = ModelRouter(["slides", "timeline"], {"sora-2": "slides", "sora-2-*": "slides"})
SMALL = {"size": "160x90", "seconds": "1"}


def parse(body: dict[str, Any]) -> Any:
    return openai.parse_create(body, router=ROUTER, idempotency_key=None, body_hash="0" * 64)


def png_bytes(color: str = "red", size: tuple[int, int] = (32, 18)) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", size, color).save(out, format="PNG")
    return out.getvalue()


# -- pure: parser -------------------------------------------------------------------------------


def test_parse_defaults_follow_the_sdk_docs() -> None:
    spec = parse({"prompt": "A calico cat playing a piano"})
    assert spec.model == "slides"
    assert spec.input == {
        "prompt": "A calico cat playing a piano",
        "question": None,
        "answer": None,
        "images": [],
        "opening_image": None,
        "width": 720,
        "height": 1280,
        "fps": 30,
        "seconds": 4.0,
        "quality": "standard",
        "seed": None,
    }
    assert spec.external_ref == {
        "requested_model": "sora-2",
        "openai": {
            "prompt": "A calico cat playing a piano",
            "size": "720x1280",
            "seconds": "4",
            "input_reference": None,
            "remixed_from_video_id": None,
        },
    }


@pytest.mark.parametrize(
    ("reference", "opening"),
    [
        ("https://img.example/cat.png", "https://img.example/cat.png"),
        ({"image_url": "https://img.example/cat.png"}, "https://img.example/cat.png"),
        ("uploads/abc.png", "uploads/abc.png"),
    ],
)
def test_input_reference_is_the_opening_image(reference: Any, opening: str) -> None:
    spec = parse({"prompt": "x", "input_reference": reference, "size": "1280x720"})
    assert spec.input["opening_image"] == opening
    assert (spec.input["width"], spec.input["height"]) == (1280, 720)


def test_timeline_model_gets_a_title_card_over_the_image() -> None:
    spec = parse(
        {"prompt": "Hello", "model": "timeline", "input_reference": "cat.png", "seconds": "2"}
    )
    assert spec.model == "timeline"
    image, text = spec.input["tracks"]
    assert image["clips"][0]["asset"] == {"type": "image", "src": "cat.png"}
    assert text["clips"][0]["asset"]["text"] == "Hello"
    assert spec.input["output"]["width"] == 720 and text["clips"][0]["length"] == 2.0


@pytest.mark.parametrize(
    ("body", "param", "words"),
    [
        ({}, "prompt", "is required"),
        ({"prompt": ""}, "prompt", "at least 1 character"),
        ({"prompt": "x", "size": "1280*720"}, "size", '"WIDTHxHEIGHT"'),
        ({"prompt": "x", "size": "1281x720"}, "size", "even"),
        ({"prompt": "x", "size": "8x8"}, "size", "between 16 and 4096"),
        ({"prompt": "x", "seconds": "four"}, "seconds", "number of seconds"),
        ({"prompt": "x", "seconds": "0"}, "seconds", "more than 0"),
        ({"prompt": "x", "quality": "hd"}, "quality", "unknown field"),
        ({"prompt": "x", "model": "veo-3"}, "model", "unknown model 'veo-3'"),
        (
            {"prompt": "x", "input_reference": {"file_id": "file_1"}},
            "input_reference.file_id",
            "Files API",
        ),
        ({"prompt": "x", "input_reference": {}}, "input_reference", "image_url"),
    ],
)
def test_bad_requests_name_the_field(body: dict[str, Any], param: str, words: str) -> None:
    with pytest.raises(errors.InvalidRequest) as caught:
        parse(body)
    assert caught.value.param == param
    assert words in caught.value.message


@pytest.mark.parametrize(("given", "echo"), [("8", "8"), (12, "12"), ("2.5", "2.5"), (4.0, "4")])
def test_seconds_as_string_or_number(given: Any, echo: str) -> None:
    spec = parse({"prompt": "x", "seconds": given})
    assert spec.external_ref["openai"]["seconds"] == echo
    assert spec.input["seconds"] == float(echo)


def test_remix_reruns_the_request_with_a_new_prompt() -> None:
    source = make_task(
        external_ref=parse({"prompt": "a", "size": "1280x720", "seconds": "8"}).external_ref
    )
    spec = openai.parse_remix(
        {"prompt": "b"}, source, router=ROUTER, idempotency_key=None, body_hash="1" * 64
    )
    sent = spec.external_ref["openai"]
    assert sent["prompt"] == "b" and sent["remixed_from_video_id"] == source.id
    assert (sent["size"], sent["seconds"]) == ("1280x720", "8")
    with pytest.raises(errors.InvalidRequest, match="was not created through /v1/videos"):
        openai.parse_remix(
            {"prompt": "b"}, make_task(), router=ROUTER, idempotency_key=None, body_hash="1"
        )


# -- pure: view ---------------------------------------------------------------------------------


def test_view_matches_the_golden_video_object() -> None:
    golden = fixture("openai_video.json")
    sent = parse({"prompt": golden["prompt"], "size": "1280x720", "seconds": "8"})
    task = completed(make_task(external_ref=sent.external_ref))
    body = openai.view(task, LINKS)
    assert list(body) == list(golden)  # the exact fields, in the documented order
    assert shape(body) == shape(golden)
    assert body["model"] == "sora-2" and body["status"] == "completed"
    assert body["progress"] == 100 and body["completed_at"] == 1712697720
    assert Video.model_validate(body).size == "1280x720"  # the SDK's own type accepts it
    assert openai.VideoObject.model_validate(body, strict=True).model_dump() == body  # documented


@pytest.mark.parametrize(
    ("status", "word", "code"),
    [
        (Status.QUEUED, "queued", None),
        (Status.IN_PROGRESS, "in_progress", None),
        (Status.FAILED, "failed", "render_failed"),
        (Status.CANCELLED, "failed", "cancelled"),
    ],
)
def test_view_statuses(status: Status, word: str, code: str | None) -> None:
    error = None if code is None else {"code": code, "message": "why"}
    body = openai.view(make_task(status=status, progress=42.7, error=error), Links())
    assert body["status"] == word and body["progress"] == 42
    assert body["error"] == error
    assert body["completed_at"] is None if status in (Status.QUEUED, Status.IN_PROGRESS) else True
    Video.model_validate(body | {"size": "1280x720"})
    openai.VideoObject.model_validate(body, strict=True)


def test_view_of_a_task_made_through_another_dialect() -> None:
    timeline = {
        "output": {"width": 320, "height": 180},
        "tracks": [{"clips": [{"asset": {"type": "color"}, "start": 1, "length": 2.5}]}],
    }
    body = openai.view(make_task(model="timeline", input=timeline), Links())
    assert (body["model"], body["size"], body["seconds"], body["prompt"]) == (
        "timeline",
        "320x180",
        "3.5",
        None,
    )


def test_error_envelope() -> None:
    golden = fixture("openai_error.json")
    status, body = openai.error_view(errors.InvalidRequest("bad size", param="size"))
    assert status == 400 and shape(body) == shape(golden)
    assert openai.error_view(errors.Unauthorized())[1]["error"]["type"] == "authentication_error"
    assert openai.error_view(errors.VidtaskError())[1]["error"]["type"] == "server_error"


# -- routes, in-process -------------------------------------------------------------------------


def create(client: TestClient, **body: Any) -> Any:
    response = client.post("/v1/videos", json={"prompt": "Hello", **SMALL, **body})
    assert response.status_code == 200, response.text
    return response.json()


def test_create_retrieve_and_poll_headers(client: TestClient) -> None:
    video = create(client)
    assert video["object"] == "video" and video["status"] == "queued"
    assert video["model"] == "sora-2" and video["size"] == "160x90"
    got = client.get(f"/v1/videos/{video['id']}")
    assert got.json() == video
    assert got.headers["openai-poll-after-ms"] == str(int(got.headers["retry-after"]) * 1000)
    again = client.get(f"/v1/videos/{video['id']}", headers={"If-None-Match": got.headers["etag"]})
    assert again.status_code == 304


def test_multipart_upload_becomes_the_opening_image(client: TestClient) -> None:
    image = png_bytes()
    response = client.post(
        "/v1/videos",
        data={"prompt": "With a picture", **SMALL},
        files={"input_reference": ("cat.png", image, "image/png")},
    )
    assert response.status_code == 200, response.text
    task = app_state(client).service.get("anonymous", response.json()["id"])
    opening = task.external_ref["openai"]["input_reference"]
    assert Path(opening).read_bytes() == image
    assert Path(opening).parent == app_state(client).settings.effective_asset_roots[0] / "uploads"
    again = client.post(
        "/v1/videos",
        data={"prompt": "Same picture", **SMALL},
        files={"input_reference": ("other-name.png", image, "image/png")},
    )
    second = app_state(client).service.get("anonymous", again.json()["id"])
    assert second.external_ref["openai"]["input_reference"] == opening  # content-addressed


def test_data_url_reference_and_bad_images(client: TestClient) -> None:
    data_url = "data:image/png;base64," + base64.b64encode(png_bytes("blue")).decode()
    ok = client.post(
        "/v1/videos", json={"prompt": "x", **SMALL, "input_reference": {"image_url": data_url}}
    )
    assert ok.status_code == 200, ok.text
    cases: list[tuple[dict[str, Any], str]] = [
        (
            {"files": {"input_reference": ("a.png", b"not an image", "image/png")}},
            "input_reference",
        ),
        (
            {"json": {"prompt": "x", "input_reference": "data:image/png;base64,@@@"}},
            "input_reference",
        ),
        ({"files": {"other": ("a.png", png_bytes(), "image/png")}}, "other"),
    ]
    for kwargs, param in cases:
        if "files" in kwargs:
            kwargs["data"] = {"prompt": "x"}
        response = client.post("/v1/videos", **kwargs)
        assert response.status_code == 400, response.text
        assert response.json()["error"]["param"] == param


def test_list_pages_with_first_and_last_ids(client: TestClient) -> None:
    assert client.get("/v1/videos").json() == fixture("openai_list.json")
    ids = [create(client, prompt=f"video {i}")["id"] for i in range(5)]
    page = client.get("/v1/videos", params={"limit": 2}).json()
    assert list(page) == list(fixture("openai_list.json"))
    assert [v["id"] for v in page["data"]] == ids[::-1][:2]
    assert (page["first_id"], page["last_id"], page["has_more"]) == (ids[4], ids[3], True)
    seen = [v["id"] for v in page["data"]]
    while page["has_more"]:
        page = client.get("/v1/videos", params={"limit": 2, "after": page["last_id"]}).json()
        seen += [v["id"] for v in page["data"]]
    assert seen == ids[::-1]
    ascending = client.get("/v1/videos", params={"order": "asc", "limit": 100}).json()
    assert [v["id"] for v in ascending["data"]] == ids
    bad = client.get("/v1/videos", params={"limit": 1000})
    assert bad.status_code == 400 and bad.json()["error"]["param"] == "limit"


def test_delete_only_finished_videos(client: TestClient) -> None:
    video = create(client)
    busy = client.delete(f"/v1/videos/{video['id']}")
    assert busy.status_code == 409 and busy.json()["error"]["code"] == "conflict"
    client.post(f"/v1/tasks/{video['id']}/cancel")
    cancelled = client.get(f"/v1/videos/{video['id']}").json()
    assert cancelled["status"] == "failed" and cancelled["error"]["code"] == "cancelled"
    deleted = client.delete(f"/v1/videos/{video['id']}")
    assert deleted.json() == {"id": video["id"], "object": "video.deleted", "deleted": True}
    assert shape(deleted.json()) == shape(fixture("openai_deleted.json"))
    VideoDeleteResponse.model_validate(deleted.json())
    gone = client.get(f"/v1/videos/{video['id']}")
    assert gone.status_code == 404 and gone.json()["error"]["code"] == "not_found"


def test_remix_routes(client: TestClient) -> None:
    source = create(client, size="320x180")
    remix = client.post(f"/v1/videos/{source['id']}/remix", json={"prompt": "Again, in blue"})
    assert remix.status_code == 200, remix.text
    body = remix.json()
    assert body["remixed_from_video_id"] == source["id"] and body["prompt"] == "Again, in blue"
    assert body["size"] == "320x180" and body["id"] != source["id"]
    missing = client.post(f"/v1/videos/{source['id']}/remix", json={})
    assert missing.status_code == 400 and missing.json()["error"]["param"] == "prompt"
    unknown = client.post("/v1/videos/vt_nope/remix", json={"prompt": "x"})
    assert unknown.status_code == 404
    native = client.post(
        "/v1/tasks",
        json={
            "input": {
                "output": {"width": 64, "height": 64},
                "tracks": [
                    {
                        "clips": [
                            {"asset": {"type": "color", "color": "red"}, "start": 0, "length": 1}
                        ]
                    }
                ],
            }
        },
    ).json()
    refused = client.post(f"/v1/videos/{native['id']}/remix", json={"prompt": "x"})
    assert refused.status_code == 400 and refused.json()["error"]["param"] == "video_id"


def test_unknown_id_other_key_and_bad_key(client: TestClient) -> None:
    store = app_state(client).service.store
    _, alice = new_key(store, "alice", 0)
    _, bob = new_key(store, "bob", 0)
    app_state(client).auth._anonymous = False
    as_alice = {"Authorization": f"Bearer {alice}"}
    video = client.post("/v1/videos", json={"prompt": "x", **SMALL}, headers=as_alice).json()
    for path in (
        f"/v1/videos/{video['id']}",
        f"/v1/videos/{video['id']}/content",
        "/v1/videos/vt_x",
    ):
        response = client.get(path, headers={"Authorization": f"Bearer {bob}"})
        assert response.status_code == 404, path
        assert set(response.json()["error"]) == {"message", "type", "param", "code"}
    assert client.get("/v1/videos", headers={"Authorization": f"Bearer {bob}"}).json()["data"] == []
    wrong = client.get("/v1/videos", headers={"Authorization": "Bearer sk-wrong"})
    assert wrong.status_code == 401
    assert wrong.json()["error"]["type"] == "authentication_error"
    assert wrong.json()["error"]["code"] == "unauthorized"


@pytest.mark.slow
def test_content_variants_after_a_real_render(client: TestClient) -> None:
    video = create(client, size="160x90")
    early = client.get(f"/v1/videos/{video['id']}/content")
    assert early.status_code == 404 and "queued" in early.json()["error"]["message"]
    run_queued(client)
    done = client.get(f"/v1/videos/{video['id']}").json()
    assert done["status"] == "completed" and done["progress"] == 100, done
    content = client.get(f"/v1/videos/{video['id']}/content")
    assert content.status_code == 200 and content.headers["content-type"] == "video/mp4"
    with av.open(io.BytesIO(content.content), mode="r") as container:
        stream = container.streams.video[0]
        assert (stream.codec_context.width, stream.codec_context.height) == (160, 90)
        assert float(container.duration or 0) / av.time_base == pytest.approx(1.0, abs=0.15)
    part = client.get(f"/v1/videos/{video['id']}/content", headers={"Range": "bytes=0-99"})
    assert part.status_code == 206 and len(part.content) == 100
    task = app_state(client).service.get("anonymous", video["id"])
    for variant in ("thumbnail", "spritesheet"):
        response = client.get(f"/v1/videos/{video['id']}/content", params={"variant": variant})
        if (task.result or {}).get(variant):
            assert response.status_code == 200
            Image.open(io.BytesIO(response.content)).verify()
        else:
            assert response.status_code == 404
            assert response.json()["error"]["param"] == "variant"
    bad = client.get(f"/v1/videos/{video['id']}/content", params={"variant": "gif"})
    assert bad.status_code == 400 and bad.json()["error"]["param"] == "variant"


@pytest.mark.slow
def test_failed_render_is_a_failed_video(client: TestClient, asset_root: Path) -> None:
    (asset_root / "broken.png").write_text("this is no image")
    timeline = {
        "output": {"width": 64, "height": 64},
        "tracks": [
            {"clips": [{"asset": {"type": "image", "src": "broken.png"}, "start": 0, "length": 1}]}
        ],
    }
    video = create(client, model="timeline", prompt=json.dumps(timeline))
    run_queued(client)
    failed = client.get(f"/v1/videos/{video['id']}").json()
    assert failed["status"] == "failed"
    assert failed["error"]["code"] == "unsupported_media" and failed["error"]["message"]
    assert client.get(f"/v1/videos/{video['id']}/content").status_code == 404
    assert GEN_MODEL in ("slides", "timeline")


def test_idempotency_key_replays_a_multipart_create(client: TestClient) -> None:
    def send(prompt: str) -> Any:
        return client.post(
            "/v1/videos",
            data={"prompt": prompt, **SMALL},
            files={"input_reference": ("cat.png", png_bytes(), "image/png")},
            headers={"Idempotency-Key": "once"},
        )

    first, again = send("Same"), send("Same")
    assert first.status_code == again.status_code == 200
    assert first.json()["id"] == again.json()["id"]
    other = send("Different")
    assert other.status_code == 409 and other.json()["error"]["param"] == "Idempotency-Key"

"""The capcut-mate API in-process (no workers): return shapes, the compiled timeline, durable
drafts and every kind of bad input."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

from fastapi.testclient import TestClient

from tests.capcut.conftest import PREFIX, Media
from vidtask.service.keys import new_key
from vidtask.store.sqlite import SQLiteStore

SEED = json.loads(
    (Path(__file__).parent / "fixtures" / "seed004_gen_video_status.json").read_text()
)


def post(client: TestClient, name: str, body: dict[str, Any], **headers: str) -> Any:
    return client.post(f"{PREFIX}/{name}", json=body, headers=headers)


def draft(client: TestClient, **headers: str) -> str:
    answer = post(client, "create_draft", {"width": 320, "height": 180}, **headers)
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert body["code"] == 0 and "/openapi/capcut-mate/v1/get_draft?draft_id=" in body["draft_url"]
    return str(body["draft_url"])


def infos(*items: dict[str, Any]) -> str:
    return json.dumps(list(items))


def test_add_calls_return_ids_and_build_the_draft(client: TestClient, media: Media) -> None:
    url = draft(client)
    images = post(client, "add_images", {
        "draft_url": url, "alpha": 0.5, "transform_y": 45,
        "image_infos": infos({"image_url": str(media.image), "start": 0, "end": 1_000_000,
                              "in_animation": "渐显", "transition": "叠化"},
                             {"image_url": str(media.image), "start": 1_000_000, "end": 2_000_000}),
    }).json()  # fmt: skip
    assert images["code"] == 0 and len(images["segment_ids"]) == 2 and len(images["image_ids"]) == 2
    assert images["segment_infos"][1] == {"id": images["segment_ids"][1], "start": 1_000_000,
                                          "end": 2_000_000}  # fmt: skip
    videos = post(
        client,
        "add_videos",
        {
            "draft_url": url,
            "video_infos": infos(
                {"video_url": str(media.video), "start": 500_000, "end": 1_500_000, "volume": 0.5}
            ),
        },
    ).json()
    assert videos["track_id"] and len(videos["video_ids"]) == 1
    audios = post(
        client,
        "add_audios",
        {
            "draft_url": url,
            "audio_infos": infos({"audio_url": str(media.audio), "start": 0, "end": 2_000_000}),
        },
    ).json()
    assert audios["track_id"] and len(audios["audio_ids"]) == 1
    captions = post(client, "add_captions", {"draft_url": url, "font_size": 30, "bold": True,
        "captions": infos({"start": 200_000, "end": 900_000, "text": "Hello CapCut",
                           "keyword": "CapCut"})}).json()  # fmt: skip
    assert len(captions["segment_ids"]) == 1 and len(captions["text_ids"]) == 1
    frames = post(client, "add_keyframes", {"draft_url": url, "keyframes": infos(
        {"segment_id": videos["segment_ids"][0], "property": "KFTypeAlpha", "offset": 0, "value": 0},
        {"segment_id": videos["segment_ids"][0], "property": "UNIFORM_SCALE", "offset": 1,
         "value": 0.5},
    )}).json()  # fmt: skip
    assert frames["keyframes_added"] == 2 and frames["affected_segments"] == videos["segment_ids"]
    assert post(client, "save_draft", {"draft_url": url}).json()["draft_url"] == url

    got = client.get(url.split("/openapi", 1)[0] and url[url.index("/openapi") :]).json()
    tracks = got["draft"]["tracks"]
    assert [t["kind"] for t in tracks] == ["image", "video", "audio", "text"]
    assert got["draft"]["duration"] == 2_000_000

    submitted = post(client, "gen_video", {"draft_url": url}).json()
    assert submitted["code"] == 0 and submitted["message"].startswith("视频生成任务已提交")
    task = client.get(f"/v1/tasks/{submitted['task_id']}").json()
    assert task["model"] == "timeline" and task["status"] == "queued"
    # While it is queued or running, gen_video answers with the same render.
    again = post(client, "gen_video", {"draft_url": url}).json()
    assert again["task_id"] == submitted["task_id"]
    assert client.get(f"{PREFIX}/gen_video_active_count").json()["count"] == 1

    status = post(client, "gen_video_status", {"draft_url": url})
    body = status.json()
    assert status.status_code == 200 and set(body) == set(SEED["processing"])
    assert body["status"] == "pending" and body["progress"] == 0 and body["video_url"] == ""
    assert body["started_at"] is None and body["created_at"].endswith("Z")


def test_compiled_timeline(client: TestClient, media: Media) -> None:
    url = draft(client)
    post(client, "add_images", {"draft_url": url, "alpha": 0.5, "transform_y": 45, "image_infos":
        infos({"image_url": str(media.image), "start": 0, "end": 1_000_000, "transition": "叠化",
               "transition_duration": 300_000},
              {"image_url": str(media.image), "start": 1_000_000, "end": 2_500_000})})  # fmt: skip
    post(
        client,
        "add_captions",
        {
            "draft_url": url,
            "captions": infos(
                {"start": 0, "end": 1_000_000, "text": "Hi", "in_animation": "向上滑动"}
            ),
        },
    )
    task_id = post(client, "gen_video", {"draft_url": url}).json()["task_id"]
    timeline = client.get(f"/v1/tasks/{task_id}").json()
    stored = client.app.state.vidtask.service.get("anonymous", task_id).input  # type: ignore[attr-defined]
    assert timeline["id"] == task_id
    images, text = stored["tracks"]
    first, second = images["clips"]
    assert first["start"] == 0 and first["length"] == 1.0 and first["opacity"] == 0.5
    assert first["offset"] == {"x": 0.0, "y": 0.25} and first["fit"] == "contain"
    # JianYing puts a transition on the segment before the join; the renderer on the one after.
    assert second["transition"] == {"type": "dissolve", "duration": 0.3}
    assert text["clips"][0]["animation"]["in"] == "slide_up"
    assert stored["output"]["width"] == 320 and stored["output"]["height"] == 180


def test_status_errors_follow_seed_004(client: TestClient) -> None:
    url = draft(client)
    missing = post(client, "gen_video_status", {"draft_url": url})
    assert missing.status_code == 404 and missing.json() == SEED["not_found"]
    bad = post(client, "gen_video_status", {"draft": url})
    assert bad.status_code == 400 and bad.json()["error"]["code"] == "VALIDATION_ERROR"
    assert "draft_url" in bad.json()["error"]["details"]
    unknown = post(client, "gen_video_status", {"draft_url": url[:-4] + "0000"})
    assert unknown.status_code == 404 and unknown.json()["error"]["code"] == "VIDEO_TASK_NOT_FOUND"


def error(answer: Any, status: int, code: int, *words: str) -> None:
    assert answer.status_code == status, answer.text
    body = answer.json()
    assert set(body) == {"code", "message"} and body["code"] == code, body
    for word in words:
        assert word in body["message"], body["message"]


def test_bad_input_names_the_field_and_reason(client: TestClient, media: Media) -> None:
    url = draft(client)
    image = {"image_url": str(media.image), "start": 0, "end": 1_000_000}
    error(post(client, "add_images", {"draft_url": url, "image_infos": "[{\"image_url\": "}),
          400, 2009, "image_infos", "not valid JSON")  # fmt: skip
    error(post(client, "add_images", {"draft_url": url, "image_infos": "{}"}),
          400, 2009, "image_infos", "JSON array")  # fmt: skip
    error(post(client, "add_images", {"draft_url": url,
                                      "image_infos": infos({**image, "end": 0})}),
          400, 2009, "image_infos[0]", "end (0) must be greater than start (0)")  # fmt: skip
    error(post(client, "add_videos", {"draft_url": url, "video_infos": infos(
        {"video_url": str(media.video), "start": 0, "end": 1_000_000, "mask": "圆形"})}),
        400, 2003, "video_infos[0].mask", "not supported")  # fmt: skip
    error(post(client, "add_videos", {"draft_url": url, "video_infos": infos(
        {"video_url": str(media.video), "start": 0, "end": 1_000_000, "transition": "万花筒"})}),
        400, 2003, "video_infos[0].transition", "万花筒", "叠化")  # fmt: skip
    error(
        post(
            client,
            "add_images",
            {"draft_url": url, "image_infos": infos(image, {**image, "start": 500_000})},
        ),
        400,
        2009,
        "image_infos[1].start",
        "overlaps",
    )
    error(
        post(
            client,
            "add_images",
            {"draft_url": url, "image_infos": infos({**image, "image_url": "/etc/passwd"})},
        ),
        400,
        2009,
        "image_infos[0].image_url",
    )
    error(post(client, "add_audios", {"draft_url": url, "audio_infos": infos(
        {"audio_url": str(media.audio), "start": 0, "end": 10, "audio_effect": "reverb"})}),
        400, 2007, "audio_effect")  # fmt: skip
    error(post(client, "add_captions", {"draft_url": url, "italic": True,
                                        "captions": infos({"start": 0, "end": 5, "text": "x"})}),
          400, 1001, "italic")  # fmt: skip
    error(post(client, "add_keyframes", {"draft_url": url, "keyframes": infos(
        {"segment_id": "nope", "property": "KFTypeAlpha", "offset": 0, "value": 1})}),
        400, 2013, "keyframes[0].segment_id")  # fmt: skip
    error(post(client, "add_images", {"draft_url": url, "image_infos": infos(image),
                                      "scale_x": 2}), 400, 1001, "scale_y")  # fmt: skip
    error(post(client, "create_draft", {"width": 321}), 400, 1001, "even")
    error(post(client, "gen_video", {"draft_url": url}), 400, 1001, "empty")
    # Unknown drafts and malformed draft_urls.
    error(post(client, "add_images", {"draft_url": url[:-4] + "0000", "image_infos": infos(image)}),
          404, 2001, "draft_url")  # fmt: skip
    error(post(client, "save_draft", {"draft_url": "https://x/get_draft?draft_id=short"}),
          400, 1001, "draft_url")  # fmt: skip
    error(client.post(f"{PREFIX}/add_images", content=b"{not json"), 400, 1001, "malformed JSON")
    # Effects, filters, masks and stickers are refused by name.
    for name in ("add_effects", "add_filters", "add_masks", "add_sticker"):
        error(post(client, name, {"draft_url": url, "effect_infos": "[]"}), 400, 1001, name,
              "not supported")  # fmt: skip


def test_drafts_are_owned_per_key(client: TestClient, settings: Any) -> None:
    store = SQLiteStore(settings.database_path)
    _, alice = new_key(store, "alice", time.time())
    _, bob = new_key(store, "bob", time.time())
    time.sleep(2.1)  # the authenticator caches "no keys exist" for 2 s
    as_alice = {"Authorization": f"Bearer {alice}"}
    url = draft(client, **as_alice)
    error(post(client, "save_draft", {"draft_url": url}, **{"X-API-Key": bob}),
          404, 2001, "another API key")  # fmt: skip
    error(post(client, "save_draft", {"draft_url": url}), 401, 2036)
    status = post(client, "gen_video_status", {"draft_url": url}, **{"X-API-Key": bob})
    assert status.status_code == 404 and status.json()["error"]["code"] == "VIDEO_TASK_NOT_FOUND"
    assert post(client, "save_draft", {"draft_url": url}, **as_alice).status_code == 200


def test_concurrent_adds_keep_every_track(client: TestClient, media: Media) -> None:
    from concurrent.futures import ThreadPoolExecutor

    url = draft(client)

    def add(i: int) -> int:
        body = {
            "draft_url": url,
            "image_infos": infos(
                {"image_url": str(media.image), "start": i * 100_000, "end": (i + 1) * 100_000}
            ),
        }
        return int(post(client, "add_images", body).status_code)

    with ThreadPoolExecutor(8) as pool:
        assert list(pool.map(add, range(16))) == [200] * 16
    got = client.get(url[url.index("/openapi") :]).json()
    assert len(got["draft"]["tracks"]) == 16


def test_helpers(client: TestClient, media: Media) -> None:
    spans = post(client, "timelines", {"duration": 3_000_000, "num": 3, "start": 0, "type": 0})
    assert spans.json()["timelines"][1] == {"start": 1_000_000, "end": 2_000_000}
    assert spans.json()["all_timelines"] == [{"start": 0, "end": 3_000_000}]
    imgs = post(
        client,
        "imgs_infos",
        {
            "imgs": ["a.png", "b.png"],
            "timelines": [{"start": 0, "end": 1}, {"start": 1, "end": 2}],
            "transition": "叠化",
        },
    ).json()
    assert json.loads(imgs["infos"])[1] == {"image_url": "b.png", "start": 1, "end": 2,
                                            "transition": "叠化"}  # fmt: skip
    captions = post(client, "caption_infos", {"texts": ["hi"], "timelines": [{"start": 0,
                    "end": 5}], "keywords": ["hi"]}).json()  # fmt: skip
    assert json.loads(captions["infos"]) == [{"start": 0, "end": 5, "text": "hi", "keyword": "hi"}]
    videos = post(
        client,
        "video_infos",
        {"video_urls": ["v.mp4"], "timelines": [{"start": 0, "end": 5}], "volume": 0.5},
    ).json()
    assert json.loads(videos["infos"])[0]["volume"] == 0.5
    audios = post(
        client, "audio_infos", {"mp3_urls": ["a.mp3"], "timelines": [{"start": 0, "end": 5}]}
    ).json()
    assert json.loads(audios["infos"]) == [{"audio_url": "a.mp3", "start": 0, "end": 5}]
    assert post(client, "str_to_list", {"obj": "x"}).json()["infos"] == ["x"]
    measured = post(client, "audio_timelines", {"links": [str(media.audio), str(media.video)]})
    spans_us = measured.json()["timelines"]
    assert abs(spans_us[0]["end"] - 3_000_000) < 100_000
    assert spans_us[1]["start"] == spans_us[0]["end"]
    error(post(client, "timelines", {"num": 3}), 400, 1001, "duration")

"""The provider simulators, driven over real HTTP on loopback: each provider's happy path, every
injected fault, the create counters and the callbacks (order, copies, retries, forgeries, the
one that arrives before the create response)."""

from __future__ import annotations

import time
import warnings
from collections.abc import Callable, Iterator
from typing import Any, TypeVar

import av
import httpx
import pytest
from openai import OpenAI

from tests.simulators import (
    ArkSimulator,
    CallbackSink,
    NewAPISimulator,
    Op,
    OpenAIVideosSimulator,
    Outcome,
)
from tests.simulators.media import sample_media
from tests.simulators.script import marker

pytestmark = pytest.mark.slow

KEY = "sk-test"
OTHER = "sk-other"
QUEUE_S = 0.05
RUN_S = 0.15
ARK_TASKS = "/contents/generations/tasks"

T = TypeVar("T")


def until(fetch: Callable[[], T], done: Callable[[T], bool], timeout: float = 3.0) -> T:
    deadline = time.monotonic() + timeout
    while True:
        value = fetch()
        if done(value) or time.monotonic() > deadline:
            return value
        time.sleep(0.02)


def follow(
    fetch: Callable[[], dict[str, Any]], final: str, field: str = "status"
) -> tuple[list[Any], dict[str, Any]]:
    """Poll until the status is ``final``: every value of ``field`` seen, and the last body."""
    seen: list[Any] = []

    def record() -> dict[str, Any]:
        body = fetch()
        seen.append(body[field])
        return body

    last = until(record, lambda body: body["status"] == final)
    assert last["status"] == final, last
    return seen, last


def bearer(key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"}


@pytest.fixture
def sink() -> Iterator[CallbackSink]:
    with CallbackSink() as receiver:
        yield receiver


@pytest.fixture
def ark() -> Iterator[ArkSimulator]:
    with ArkSimulator(keys=[KEY, OTHER], queue_s=QUEUE_S, run_s=RUN_S) as simulator:
        yield simulator


@pytest.fixture
def openai_sim() -> Iterator[OpenAIVideosSimulator]:
    with OpenAIVideosSimulator(keys=[KEY, OTHER], queue_s=QUEUE_S, run_s=RUN_S) as simulator:
        yield simulator


@pytest.fixture
def newapi() -> Iterator[NewAPISimulator]:
    with NewAPISimulator(keys=[KEY], queue_s=QUEUE_S, run_s=RUN_S) as simulator:
        yield simulator


def ark_client(ark: ArkSimulator, key: str = KEY) -> httpx.Client:
    return httpx.Client(base_url=ark.base_url, headers=bearer(key), timeout=10)


def ark_create(client: httpx.Client, text: str, **fields: Any) -> str:
    body = {"model": "doubao-seedance-1-5-pro-251215", "content": [{"type": "text", "text": text}]}
    answer = client.post(ARK_TASKS, json={**body, **fields})
    assert answer.status_code == 200, answer.text
    task_id: str = answer.json()["id"]
    return task_id


def ark_until(client: httpx.Client, task_id: str, *statuses: str) -> dict[str, Any]:
    body: dict[str, Any] = until(
        lambda: client.get(f"{ARK_TASKS}/{task_id}").json(),
        lambda body: body["status"] in statuses,
    )
    assert body["status"] in statuses, body
    return body


# -- shared ----------------------------------------------------------------------------------


def test_the_sample_result_is_a_real_short_mp4_with_sound() -> None:
    media = sample_media()
    with av.open(__import__("io").BytesIO(media.video)) as container:
        video = container.streams.video[0]
        assert (video.codec_context.width, video.codec_context.height) == (320, 240)
        assert container.streams.audio
        assert container.duration is not None and 1.9 < container.duration / 1e6 < 2.2
    assert media.last_frame.startswith(b"\x89PNG")
    assert media.thumbnail[8:12] == b"WEBP" and media.spritesheet[8:12] == b"WEBP"


def test_a_prompt_marker_scripts_a_task_and_a_typo_is_refused(ark: ArkSimulator) -> None:
    script = marker("a cat [sim:hang]")
    assert script is not None and script.outcome is Outcome.HANG
    assert marker("a cat") is None
    with pytest.raises(ValueError):
        marker("a cat [sim:hnag]")
    with ark_client(ark) as client:
        body = {"model": "m", "content": [{"type": "text", "text": "a cat [sim:hnag]"}]}
        assert client.post(ARK_TASKS, json=body).status_code == 500
    assert ark.creates_total == 0


def test_creates_are_counted_per_key_and_in_total(ark: ArkSimulator) -> None:
    with ark_client(ark) as first, ark_client(ark, OTHER) as second:
        ark_create(first, "one")
        ark_create(first, "two")
        ark_create(second, "three")
        first.post(ARK_TASKS, json={"model": "m"})  # refused: not a create
    assert ark.creates == {KEY: 2, OTHER: 1}
    assert ark.creates_total == 3
    assert ark.requests[Op.CREATE] == 4
    stats = httpx.get(ark.url + "/_sim/stats").json()
    assert stats["creates"] == {KEY: 2, OTHER: 1} and stats["creates_total"] == 3


# -- Ark / ModelArk --------------------------------------------------------------------------


def test_ark_task_runs_queued_running_succeeded_and_calls_back(
    ark: ArkSimulator, sink: CallbackSink
) -> None:
    ark.script("a cat", queue_s=0.5)  # long enough for the first poll to see it queued
    with ark_client(ark) as client:
        task_id = ark_create(
            client, "a cat", callback_url=sink.url + "/hook", return_last_frame=True
        )
        seen, body = follow(lambda: client.get(f"{ARK_TASKS}/{task_id}").json(), "succeeded")
    assert seen[0] == "queued" and "running" in seen and seen[-1] == "succeeded"
    assert body["error"] is None and body["framespersecond"] == 24
    assert body["resolution"] == "720p" and body["duration"] == 5
    assert body["execution_expires_after"] == 172800
    assert body["created_at"] <= body["updated_at"]
    video = httpx.get(body["content"]["video_url"])
    assert video.status_code == 200 and video.content == ark.media.video
    assert video.headers["content-type"] == "video/mp4"
    frame = httpx.get(body["content"]["last_frame_url"])
    assert frame.content.startswith(b"\x89PNG")
    statuses = [hook["status"] for hook in sink.wait(3)]
    assert statuses == ["queued", "running", "succeeded"]
    assert sink.bodies()[-1] == body  # a callback is the body of the retrieve call
    assert ark.creates == {KEY: 1}


def test_ark_refuses_invalid_bodies_strictly_and_counts_no_create(ark: ArkSimulator) -> None:
    text = [{"type": "text", "text": "x"}]
    cases: list[tuple[dict[str, Any], str, str]] = [
        ({"model": "m", "content": text, "fps": 24}, "InvalidParameter", "fps"),
        ({"content": text}, "MissingParameter", "model"),
        ({"model": "m"}, "MissingParameter", "content"),
        ({"model": "m", "content": []}, "InvalidParameter", "content"),
        ({"model": "m", "content": [{"type": "gif"}]}, "InvalidParameter", "content[0].type"),
        (
            {"model": "m", "content": text, "execution_expires_after": 60},
            "InvalidParameter",
            "execution_expires_after",
        ),
        ({"model": "m", "content": text, "frames": 30}, "InvalidParameter", "frames"),
        ({"model": "m", "content": text, "ratio": "2:1"}, "InvalidParameter", "ratio"),
        ({"model": "m", "content": text, "watermark": "yes"}, "InvalidParameter", "watermark"),
        (
            {"model": "m", "content": text, "draft": True, "resolution": "720p"},
            "InvalidParameter",
            "resolution",
        ),
        (
            {
                "model": "m",
                "content": [
                    {
                        "type": "image_url",
                        "image_url": {"url": "https://x/a.png"},
                        "role": "first_frame",
                    },
                    {
                        "type": "image_url",
                        "image_url": {"url": "https://x/b.png"},
                        "role": "reference_image",
                    },
                ],
            },
            "InvalidParameter",
            "content",
        ),
    ]
    with ark_client(ark) as client:
        for body, code, param in cases:
            answer = client.post(ARK_TASKS, json=body)
            assert answer.status_code == 400, body
            error = answer.json()["error"]
            assert (error["code"], error["param"], error["type"]) == (code, param, "BadRequest")
            assert "Request id:" in error["message"]
    assert ark.creates_total == 0


def test_ark_unknown_model_is_404(sink: CallbackSink) -> None:
    with ArkSimulator(keys=[KEY], models=["ep-1"]) as ark, ark_client(ark) as client:
        answer = client.post(
            ARK_TASKS, json={"model": "ep-2", "content": [{"type": "text", "text": "x"}]}
        )
        assert answer.status_code == 404
        assert answer.json()["error"]["code"] == "InvalidEndpointOrModel.NotFound"
        ark_create(client, "x", model="ep-1")


def test_ark_reads_legacy_flags_in_the_prompt(ark: ArkSimulator) -> None:
    with ark_client(ark) as client:
        task_id = ark_create(client, "a dog --rs 480p --rt 9:16 --dur 7 --seed 11 --wm oops")
        body = client.get(f"{ARK_TASKS}/{task_id}").json()
    assert (body["resolution"], body["ratio"], body["duration"], body["seed"]) == (
        "480p",
        "9:16",
        7,
        11,
    )


def test_keys_answer_401_and_quota_exhausted_in_the_providers_codes(ark: ArkSimulator) -> None:
    body = {"model": "m", "content": [{"type": "text", "text": "x"}]}
    ark.revoke(OTHER)
    ark.exhaust_quota(KEY)
    unauthenticated = httpx.post(ark.base_url + ARK_TASKS, json=body)
    revoked = httpx.post(ark.base_url + ARK_TASKS, json=body, headers=bearer(OTHER))
    exhausted = httpx.post(ark.base_url + ARK_TASKS, json=body, headers=bearer(KEY))
    for answer in (unauthenticated, revoked):
        assert answer.status_code == 401
        assert answer.json()["error"]["code"] == "AuthenticationError"
    assert exhausted.status_code == 403
    assert exhausted.json()["error"]["code"] == "AccountOverdueError"
    assert ark.creates_total == 0


def test_rate_limit_burst_answers_429_with_retry_after(ark: ArkSimulator) -> None:
    ark.rate_limit_burst(2, retry_after=3)
    with ark_client(ark) as client:
        limited = [client.get(ARK_TASKS) for _ in range(2)]
        assert client.get(ARK_TASKS).status_code == 200
        ark.rate_limit_burst(1, retry_after=None)
        bare = client.get(ARK_TASKS)
    for answer in limited:
        assert answer.status_code == 429 and answer.headers["retry-after"] == "3"
        assert answer.json()["error"]["type"] == "TooManyRequests"
    assert bare.status_code == 429 and "retry-after" not in bare.headers


def test_server_errors_aimed_at_creates_leave_polls_alone(ark: ArkSimulator) -> None:
    with ark_client(ark) as client:
        task_id = ark_create(client, "first")
        ark.server_errors(3, on=Op.CREATE)
        body = {"model": "m", "content": [{"type": "text", "text": "x"}]}
        codes = []
        for _ in range(3):
            codes.append(client.post(ARK_TASKS, json=body).status_code)
            assert client.get(f"{ARK_TASKS}/{task_id}").status_code == 200
        assert codes == [500, 502, 503]
        ark_create(client, "after the burst")
    assert ark.creates_total == 2


def test_ark_scripted_failure_carries_the_error(ark: ArkSimulator) -> None:
    ark.script("boom", Outcome.FAIL, error_code="InputTextSensitiveContentDetected")
    with ark_client(ark) as client:
        scripted = ark_until(client, ark_create(client, "a boom"), "failed")
        marked = ark_until(client, ark_create(client, "a cat [sim:fail]"), "failed")
    assert scripted["error"]["code"] == "InputTextSensitiveContentDetected"
    assert marked["error"]["code"] == "OutputVideoSensitiveContentDetected"
    assert "content" not in scripted


def test_ark_hanging_task_expires_after_execution_expires_after(
    ark: ArkSimulator, sink: CallbackSink
) -> None:
    ark.script("stuck", Outcome.HANG)
    with ark_client(ark) as client:
        task_id = ark_create(
            client, "stuck", execution_expires_after=3600, callback_url=sink.url + "/h"
        )
        time.sleep(QUEUE_S + RUN_S + 0.1)
        assert client.get(f"{ARK_TASKS}/{task_id}").json()["status"] == "running"
        ark.skip(3600)
        assert client.get(f"{ARK_TASKS}/{task_id}").json()["status"] == "expired"
    assert [hook["status"] for hook in sink.wait(3)] == ["queued", "running", "expired"]


def test_ark_expire_outcome_and_unknown_status_word(ark: ArkSimulator) -> None:
    ark.script("odd", Outcome.UNKNOWN_STATUS, status_word="paused", word_polls=2)
    with ark_client(ark) as client:
        expired = ark_until(client, ark_create(client, "x [sim:expire]"), "expired")
        odd = ark_create(client, "odd one")
        time.sleep(QUEUE_S + RUN_S + 0.1)
        words = [client.get(f"{ARK_TASKS}/{odd}").json()["status"] for _ in range(3)]
    assert "content" not in expired
    assert words == ["paused", "paused", "succeeded"]


def test_ark_delete_cancels_queued_deletes_finished_refuses_the_rest(ark: ArkSimulator) -> None:
    ark.script("wait", queue_s=60)
    ark.script("stuck", Outcome.HANG)
    with ark_client(ark) as client:
        queued = ark_create(client, "wait")
        stuck = ark_create(client, "stuck")
        done = ark_create(client, "quick")
        ark_until(client, stuck, "running")
        ark_until(client, done, "succeeded")
        assert client.delete(f"{ARK_TASKS}/{queued}").json() == {}
        assert client.get(f"{ARK_TASKS}/{queued}").json()["status"] == "cancelled"
        for refused in (queued, stuck):  # cancelled, running
            answer = client.delete(f"{ARK_TASKS}/{refused}")
            assert answer.status_code == 400 and answer.json()["error"]["type"] == "BadRequest"
        assert client.delete(f"{ARK_TASKS}/{done}").status_code == 200
        assert client.get(f"{ARK_TASKS}/{done}").status_code == 404
        ark.skip(24 * 3600)  # cancelled tasks are deleted after 24 h
        missing = client.get(f"{ARK_TASKS}/{queued}")
    assert missing.status_code == 404 and missing.json()["error"]["type"] == "NotFound"


def test_ark_list_filters_and_pages(ark: ArkSimulator) -> None:
    ark.script("stuck", Outcome.HANG)
    with ark_client(ark) as client:
        ids = [ark_create(client, f"task {n}") for n in range(3)]
        stuck = ark_create(client, "stuck")
        for task_id in ids:
            ark_until(client, task_id, "succeeded")
        page = client.get(ARK_TASKS, params={"page_size": 2}).json()
        running = client.get(ARK_TASKS, params={"filter.status": "running"}).json()
        chosen = client.get(
            ARK_TASKS, params=[("filter.task_ids", ids[0]), ("filter.task_ids", ids[2])]
        ).json()
        bad = client.get(ARK_TASKS, params={"page_size": 501})
    assert page["total"] == 4 and [item["id"] for item in page["items"]] == [stuck, ids[2]]
    assert [item["id"] for item in running["items"]] == [stuck]
    assert {item["id"] for item in chosen["items"]} == {ids[0], ids[2]}
    assert bad.status_code == 400


def test_ark_callback_arrives_before_the_create_response(
    ark: ArkSimulator, sink: CallbackSink
) -> None:
    ark.script("eager", callback_before_create=True, queue_s=30)
    with ark_client(ark) as client:
        task_id = ark_create(client, "eager", callback_url=sink.url + "/h")
        arrived = list(sink.received)  # read the moment the create answered
    assert len(arrived) == 1
    assert arrived[0][1]["id"] == task_id and arrived[0][1]["status"] == "queued"


def test_ark_duplicate_callbacks(ark: ArkSimulator, sink: CallbackSink) -> None:
    ark.script("twice", callback_copies=2)
    with ark_client(ark) as client:
        ark_create(client, "twice", callback_url=sink.url + "/h")
    statuses = [hook["status"] for hook in sink.wait(6)]
    assert statuses == ["queued", "queued", "running", "running", "succeeded", "succeeded"]


def test_ark_retries_a_failed_final_callback_three_times(
    ark: ArkSimulator, sink: CallbackSink
) -> None:
    ark.script("slow", queue_s=100, run_s=100)
    with ark_client(ark) as client:
        ark_create(client, "slow", callback_url=sink.url + "/h")
    sink.wait(1)
    sink.fail_next(3)  # the running callback, then two tries of the succeeded one
    ark.skip(150)
    ark.skip(100)
    sink.wait(5)
    deadline = time.monotonic() + 10  # the simulator records a delivery after its answer
    while len(ark.callbacks) < 5 and time.monotonic() < deadline:
        time.sleep(0.05)
    tries = [(d.body["status"], d.attempt, d.status_code) for d in ark.callbacks]
    assert tries == [
        ("queued", 1, 204),
        ("running", 1, 500),  # not retried: the docs promise retries for succeeded/failed only
        ("succeeded", 1, 500),
        ("succeeded", 2, 500),
        ("succeeded", 3, 204),
    ]


def test_a_forged_callback_reaches_the_receiver_and_changes_nothing(
    ark: ArkSimulator, sink: CallbackSink
) -> None:
    ark.script("stuck", Outcome.HANG)
    with ark_client(ark) as client:
        task_id = ark_create(client, "stuck")
        forged = ark.callback_view(task_id, status="succeeded")
        assert ark.forge_callback(sink.url + "/h", forged) == 204
        assert client.get(f"{ARK_TASKS}/{task_id}").json()["status"] in ("queued", "running")
    assert sink.bodies() == [forged] and ark.callbacks[-1].forged


def test_result_404_then_a_good_download(ark: ArkSimulator) -> None:
    ark.script("gone", Outcome.RESULT_404, bad_downloads=1)
    with ark_client(ark) as client:
        body = ark_until(client, ark_create(client, "gone"), "succeeded")
    url = body["content"]["video_url"]
    assert httpx.get(url).status_code == 404
    assert httpx.get(url).content == ark.media.video


def test_truncated_result_closes_short_of_content_length(ark: ArkSimulator) -> None:
    with ark_client(ark) as client:
        body = ark_until(client, ark_create(client, "x [sim:result_truncated]"), "succeeded")
    for _ in range(2):  # every download, unless bad_downloads says otherwise
        with pytest.raises(httpx.RemoteProtocolError):
            httpx.get(body["content"]["video_url"])


def test_result_url_serves_ranges_and_expires_after_24_hours(ark: ArkSimulator) -> None:
    with ark_client(ark) as client:
        body = ark_until(client, ark_create(client, "x"), "succeeded")
    url = body["content"]["video_url"]
    part = httpx.get(url, headers={"Range": "bytes=100-199"})
    assert part.status_code == 206 and part.content == ark.media.video[100:200]
    assert part.headers["content-range"] == f"bytes 100-199/{len(ark.media.video)}"
    ark.skip(24 * 3600 + 1)
    assert httpx.get(url).status_code == 403


# -- OpenAI Videos -----------------------------------------------------------------------------


def test_openai_video_progresses_and_downloads_with_the_key(
    openai_sim: OpenAIVideosSimulator,
) -> None:
    with httpx.Client(base_url=openai_sim.base_url, headers=bearer(KEY), timeout=10) as client:
        created = client.post("/videos", json={"prompt": "a cat", "seconds": "8"}).json()
        assert created["object"] == "video" and created["status"] == "queued"
        assert (created["progress"], created["model"], created["size"]) == (0, "sora-2", "720x1280")
        progress, done = follow(
            lambda: client.get(f"/videos/{created['id']}").json(), "completed", "progress"
        )
        assert progress == sorted(progress) and done["progress"] == 100
        assert done["completed_at"] is not None and done["expires_at"] is None
        video = client.get(f"/videos/{created['id']}/content")
        thumbnail = client.get(f"/videos/{created['id']}/content", params={"variant": "thumbnail"})
        sheet = client.get(f"/videos/{created['id']}/content", params={"variant": "spritesheet"})
        bad = client.get(f"/videos/{created['id']}/content", params={"variant": "gif"})
    assert video.content == openai_sim.media.video and video.headers["content-type"] == "video/mp4"
    assert thumbnail.headers["content-type"] == sheet.headers["content-type"] == "image/webp"
    assert bad.status_code == 400 and bad.json()["error"]["param"] == "variant"
    keyless = httpx.get(f"{openai_sim.base_url}/videos/{created['id']}/content")
    assert keyless.status_code == 401
    assert keyless.json()["error"]["code"] == "invalid_api_key"


def test_openai_official_sdk_sends_multipart_and_it_works(
    openai_sim: OpenAIVideosSimulator,
) -> None:
    sdk = OpenAI(base_url=openai_sim.base_url, api_key=KEY, max_retries=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)  # the Videos API is deprecated
        video = sdk.videos.create(prompt="a calico cat", model="sora-2-pro", size="1280x720")
        done = until(lambda: sdk.videos.retrieve(video.id), lambda v: v.status == "completed")
        content = sdk.videos.download_content(video.id).content
        deleted = sdk.videos.delete(video.id)
    assert done.model == "sora-2-pro" and done.size == "1280x720"
    assert content == openai_sim.media.video and deleted.deleted
    with httpx.Client(base_url=openai_sim.base_url, headers=bearer(KEY)) as client:
        upload = client.post(
            "/videos",
            files={
                "prompt": (None, "with a file"),
                "input_reference": ("a.png", b"png", "image/png"),
            },
        )
        by_url = client.post(
            "/videos",
            files={
                "prompt": (None, "with a url"),
                "input_reference[image_url]": (None, "https://example.com/a.png"),
            },
        )
    assert upload.status_code == by_url.status_code == 200
    assert openai_sim.task(by_url.json()["id"]).request["input_reference"] == {
        "image_url": "https://example.com/a.png"
    }


def test_openai_refuses_invalid_input(openai_sim: OpenAIVideosSimulator) -> None:
    cases: list[tuple[dict[str, Any], str]] = [
        ({"prompt": "x", "seconds": 8}, "seconds"),  # a string enum, not a number
        ({"seconds": "4"}, "prompt"),
        ({"prompt": "x", "size": "640x480"}, "size"),
        (
            {"prompt": "x", "input_reference": {"image_url": "https://a", "file_id": "file_1"}},
            "input_reference",
        ),
    ]
    with httpx.Client(base_url=openai_sim.base_url, headers=bearer(KEY)) as client:
        for body, param in cases:
            answer = client.post("/videos", json=body)
            assert answer.status_code == 400, body
            assert answer.json()["error"] == {
                "message": answer.json()["error"]["message"],
                "type": "invalid_request_error",
                "param": param,
                "code": None,
            }
    assert openai_sim.creates_total == 0


def test_openai_error_envelopes(openai_sim: OpenAIVideosSimulator) -> None:
    openai_sim.exhaust_quota(OTHER)
    openai_sim.rate_limit_burst(1, retry_after=2, on=Op.GET)
    with httpx.Client(base_url=openai_sim.base_url, timeout=10) as client:
        quota = client.post("/videos", json={"prompt": "x"}, headers=bearer(OTHER))
        wrong = client.post("/videos", json={"prompt": "x"}, headers=bearer("sk-wrong"))
        limited = client.get("/videos/video_1", headers=bearer(KEY))
        missing = client.get("/videos/video_1", headers=bearer(KEY))
    assert quota.status_code == 429 and quota.json()["error"]["code"] == "insufficient_quota"
    assert wrong.status_code == 401
    assert limited.status_code == 429 and limited.headers["retry-after"] == "2"
    assert limited.json()["error"]["code"] == "rate_limit_exceeded"
    assert missing.status_code == 404


def test_openai_delete_and_list(openai_sim: OpenAIVideosSimulator) -> None:
    openai_sim.script("stuck", Outcome.HANG)
    with httpx.Client(base_url=openai_sim.base_url, headers=bearer(KEY)) as client:
        ids = [client.post("/videos", json={"prompt": f"v{n}"}).json()["id"] for n in range(3)]
        stuck = client.post("/videos", json={"prompt": "stuck"}).json()["id"]
        for video_id in ids:
            until(
                lambda: client.get(f"/videos/{video_id}").json()["status"],
                lambda s: s == "completed",
            )
        first = client.get("/videos", params={"limit": 2}).json()
        rest = client.get("/videos", params={"limit": 2, "after": first["last_id"]}).json()
        oldest = client.get("/videos", params={"limit": 1, "order": "asc"}).json()
        refused = client.delete(f"/videos/{stuck}")
        deleted = client.delete(f"/videos/{ids[0]}").json()
        after = client.get(f"/videos/{ids[0]}")
    assert first["object"] == "list" and first["has_more"]
    assert [v["id"] for v in first["data"]] == [stuck, ids[2]] and first["first_id"] == stuck
    assert [v["id"] for v in rest["data"]] == [ids[1], ids[0]] and not rest["has_more"]
    assert oldest["data"][0]["id"] == ids[0]
    assert refused.status_code == 409
    assert deleted == {"id": ids[0], "object": "video.deleted", "deleted": True}
    assert after.status_code == 404


def test_openai_delete_can_cancel_an_unfinished_video() -> None:
    with OpenAIVideosSimulator(keys=[KEY], delete_unfinished="cancel", queue_s=30) as sim:
        with httpx.Client(base_url=sim.base_url, headers=bearer(KEY)) as client:
            video_id = client.post("/videos", json={"prompt": "x"}).json()["id"]
            assert client.delete(f"/videos/{video_id}").json()["deleted"] is True
            assert client.get(f"/videos/{video_id}").status_code == 404


def test_openai_failure_expiry_and_result_faults(openai_sim: OpenAIVideosSimulator) -> None:
    openai_sim.script("odd", Outcome.UNKNOWN_STATUS, status_word="cancelled")
    with httpx.Client(base_url=openai_sim.base_url, headers=bearer(KEY)) as client:

        def finished(prompt: str) -> dict[str, Any]:
            video_id = client.post("/videos", json={"prompt": prompt}).json()["id"]
            body: dict[str, Any] = until(
                lambda: client.get(f"/videos/{video_id}").json(),
                lambda v: v["status"] in ("completed", "failed"),
            )
            return body

        failed = finished("x [sim:fail]")
        expired = finished("x [sim:expire]")
        short = finished("x [sim:result_truncated]")
        odd = client.post("/videos", json={"prompt": "odd"}).json()["id"]
        time.sleep(QUEUE_S + RUN_S + 0.1)
        odd_status = client.get(f"/videos/{odd}").json()["status"]
        assert client.get(f"/videos/{expired['id']}/content").status_code == 404
        assert client.get(f"/videos/{failed['id']}/content").status_code == 404
        with pytest.raises(httpx.RemoteProtocolError):
            client.get(f"/videos/{short['id']}/content")
    assert failed["error"]["code"] and failed["error"]["message"]
    assert expired["status"] == "completed" and expired["expires_at"] == expired["completed_at"]
    assert odd_status == "cancelled"


def test_openai_asset_lifetime_sets_expires_at() -> None:
    with OpenAIVideosSimulator(keys=[KEY], asset_lifetime_s=3600, queue_s=0, run_s=0.05) as sim:
        with httpx.Client(base_url=sim.base_url, headers=bearer(KEY)) as client:
            video_id = client.post("/videos", json={"prompt": "x"}).json()["id"]
            done = until(
                lambda: client.get(f"/videos/{video_id}").json(),
                lambda v: v["status"] == "completed",
            )
            assert done["expires_at"] == done["completed_at"] + 3600 or (
                abs(done["expires_at"] - done["completed_at"] - 3600) <= 1
            )
            sim.skip(3601)
            assert client.get(f"/videos/{video_id}/content").status_code == 404


# -- New API -----------------------------------------------------------------------------------


def test_newapi_task_completes_in_the_documented_shape(newapi: NewAPISimulator) -> None:
    newapi.script("a cat", queue_s=0.5)  # long enough for the first poll to see it queued
    with httpx.Client(base_url=newapi.base_url, headers=bearer(KEY)) as client:
        created = client.post(
            "/video/generations",
            json={"model": "veo", "prompt": "a cat", "width": 640, "height": 360},
        ).json()
        assert set(created) == {"task_id", "status"} and created["status"] == "queued"
        task_id = created["task_id"]
        seen, done = follow(lambda: client.get(f"/video/generations/{task_id}").json(), "completed")
    assert seen[0] == "queued" and "in_progress" in seen
    assert done["format"] == "mp4" and "error" not in done
    assert done["metadata"]["width"] == 640 and done["metadata"]["height"] == 360
    assert set(done["metadata"]) == {"duration", "fps", "width", "height", "seed"}
    assert httpx.get(done["url"]).content == newapi.media.video


def test_newapi_reports_unknown_for_n_polls_or_forever(newapi: NewAPISimulator) -> None:
    newapi.script("lost for a while", Outcome.UNKNOWN_STATUS, word_polls=3)
    newapi.script("lost for good", Outcome.UNKNOWN_STATUS)
    with httpx.Client(base_url=newapi.base_url, headers=bearer(KEY)) as client:
        brief = client.post("/video/generations", json={"prompt": "lost for a while"}).json()
        lost = client.post("/video/generations", json={"prompt": "lost for good"}).json()
        time.sleep(QUEUE_S + RUN_S + 0.1)
        brief_words = [
            client.get(f"/video/generations/{brief['task_id']}").json()["status"] for _ in range(4)
        ]
        lost_words = {
            client.get(f"/video/generations/{lost['task_id']}").json()["status"] for _ in range(5)
        }
    assert brief_words == ["unknown", "unknown", "unknown", "completed"]
    assert lost_words == {"unknown"}


def test_newapi_failure_and_errors(newapi: NewAPISimulator) -> None:
    newapi.script("boom", Outcome.FAIL, error_code=1027, error_message="sensitive")
    with httpx.Client(base_url=newapi.base_url, headers=bearer(KEY)) as client:
        task_id = client.post("/video/generations", json={"prompt": "boom"}).json()["task_id"]
        failed = until(
            lambda: client.get(f"/video/generations/{task_id}").json(),
            lambda body: body["status"] == "failed",
        )
        missing = client.get("/video/generations/nope")
        bad = client.post("/video/generations", json={"prompt": "x", "width": "wide"})
        no_cancel = client.delete(f"/video/generations/{task_id}")
        newapi.exhaust_quota(KEY)
        quota = client.post("/video/generations", json={"prompt": "x"})
    assert failed["error"] == {"code": 1027, "message": "sensitive"}
    assert missing.status_code == 404 and set(missing.json()["error"]) == {
        "message",
        "type",
        "param",
        "code",
    }
    assert bad.status_code == 400 and bad.json()["error"]["param"] == "width"
    assert no_cancel.status_code == 405
    assert quota.status_code == 403 and quota.json()["error"]["code"] == "insufficient_user_quota"
    assert httpx.post(newapi.base_url + "/video/generations", json={}).status_code == 401
    assert newapi.creates == {KEY: 1}

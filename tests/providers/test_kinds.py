"""The upstream kinds without I/O: the requests they build and how they read answers."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time

import pytest
from pydantic import SecretStr

from vidtask.core import errors
from vidtask.core.upstream import Phase
from vidtask.providers import KINDS
from vidtask.providers.base import Call, RelayInput, Trouble
from vidtask.providers.keys import KeyPool
from vidtask.providers.kling import TOKEN_LIFETIME_S

REQUEST = RelayInput(
    prompt="a cat playing the piano",
    first_frame="https://example.com/first.png",
    last_frame="https://example.com/last.png",
    seconds=5,
    width=1280,
    height=720,
    seed=7,
)


def test_ark_create_uses_documented_body_fields_and_roles() -> None:
    call = KINDS["ark"].create("seedance-1-0-pro-250528", REQUEST, "https://cb.example/x")
    assert (call.method, call.path) == ("POST", "/contents/generations/tasks")
    assert call.json == {
        "model": "seedance-1-0-pro-250528",
        "content": [
            {"type": "text", "text": "a cat playing the piano"},
            {
                "type": "image_url",
                "image_url": {"url": "https://example.com/first.png"},
                "role": "first_frame",
            },
            {
                "type": "image_url",
                "image_url": {"url": "https://example.com/last.png"},
                "role": "last_frame",
            },
        ],
        "return_last_frame": True,
        "resolution": "720p",
        "ratio": "16:9",
        "duration": 5,
        "seed": 7,
        "callback_url": "https://cb.example/x",
    }


def test_ark_picks_the_nearest_documented_resolution_and_ratio() -> None:
    portrait = RelayInput(prompt="p", width=1080, height=1920)
    body = KINDS["ark"].create("m", portrait, None).json
    assert body is not None and (body["resolution"], body["ratio"]) == ("1080p", "9:16")
    assert "callback_url" not in body


def test_ark_state_reads_content_and_error() -> None:
    done = KINDS["ark"].state(
        "seedance",
        "cgt-1",
        {
            "id": "cgt-1",
            "status": "succeeded",
            "content": {"video_url": "https://tos/v.mp4", "last_frame_url": "https://tos/l.png"},
            "seed": 9,
        },
    )
    assert done.phase is Phase.SUCCEEDED and done.video_url == "https://tos/v.mp4"
    assert done.last_frame_url == "https://tos/l.png" and not done.video_needs_key
    failed = KINDS["ark"].state(
        "seedance", "cgt-1", {"status": "failed", "error": {"code": "X", "message": "nope"}}
    )
    assert failed.phase is Phase.FAILED and failed.error == "nope"


def test_openai_result_is_the_content_endpoint_with_the_key() -> None:
    state = KINDS["openai_videos"].state(
        "relay", "video_1", {"id": "video_1", "status": "in_progress", "progress": 42}
    )
    assert state.phase is Phase.RUNNING and state.progress == 42
    assert state.video_url == "/videos/video_1/content?variant=video" and state.video_needs_key
    body = KINDS["openai_videos"].create("sora-2", REQUEST, None).json
    assert body == {
        "model": "sora-2",
        "prompt": "a cat playing the piano",
        "seconds": "4",
        "size": "1280x720",
        "input_reference": {"image_url": "https://example.com/first.png"},
    }


def test_newapi_reads_the_documented_shape_and_unknown() -> None:
    newapi = KINDS["newapi"]
    assert newapi.created_id({"task_id": "abc", "status": "queued"}) == "abc"
    state = newapi.state("relay", "abc", {"task_id": "abc", "status": "completed", "url": "u"})
    assert state.phase is Phase.SUCCEEDED and state.video_url == "u"
    assert newapi.state("relay", "abc", {"status": "unknown"}).phase is Phase.LOST


@pytest.mark.parametrize("kind", sorted(set(KINDS) - {"veo"}))  # Veo's words are its own cases
def test_an_unknown_word_fails_closed(kind: str) -> None:
    # DashScope nests its word under ``output.task_status``, Kling under ``data.task_status``,
    # Luma and Vidu answer ``state``, Scenext ``data.status``; the others answer ``status``.
    nested = {"dashscope": "output", "kling": "data"}
    body: dict[str, object] = (
        {nested[kind]: {"task_status": "SPINNING"}} if kind in nested else {"status": "SPINNING"}
    )
    if kind in ("luma", "vidu"):
        body = {"state": "SPINNING"}
    if kind == "scenext":
        body = {"status": "success", "data": {"status": "SPINNING"}}
    with pytest.raises(errors.UpstreamError, match="'relay'.*'SPINNING'"):
        KINDS[kind].state("relay", "x", body)


@pytest.mark.parametrize(
    ("kind", "status", "body", "trouble"),
    [
        ("ark", 429, {"error": {"code": "QuotaExceeded", "message": "m"}}, Trouble.RETRY),
        ("ark", 401, {"error": {"code": "AuthenticationError", "message": "m"}}, Trouble.KEY),
        ("ark", 403, {"error": {"code": "AccountOverdueError", "message": "m"}}, Trouble.KEY),
        ("ark", 400, {"error": {"code": "InvalidParameter", "message": "m"}}, Trouble.INPUT),
        ("ark", 503, None, Trouble.RETRY),
        ("openai_videos", 429, {"error": {"code": "insufficient_quota"}}, Trouble.KEY),
        ("openai_videos", 429, {"error": {"code": "rate_limit_exceeded"}}, Trouble.RETRY),
        ("openai_videos", 404, {"error": {"message": "no video"}}, Trouble.GONE),
        ("newapi", 400, {"error": {"message": "bad"}}, Trouble.INPUT),
        ("dashscope", 429, {"code": "Throttling.RateQuota", "message": "m"}, Trouble.RETRY),
        ("dashscope", 401, {"code": "InvalidApiKey", "message": "m"}, Trouble.KEY),
        ("dashscope", 400, {"code": "Arrearage", "message": "m"}, Trouble.KEY),
        ("dashscope", 400, {"code": "DataInspectionFailed", "message": "m"}, Trouble.INPUT),
        ("minimax", 502, None, Trouble.RETRY),
        ("runway", 401, {"error": "Invalid API key"}, Trouble.KEY),
        ("runway", 429, {"error": "Too many requests"}, Trouble.RETRY),
        ("runway", 400, {"error": "Validation of body failed", "issues": []}, Trouble.INPUT),
        ("runway", 404, {"error": "Task not found"}, Trouble.GONE),
        ("kling", 401, {"code": 1004, "message": "expired"}, Trouble.KEY),
        ("kling", 429, {"code": 1102, "message": "resource pack depleted"}, Trouble.KEY),
        ("kling", 429, {"code": 1302, "message": "too fast"}, Trouble.RETRY),
        ("kling", 400, {"code": 1201, "message": "bad parameter"}, Trouble.INPUT),
        ("kling", 500, {"code": 5000, "message": "server error"}, Trouble.RETRY),
    ],
)
def test_refusals(kind: str, status: int, body: object, trouble: Trouble) -> None:
    assert KINDS[kind].refusal(status, body).trouble is trouble


def test_key_pool_rotates_parks_and_comes_back() -> None:
    now = [0.0]
    pool = KeyPool(["K1", "K2"], [SecretStr("a"), SecretStr("b")], park_s=60, clock=lambda: now[0])
    first, second = pool.take(), pool.take()
    assert first is not None and second is not None and {first.label, second.label} == {"K1", "K2"}
    pool.park(first, "HTTP 401")
    assert [pool.take(), pool.take()] == [second, second]
    assert [(p.label, p.reason) for p in pool.parked()] == [(first.label, "HTTP 401")]
    assert "a" not in repr(first) and "b" not in repr(second)
    pool.park(second, "HTTP 401")
    assert pool.take() is None
    now[0] = 61
    assert pool.take() is not None and pool.parked() == []


def test_callback_tokens_are_per_task_and_checked() -> None:
    from vidtask.providers import callbacks

    url = callbacks.callback_url("http://vt.example/", "secret", "vt_abc")
    assert url.startswith("http://vt.example/v1/relay/callbacks/vt_abc/")
    token = url.rsplit("/", 1)[1]
    assert callbacks.valid_token("secret", "vt_abc", token)
    assert not callbacks.valid_token("secret", "vt_other", token)
    assert not callbacks.valid_token("other-secret", "vt_abc", token)
    assert not callbacks.valid_token("secret", "vt_abc", token[:-1] + "A")


def test_openai_gets_the_nearest_listed_size_of_the_same_orientation() -> None:
    def size(width: int, height: int) -> object:
        body = (
            KINDS["openai_videos"]
            .create("sora-2", RelayInput("p", width=width, height=height), None)
            .json
        )
        return None if body is None else body["size"]

    assert size(320, 180) == "1280x720"
    assert size(1080, 1920) == "1024x1792"
    assert size(1920, 1080) == "1792x1024"


# --- MiniMax ----------------------------------------------------------------------------


def test_minimax_create_maps_frames_duration_and_resolution() -> None:
    call = KINDS["minimax"].create("MiniMax-Hailuo-02", REQUEST, "https://cb.example/x")
    assert (call.method, call.path, call.headers) == ("POST", "/video_generation", None)
    assert call.json == {
        "model": "MiniMax-Hailuo-02",
        "prompt": "a cat playing the piano",
        "first_frame_image": "https://example.com/first.png",
        "last_frame_image": "https://example.com/last.png",
        "duration": 6,
        "resolution": "768P",
    }
    big = KINDS["minimax"].create("m", RelayInput("p", seconds=9, width=1920, height=1080), None)
    assert big.json is not None and (big.json["duration"], big.json["resolution"]) == (10, "1080P")
    assert KINDS["minimax"].refuses == {"seed", "reference_images"}


def test_minimax_success_needs_one_more_read_for_the_download_url() -> None:
    minimax = KINDS["minimax"]
    assert minimax.created_id({"task_id": "106916", "base_resp": {"status_code": 0}}) == "106916"
    assert minimax.status("106916").path == "/query/video_generation?task_id=106916"
    for word, phase in [
        ("Preparing", Phase.QUEUED),
        ("Queueing", Phase.QUEUED),
        ("Processing", Phase.RUNNING),
    ]:
        assert minimax.state("mm", "1", {"status": word}).phase is phase
    done = minimax.state(
        "mm",
        "1",
        {"task_id": "1", "status": "Success", "file_id": "205258", "video_width": 1366},
    )
    assert done.phase is Phase.SUCCEEDED and done.video_url is None
    assert done.then is not None and done.then.path == "/files/retrieve?file_id=205258"
    kept = minimax.resolve(
        "mm", done, {"file": {"file_id": 205258, "download_url": "https://cdn/v.mp4"}}
    )
    assert kept.video_url == "https://cdn/v.mp4" and not kept.video_needs_key and kept.then is None
    assert kept.extra == {"video_width": 1366}
    failed = minimax.state(
        "mm", "1", {"status": "Fail", "base_resp": {"status_code": 1027, "status_msg": "sensitive"}}
    )
    assert failed.phase is Phase.FAILED and failed.error == "1027 sensitive"


@pytest.mark.parametrize(
    ("code", "trouble"),
    [
        (1002, Trouble.RETRY),
        (1000, Trouble.RETRY),
        (1004, Trouble.KEY),
        (2049, Trouble.KEY),
        (1008, Trouble.KEY),
        (1026, Trouble.INPUT),
        (2013, Trouble.INPUT),
        (9999, Trouble.INPUT),  # unlisted: fail closed
    ],
)
def test_minimax_reads_errors_inside_a_200_answer(code: int, trouble: Trouble) -> None:
    refusal = KINDS["minimax"].refusal_in({"base_resp": {"status_code": code, "status_msg": "m"}})
    assert refusal is not None and refusal.trouble is trouble and str(code) in refusal.message


def test_minimax_success_envelope_and_task_answers_are_no_refusal() -> None:
    minimax = KINDS["minimax"]
    assert minimax.refusal_in({"task_id": "1", "base_resp": {"status_code": 0}}) is None
    assert minimax.refusal_in({"status": "Fail", "base_resp": {"status_code": 1027}}) is None


# --- DashScope --------------------------------------------------------------------------


def test_dashscope_create_is_asynchronous_and_maps_the_fields() -> None:
    t2v = KINDS["dashscope"].create(
        "wan2.2-t2v-plus", RelayInput("p", seconds=5, width=1920, height=1080, seed=3), None
    )
    assert (t2v.method, t2v.path) == ("POST", "/services/aigc/video-generation/video-synthesis")
    assert t2v.headers == {"X-DashScope-Async": "enable"}
    assert t2v.json == {
        "model": "wan2.2-t2v-plus",
        "input": {"prompt": "p"},
        "parameters": {"size": "1920*1080", "duration": 5, "seed": 3},
    }
    kf2v = KINDS["dashscope"].create("wan2.1-kf2v-plus", REQUEST, None).json
    assert kf2v is not None and kf2v["input"] == {
        "prompt": "a cat playing the piano",
        "first_frame_url": "https://example.com/first.png",
        "last_frame_url": "https://example.com/last.png",
    }
    assert kf2v["parameters"]["resolution"] == "720P"
    i2v = (
        KINDS["dashscope"]
        .create("wan2.5-i2v-preview", RelayInput(first_frame="https://i/1.png"), None)
        .json
    )
    assert i2v is not None and i2v["input"] == {"img_url": "https://i/1.png"}
    assert KINDS["dashscope"].refuses == {"reference_images"}


def test_dashscope_reads_tasks_cancel_and_unknown() -> None:
    dashscope = KINDS["dashscope"]
    assert dashscope.created_id({"output": {"task_id": "t-1", "task_status": "PENDING"}}) == "t-1"
    with pytest.raises(ValueError):
        dashscope.created_id({"code": "InvalidParameter"})
    done = dashscope.state(
        "wan",
        "t-1",
        {
            "output": {
                "task_id": "t-1",
                "task_status": "SUCCEEDED",
                "video_url": "https://oss/v.mp4",
            },
            "usage": {"video_duration": 5, "video_count": 1},
        },
    )
    assert done.phase is Phase.SUCCEEDED and done.video_url == "https://oss/v.mp4"
    assert not done.video_needs_key and done.extra == {"video_duration": 5}
    failed = dashscope.state(
        "wan", "t-1", {"output": {"task_status": "FAILED", "code": "InternalError", "message": "x"}}
    )
    assert failed.phase is Phase.FAILED and failed.error == "InternalError: x"
    lost = dashscope.state("wan", "t-9", {"output": {"task_id": "t-9", "task_status": "UNKNOWN"}})
    assert lost.phase is Phase.FAILED and lost.error is not None and "t-9" in lost.error
    assert dashscope.state("wan", "t", {"output": {"task_status": "CANCELED"}}).phase is (
        Phase.CANCELLED
    )
    cancel = dashscope.cancel("t-1")
    assert cancel is not None and (cancel.method, cancel.path) == ("POST", "/tasks/t-1/cancel")


@pytest.mark.parametrize("kind", ["ark", "openai_videos", "newapi"])
def test_the_first_kinds_keep_the_bearer_key_and_refuse_nothing(kind: str) -> None:
    assert KINDS[kind].auth("sk-x") == {"Authorization": "Bearer sk-x"}
    assert KINDS[kind].refuses == frozenset()
    assert KINDS[kind].refusal_in({"base_resp": {"status_code": 1004}}) is None


# --- Runway -----------------------------------------------------------------------------


def test_runway_create_maps_frames_ratio_duration_and_seed() -> None:
    runway = KINDS["runway"]
    both = runway.create("gen3a_turbo", REQUEST, None)
    assert (both.method, both.path) == ("POST", "/image_to_video")
    assert both.json == {
        "model": "gen3a_turbo",
        "promptText": "a cat playing the piano",
        "ratio": "1280:720",
        "duration": 5,
        "seed": 7,
        "promptImage": [
            {"uri": "https://example.com/first.png", "position": "first"},
            {"uri": "https://example.com/last.png", "position": "last"},
        ],
    }
    first = runway.create("gen4_turbo", RelayInput("p", first_frame="https://i/1.png"), None)
    assert first.json is not None and first.json["promptImage"] == "https://i/1.png"
    text = runway.create("veo3", RelayInput("p", seconds=9, width=1080, height=1920), None)
    assert text.path == "/text_to_video"
    assert text.json == {"model": "veo3", "promptText": "p", "ratio": "720:1280", "duration": 10}
    assert runway.refuses == {"reference_images"}


def test_runway_every_call_carries_the_version_header() -> None:
    headers = KINDS["runway"].auth("key_abc")
    assert headers == {"Authorization": "Bearer key_abc", "X-Runway-Version": "2024-11-06"}


def test_runway_reads_statuses_progress_output_failure_and_cancels() -> None:
    runway = KINDS["runway"]
    assert runway.created_id({"id": "17f20503-6c24-4c16-946b-35dbbce2af2f"}).startswith("17f2")
    assert runway.status("t1") == Call("GET", "/tasks/t1")
    for word, phase in (("PENDING", Phase.QUEUED), ("THROTTLED", Phase.QUEUED)):
        assert runway.state("rw", "t1", {"id": "t1", "status": word}).phase is phase
    running = runway.state("rw", "t1", {"id": "t1", "status": "RUNNING", "progress": 0.42})
    assert running.phase is Phase.RUNNING and running.progress == 42
    done = runway.state("rw", "t1", {"status": "SUCCEEDED", "output": ["https://cdn/v.mp4"]})
    assert done.video_url == "https://cdn/v.mp4" and not done.video_needs_key
    failed = runway.state(
        "rw",
        "t1",
        {"status": "FAILED", "failure": "The prompt was flagged", "failureCode": "SAFETY.INPUT"},
    )
    assert failed.phase is Phase.FAILED and failed.error == "SAFETY.INPUT: The prompt was flagged"
    assert runway.state("rw", "t1", {"status": "CANCELLED"}).phase is Phase.CANCELLED
    assert runway.cancel("t1") == Call("DELETE", "/tasks/t1")
    assert runway.check() == Call("GET", "/organization")
    assert runway.can_cancel and runway.reports_progress


# --- Kling ------------------------------------------------------------------------------


def _jwt_claims(token: str, secret: str) -> dict[str, object]:
    """Check an HS256 token's signature with the standard library and return its claims."""
    signing, _, signature = token.rpartition(".")
    expected = hmac.new(secret.encode(), signing.encode(), hashlib.sha256).digest()
    assert base64.urlsafe_b64decode(signature + "==") == expected
    header, payload = (
        json.loads(base64.urlsafe_b64decode(part + "==")) for part in signing.split(".")
    )
    assert header == {"alg": "HS256", "typ": "JWT"}
    claims: dict[str, object] = payload
    return claims


def test_kling_auth_is_a_short_lived_hs256_jwt_from_access_and_secret_key() -> None:
    headers = KINDS["kling"].auth("AK123:SK456")
    scheme, _, token = headers["Authorization"].partition(" ")
    assert scheme == "Bearer"
    claims = _jwt_claims(token, "SK456")
    now = time.time()
    assert claims["iss"] == "AK123"
    assert isinstance(claims["exp"], int) and now < claims["exp"] <= now + TOKEN_LIFETIME_S + 1
    assert isinstance(claims["nbf"], int) and claims["nbf"] <= now
    with pytest.raises(ValueError, match="ACCESS_KEY:SECRET_KEY"):
        KINDS["kling"].auth("just-one-key")


def test_kling_create_maps_text_and_image_to_video() -> None:
    kling = KINDS["kling"]
    text = kling.create("kling-v1-6", RelayInput("p", seconds=7, width=720, height=1280), None)
    assert (text.method, text.path) == ("POST", "/videos/text2video")
    assert text.json == {
        "model_name": "kling-v1-6",
        "prompt": "p",
        "duration": "5",
        "aspect_ratio": "9:16",
    }
    image = kling.create("kling-v1", REQUEST, None)
    assert image.path == "/videos/image2video" and image.json is not None
    assert image.json["image"] == "https://example.com/first.png"
    assert image.json["image_tail"] == "https://example.com/last.png"
    assert "aspect_ratio" not in image.json and image.json["duration"] == "5"
    assert str(image.json["external_task_id"]).startswith("vidtask-i2v-")
    assert kling.refuses == {"seed", "reference_images"}


def test_kling_reads_the_envelope_and_the_endpoint_of_each_task() -> None:
    kling = KINDS["kling"]
    made = {"code": 0, "message": "SUCCEED", "data": {"task_id": "8", "task_status": "submitted"}}
    assert kling.created_id(made) == "text2video/8"
    image = {
        "code": 0,
        "data": {"task_id": "9", "task_info": {"external_task_id": "vidtask-i2v-x"}},
    }
    assert kling.created_id(image) == "image2video/9"
    assert kling.status("image2video/9") == Call("GET", "/videos/image2video/9")
    with pytest.raises(ValueError, match="task_id"):
        kling.created_id({"code": 1201, "message": "bad", "data": None})
    for word, phase in (("submitted", Phase.QUEUED), ("processing", Phase.RUNNING)):
        assert kling.state("kl", "8", {"code": 0, "data": {"task_status": word}}).phase is phase
    done = kling.state(
        "kl",
        "8",
        {
            "code": 0,
            "data": {
                "task_status": "succeed",
                "task_result": {
                    "videos": [{"id": "v", "url": "https://cdn/v.mp4", "duration": "5"}]
                },
            },
        },
    )
    assert done.phase is Phase.SUCCEEDED and done.video_url == "https://cdn/v.mp4"
    failed = kling.state(
        "kl", "8", {"code": 0, "data": {"task_status": "failed", "task_status_msg": "risky"}}
    )
    assert failed.phase is Phase.FAILED and failed.error == "risky"
    assert kling.cancel("text2video/8") is None and not kling.can_cancel


@pytest.mark.parametrize(
    ("code", "trouble"),
    [(1000, Trouble.KEY), (1101, Trouble.KEY), (1303, Trouble.RETRY), (1301, Trouble.INPUT)],
)
def test_kling_reads_errors_inside_a_200_answer(code: int, trouble: Trouble) -> None:
    refusal = KINDS["kling"].refusal_in({"code": code, "message": "m", "request_id": "r"})
    assert refusal is not None and refusal.trouble is trouble
    assert KINDS["kling"].refusal_in({"code": 0, "message": "SUCCEED", "data": {}}) is None

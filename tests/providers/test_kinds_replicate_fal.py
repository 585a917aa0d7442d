"""The Replicate and fal upstream kinds without I/O: requests they build, answers they read."""

from __future__ import annotations

import pytest

from vidtask.core import errors
from vidtask.core.upstream import Phase
from vidtask.providers import KINDS
from vidtask.providers.base import Call, RelayInput, Trouble

REQUEST = RelayInput(
    prompt="a cat playing the piano",
    first_frame="https://example.com/first.png",
    last_frame="https://example.com/last.png",
    reference_images=tuple(f"https://example.com/r{n}.png" for n in range(5)),
    seconds=7,
    width=720,
    height=1280,
)


def test_replicate_official_model_create_fills_the_kling_input_schema() -> None:
    call = KINDS["replicate"].create("kwaivgi/kling-v1.6-pro", REQUEST, "https://cb.example/t/x")
    assert (call.method, call.path) == ("POST", "/models/kwaivgi/kling-v1.6-pro/predictions")
    assert call.json == {
        "input": {
            "prompt": "a cat playing the piano",
            "start_image": "https://example.com/first.png",
            "end_image": "https://example.com/last.png",
            "reference_images": [f"https://example.com/r{n}.png" for n in range(4)],
            "duration": 5,
            "aspect_ratio": "9:16",
        },
        "webhook": "https://cb.example/t/x",
        "webhook_events_filter": ["start", "completed"],
    }
    assert KINDS["replicate"].refuses == frozenset({"seed"})


def test_replicate_a_versioned_model_goes_to_the_predictions_endpoint() -> None:
    call = KINDS["replicate"].create("owner/model:abc123", RelayInput(prompt="p"), None)
    assert (call.method, call.path) == ("POST", "/predictions")
    assert call.json == {"version": "owner/model:abc123", "input": {"prompt": "p"}}


def test_replicate_reads_statuses_logs_output_and_errors() -> None:
    kind = KINDS["replicate"]
    assert kind.created_id({"id": "p1", "status": "starting"}) == "p1"
    assert kind.status("p1") == Call("GET", "/predictions/p1")
    assert kind.cancel("p1") == Call("POST", "/predictions/p1/cancel")
    assert kind.check() == Call("GET", "/account")
    starting = kind.state("r", "p1", {"status": "starting", "logs": None})
    assert (starting.phase, starting.logs) == (Phase.QUEUED, ())
    running = kind.state("r", "p1", {"status": "processing", "logs": "boot\nstep 1/2\n"})
    assert (running.phase, running.logs) == (Phase.RUNNING, ("boot", "step 1/2"))
    done = kind.state(
        "r", "p1", {"status": "succeeded", "output": "https://replicate.delivery/v.mp4"}
    )
    assert (done.phase, done.video_url, done.video_needs_key) == (
        Phase.SUCCEEDED,
        "https://replicate.delivery/v.mp4",
        False,
    )
    listed = kind.state("r", "p1", {"status": "succeeded", "output": ["https://x/v.mp4"]})
    assert listed.video_url == "https://x/v.mp4"
    failed = kind.state("r", "p1", {"status": "failed", "error": "NSFW content detected"})
    assert (failed.phase, failed.error) == (Phase.FAILED, "NSFW content detected")
    assert kind.state("r", "p1", {"status": "canceled"}).phase is Phase.CANCELLED
    assert kind.state("r", "p1", {"status": "aborted"}).phase is Phase.EXPIRED
    with pytest.raises(errors.UpstreamError, match="'paused'"):
        kind.state("r", "p1", {"status": "paused"})


def test_replicate_refusals_read_the_problem_object() -> None:
    kind = KINDS["replicate"]
    bad = kind.refusal(
        401, {"title": "Unauthenticated", "detail": "You did not pass a valid token"}
    )
    assert bad.trouble is Trouble.KEY and "valid token" in bad.message
    assert kind.refusal(429, {"detail": "Request was throttled."}).trouble is Trouble.RETRY
    assert kind.refusal(422, {"title": "Input validation failed"}).trouble is Trouble.INPUT
    assert kind.refusal(404, {"detail": "Not found."}).trouble is Trouble.GONE
    assert kind.auth("r8_secret") == {"Authorization": "Bearer r8_secret"}


def test_fal_create_posts_the_full_model_id_with_the_webhook_query() -> None:
    kind = KINDS["fal"]
    text = RelayInput(prompt="a cat", seconds=8, width=1280, height=720)
    call = kind.create("fal-ai/kling-video/v2/master/text-to-video", text, "https://cb.example/t/x")
    assert call.method == "POST"
    assert call.path == (
        "/fal-ai/kling-video/v2/master/text-to-video?fal_webhook=https%3A%2F%2Fcb.example%2Ft%2Fx"
    )
    assert call.json == {"prompt": "a cat", "duration": "10", "aspect_ratio": "16:9"}
    plain = kind.create("fal-ai/kling-video/v2/master/text-to-video", RelayInput(prompt="p"), None)
    assert plain.path == "/fal-ai/kling-video/v2/master/text-to-video"
    assert kind.refuses == frozenset({"first_frame", "last_frame", "reference_images", "seed"})
    assert kind.auth("fal-key") == {"Authorization": "Key fal-key"}


def test_fal_upstream_id_is_the_app_path_of_the_status_url() -> None:
    kind = KINDS["fal"]
    answer = {
        "request_id": "r-1",
        "status_url": "https://queue.fal.run/fal-ai/kling-video/requests/r-1/status",
        "response_url": "https://queue.fal.run/fal-ai/kling-video/requests/r-1",
        "cancel_url": "https://queue.fal.run/fal-ai/kling-video/requests/r-1/cancel",
    }
    upstream_id = kind.created_id(answer)
    assert upstream_id == "fal-ai/kling-video/requests/r-1"
    assert kind.status(upstream_id) == Call("GET", "/fal-ai/kling-video/requests/r-1/status?logs=1")
    assert kind.cancel(upstream_id) == Call("PUT", "/fal-ai/kling-video/requests/r-1/cancel")
    with pytest.raises(ValueError, match="status_url"):
        kind.created_id({"request_id": "r-1"})


def test_fal_reads_queue_position_logs_and_needs_the_result_read() -> None:
    kind = KINDS["fal"]
    upstream_id = "fal-ai/kling-video/requests/r-1"
    queued = kind.state("f", upstream_id, {"status": "IN_QUEUE", "queue_position": 3})
    assert (queued.phase, queued.queue_position) == (Phase.QUEUED, 3)
    logs = [{"message": "loading", "level": "INFO"}, {"message": "step 2", "level": "INFO"}]
    running = kind.state("f", upstream_id, {"status": "IN_PROGRESS", "logs": logs})
    assert (running.phase, running.logs, running.queue_position) == (
        Phase.RUNNING,
        ("loading", "step 2"),
        None,
    )
    done = kind.state("f", upstream_id, {"status": "COMPLETED", "logs": logs})
    assert done.phase is Phase.SUCCEEDED and done.video_url is None
    assert done.then == Call("GET", "/fal-ai/kling-video/requests/r-1")
    result = kind.resolve("f", done, {"video": {"url": "https://v3.fal.media/files/v.mp4"}})
    assert (result.video_url, result.video_needs_key, result.logs) == (
        "https://v3.fal.media/files/v.mp4",
        False,
        ("loading", "step 2"),
    )


def test_fal_a_completed_status_with_an_error_is_a_failure() -> None:
    kind = KINDS["fal"]
    body = {"status": "COMPLETED", "error": "Request timed out", "error_type": "request_timeout"}
    failed = kind.state("f", "a/b/requests/r", body)
    assert (failed.phase, failed.error, failed.then) == (
        Phase.FAILED,
        "request_timeout: Request timed out",
        None,
    )
    gone = kind.state(
        "f", "a/b/requests/r", {"status": "COMPLETED", "error_type": "client_cancelled"}
    )
    assert gone.phase is Phase.CANCELLED
    with pytest.raises(errors.UpstreamError, match="'FAILED'"):
        kind.state("f", "a/b/requests/r", {"status": "FAILED"})


def test_fal_refusals_read_both_error_shapes() -> None:
    kind = KINDS["fal"]
    model = kind.refusal(422, {"detail": [{"loc": ["body", "prompt"], "msg": "field required"}]})
    assert model.trouble is Trouble.INPUT and "field required" in model.message
    request = kind.refusal(504, {"detail": "Request timed out", "error_type": "request_timeout"})
    assert request.trouble is Trouble.RETRY and "request_timeout" in request.message
    assert kind.refusal(401, {"detail": "No key"}).trouble is Trouble.KEY

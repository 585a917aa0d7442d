"""The Scenext upstream kind without I/O: the requests it builds and how it reads answers."""

from __future__ import annotations

import pytest

from vidtask.core import errors
from vidtask.core.upstream import Phase
from vidtask.providers import KINDS
from vidtask.providers.base import Call, RelayInput, Trouble

SCENEXT = KINDS["scenext"]
FRAME = "https://oss.scenext.cn/frame_img/a/b/frame1.png?OSSAccessKeyId=K&Expires=1&Signature=S"


def test_scenext_create_sends_the_question_images_quality_and_notify_url() -> None:
    request = RelayInput(
        "What is a Fourier series?",
        reference_images=("https://i/q.png",),
        width=1920,
        height=1080,
    )
    call = SCENEXT.create("scenext", request, "https://cb.example/x")
    assert (call.method, call.path) == ("POST", "/gen_video")
    assert call.json == {
        "question": "What is a Fourier series?",
        "questionImages": ["https://i/q.png"],
        "quality": "h",
        "notify_url": "https://cb.example/x",
    }
    small = SCENEXT.create("scenext", RelayInput("q", seconds=5, width=854, height=480), None).json
    assert small == {"question": "q", "quality": "l"}
    medium = SCENEXT.create("scenext", RelayInput("q", width=720, height=1280), None).json
    assert medium is not None and medium["quality"] == "m"
    assert SCENEXT.refuses == {"first_frame", "last_frame", "seed"}


def test_scenext_reads_the_envelope_previews_result_and_error() -> None:
    assert SCENEXT.created_id({"status": "success", "data": {"task_id": "12345"}}) == "12345"
    with pytest.raises(ValueError):
        SCENEXT.created_id({"status": "success", "data": {}})
    assert SCENEXT.status("12345") == Call("GET", "/get_status/12345")
    running = SCENEXT.state(
        "sx",
        "12345",
        {
            "status": "success",
            "data": {
                "task_id": "12345",
                "status": "IN_PROGRESS",
                "progress": [{"id": "frame1", "image": FRAME}, {"id": "frame2", "image": FRAME}],
            },
        },
    )
    assert running.phase is Phase.RUNNING and running.previews == (FRAME, FRAME)
    done = SCENEXT.state(
        "sx",
        "12345",
        {
            "status": "success",
            "data": {
                "status": "COMPLETED",
                "progress": [],
                "result": {"video_url": "https://oss/v.mp4", "cover_url": None},
            },
        },
    )
    assert done.phase is Phase.SUCCEEDED and done.video_url == "https://oss/v.mp4"
    assert not done.video_needs_key
    failed = SCENEXT.state(
        "sx",
        "1",
        {"status": "success", "data": {"status": "FAILED", "error": {"code": "c", "message": "m"}}},
    )
    assert failed.phase is Phase.FAILED and failed.error == "c: m"
    with pytest.raises(errors.UpstreamError, match="QUEUED"):
        SCENEXT.state("sx", "1", {"status": "success", "data": {"status": "QUEUED"}})


def test_scenext_refusals_check_and_no_cancel() -> None:
    assert SCENEXT.check() == Call("GET", "/get_status/vidtask-key-check")
    assert SCENEXT.cancel("1") is None and not SCENEXT.can_cancel
    assert SCENEXT.auth("sk") == {"Authorization": "Bearer sk"}
    error = {"status": "error", "message": "invalid api key", "code": "unauthorized"}
    assert SCENEXT.refusal(401, error).trouble is Trouble.KEY
    assert SCENEXT.refusal(429, {"status": "error", "message": "slow"}).trouble is Trouble.RETRY
    assert SCENEXT.refusal(404, {"status": "error", "message": "no"}).trouble is Trouble.GONE
    inner = SCENEXT.refusal_in({"status": "error", "message": "question is required"})
    assert inner is not None and inner.trouble is Trouble.INPUT
    assert "question is required" in inner.message
    assert SCENEXT.refusal_in({"status": "success", "data": {"task_id": "1"}}) is None

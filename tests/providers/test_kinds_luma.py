"""The Luma Dream Machine kind without I/O: the request it builds and how it reads answers."""

from __future__ import annotations

import pytest

from vidtask.core.upstream import Phase
from vidtask.providers import KINDS
from vidtask.providers.base import Call, RelayInput, Trouble


def test_luma_create_maps_keyframes_ratio_resolution_duration_and_callback() -> None:
    luma = KINDS["luma"]
    request = RelayInput(
        "a cat",
        first_frame="https://example.com/first.png",
        last_frame="https://example.com/last.png",
        seconds=6,
        width=1280,
        height=720,
    )
    call = luma.create("ray-2", request, "https://cb.example/hook")
    assert (call.method, call.path) == ("POST", "/generations")
    assert call.json == {
        "model": "ray-2",
        "prompt": "a cat",
        "aspect_ratio": "16:9",
        "resolution": "720p",
        "duration": "5s",
        "keyframes": {
            "frame0": {"type": "image", "url": "https://example.com/first.png"},
            "frame1": {"type": "image", "url": "https://example.com/last.png"},
        },
        "callback_url": "https://cb.example/hook",
    }
    tall = luma.create("ray-flash-2", RelayInput("p", seconds=8, width=480, height=1080), None)
    assert tall.json == {
        "model": "ray-flash-2",
        "prompt": "p",
        "aspect_ratio": "9:21",
        "resolution": "540p",
        "duration": "9s",
    }
    wide = luma.create("ray-2", RelayInput("p", width=3840, height=2160), None)
    assert wide.json is not None and wide.json["resolution"] == "4k"
    assert luma.refuses == {"seed", "reference_images"}
    assert luma.calls_back and not luma.can_cancel and not luma.reports_progress


def test_luma_reads_states_failure_reason_and_video() -> None:
    luma = KINDS["luma"]
    assert luma.created_id({"id": "d1b2", "state": "queued"}) == "d1b2"
    assert luma.status("d1b2") == Call("GET", "/generations/d1b2")
    for word, phase in (("queued", Phase.QUEUED), ("dreaming", Phase.RUNNING)):
        state = luma.state("luma", "d1b2", {"id": "d1b2", "state": word, "assets": None})
        assert state.phase is phase and state.video_url is None
    done = luma.state(
        "luma", "d1b2", {"state": "completed", "assets": {"video": "https://cdn/v.mp4"}}
    )
    assert done.phase is Phase.SUCCEEDED and done.video_url == "https://cdn/v.mp4"
    assert not done.video_needs_key
    failed = luma.state("luma", "d1b2", {"state": "failed", "failure_reason": "blocked"})
    assert failed.phase is Phase.FAILED and failed.error == "blocked"
    assert luma.check() == Call("GET", "/credits")
    assert luma.cancel("d1b2") is None


@pytest.mark.parametrize(
    ("status", "body", "trouble", "text"),
    [
        (401, {"detail": "Invalid API key"}, Trouble.KEY, "Invalid API key"),
        (402, {"detail": "Insufficient credits"}, Trouble.KEY, "Insufficient credits"),
        (429, {"detail": "Too many requests"}, Trouble.RETRY, "Too many requests"),
        (400, {"detail": [{"loc": ["body", "duration"], "msg": "bad"}]}, Trouble.INPUT, "bad"),
        (404, {"detail": "Generation not found"}, Trouble.GONE, "not found"),
        (500, None, Trouble.RETRY, "HTTP 500"),
    ],
)
def test_luma_refusals(status: int, body: object, trouble: Trouble, text: str) -> None:
    refusal = KINDS["luma"].refusal(status, body)
    assert refusal.trouble is trouble and text in refusal.message

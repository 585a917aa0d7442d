"""The Vidu upstream kind without I/O: the requests it builds and how it reads answers."""

from __future__ import annotations

import pytest

from vidtask.core import errors
from vidtask.core.upstream import Phase
from vidtask.providers import KINDS
from vidtask.providers.base import Call, RelayInput, Trouble

VIDU = KINDS["vidu"]


def test_vidu_text_to_video_maps_ratio_resolution_duration_seed_and_callback() -> None:
    request = RelayInput("a cat", seconds=7, width=1280, height=720, seed=3)
    call = VIDU.create("vidu1.5", request, "https://cb.example/x")
    assert (call.method, call.path) == ("POST", "/text2video")
    assert call.json == {
        "model": "vidu1.5",
        "prompt": "a cat",
        "resolution": "720p",
        "aspect_ratio": "16:9",
        "duration": 8,
        "seed": 3,
        "callback_url": "https://cb.example/x",
    }
    portrait = VIDU.create("viduq1", RelayInput("p", seconds=10, width=1080, height=1920), None)
    assert portrait.json is not None
    assert (portrait.json["aspect_ratio"], portrait.json["resolution"]) == ("9:16", "1080p")
    assert portrait.json["duration"] == 5 and "callback_url" not in portrait.json
    # A model without a listed duration gets the seconds as given.
    later = VIDU.create("viduq2", RelayInput("p", seconds=9), None).json
    assert later is not None and later["duration"] == 9


def test_vidu_frames_and_references_pick_the_endpoint() -> None:
    first = VIDU.create("vidu2.0", RelayInput("p", first_frame="https://i/1.png"), None)
    assert first.path == "/img2video" and first.json is not None
    assert first.json["images"] == ["https://i/1.png"]
    both = RelayInput(
        "p", first_frame="https://i/1.png", last_frame="https://i/2.png", width=640, height=640
    )
    call = VIDU.create("viduq1", both, None)
    assert call.path == "/start-end2video" and call.json is not None
    assert call.json["images"] == ["https://i/1.png", "https://i/2.png"]
    assert "aspect_ratio" not in call.json  # the frames decide the shape
    refs = RelayInput("p", reference_images=("https://i/a.png", "https://i/b.png"))
    ref = VIDU.create("vidu2.0", refs, None)
    assert ref.path == "/reference2video" and ref.json is not None
    assert ref.json["images"] == ["https://i/a.png", "https://i/b.png"]
    # Inputs no endpoint takes together go as they are, for Vidu to refuse.
    mixed = VIDU.create("viduq1", RelayInput("p", first_frame="f", reference_images=("r",)), None)
    assert mixed.path == "/img2video" and mixed.json is not None
    assert mixed.json["images"] == ["f", "r"]
    assert VIDU.refuses == frozenset()


def test_vidu_auth_is_a_token_not_a_bearer() -> None:
    assert VIDU.auth("vda_123") == {"Authorization": "Token vda_123"}


def test_vidu_reads_states_creations_and_cancelled_tasks() -> None:
    assert VIDU.created_id({"task_id": "8093875720", "state": "created"}) == "8093875720"
    with pytest.raises(ValueError):
        VIDU.created_id({"state": "created"})
    assert VIDU.status("t1") == Call("GET", "/tasks/t1/creations")
    for word, phase in [
        ("created", Phase.QUEUED),
        ("queueing", Phase.QUEUED),
        ("processing", Phase.RUNNING),
    ]:
        assert VIDU.state("vidu", "t1", {"state": word, "creations": []}).phase is phase
    done = VIDU.state(
        "vidu",
        "t1",
        {
            "state": "success",
            "err_code": "",
            "creations": [{"id": "c", "url": "https://cdn/v.mp4", "cover_url": "https://c"}],
        },
    )
    assert done.phase is Phase.SUCCEEDED and done.video_url == "https://cdn/v.mp4"
    assert not done.video_needs_key
    failed = VIDU.state("vidu", "t1", {"state": "failed", "err_code": "AuditSubmitIllegal"})
    assert failed.phase is Phase.FAILED and failed.error == "AuditSubmitIllegal"
    cancelled = VIDU.state("vidu", "t1", {"state": "failed", "err_code": "UserCancelled"})
    assert cancelled.phase is Phase.CANCELLED
    with pytest.raises(errors.UpstreamError, match="scheduled"):
        VIDU.state("vidu", "t1", {"state": "scheduled"})


def test_vidu_cancel_check_and_capabilities() -> None:
    assert VIDU.cancel("t1") == Call("POST", "/tasks/t1/cancel", json={"id": "t1"})
    assert VIDU.check() == Call("GET", "/credits")
    assert VIDU.can_cancel and VIDU.calls_back and not VIDU.reports_progress


@pytest.mark.parametrize(
    ("status", "reason", "trouble"),
    [
        (400, "FieldInvalid", Trouble.INPUT),
        (400, "CreditInsufficient", Trouble.KEY),
        (401, "Unauthorized", Trouble.KEY),
        (403, "Forbidden", Trouble.KEY),
        (404, "TaskNotFound", Trouble.GONE),
        (429, "QuotaExceeded", Trouble.RETRY),
        (429, "TooManyRequests", Trouble.RETRY),
        (500, "InternalServiceFailure", Trouble.RETRY),
    ],
)
def test_vidu_refusals(status: int, reason: str, trouble: Trouble) -> None:
    body = {"code": status, "reason": reason, "message": "m", "metadata": {"trace_id": "x"}}
    refusal = VIDU.refusal(status, body)
    assert refusal.trouble is trouble and reason in refusal.message
    assert VIDU.refusal_in({"task_id": "1", "state": "created"}) is None

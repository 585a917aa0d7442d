"""The Vidu and Scenext simulators, driven through vidtask's own kinds (so the kind and the
simulator are checked against each other), and the Scenext kind against a real vidtask server's
own Scenext dialect (so that two vidtask servers can be chained)."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.integration.conftest import Server
from tests.mcp_server.conftest import new_key
from tests.simulators import Op, Outcome, ScenextSimulator, ViduSimulator
from tests.simulators.base import Simulator
from vidtask.core.upstream import Phase
from vidtask.providers import KINDS
from vidtask.providers.base import Call, RelayInput, Trouble, UpstreamState

VIDU_KEY = "vda_sim"
SCENEXT_KEY = "sk-scenext-sim"


@pytest.fixture
def vidu() -> Iterator[ViduSimulator]:
    with ViduSimulator(keys=[VIDU_KEY], queue_s=0.3, run_s=0.3) as simulator:
        yield simulator


@pytest.fixture
def scenext() -> Iterator[ScenextSimulator]:
    with ScenextSimulator(keys=[SCENEXT_KEY], queue_s=0.05, run_s=0.4) as simulator:
        yield simulator


def send(base_url: str, kind: str, call: Call, key: str) -> httpx.Response:
    headers = {**(call.headers or {}), **KINDS[kind].auth(key)}
    return httpx.request(
        call.method, base_url + call.path, json=call.json, headers=headers, timeout=10
    )


def sim_send(sim: Simulator, call: Call, key: str | None = None) -> httpx.Response:
    default = VIDU_KEY if sim.name == "vidu" else SCENEXT_KEY
    return send(sim.base_url, sim.name, call, key or default)


def follow(
    base_url: str, kind_name: str, key: str, upstream_id: str, timeout: float = 10
) -> tuple[list[UpstreamState], UpstreamState]:
    kind = KINDS[kind_name]
    seen: list[UpstreamState] = []
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        answer = send(base_url, kind_name, kind.status(upstream_id), key)
        assert answer.status_code == 200, answer.text
        assert kind.refusal_in(answer.json()) is None, answer.text
        state = kind.state(kind_name, upstream_id, answer.json())
        if not seen or seen[-1].phase is not state.phase or seen[-1].extra != state.extra:
            seen.append(state)
        if state.phase.finished:
            return seen, state
        time.sleep(0.02)
    raise AssertionError(f"{kind_name} task {upstream_id} did not finish")


def sim_follow(sim: Simulator, upstream_id: str) -> tuple[list[UpstreamState], UpstreamState]:
    key = VIDU_KEY if sim.name == "vidu" else SCENEXT_KEY
    return follow(sim.base_url, sim.name, key, upstream_id)


def create(sim: Simulator, request: RelayInput, model: str) -> str:
    kind = KINDS[sim.name]
    answer = sim_send(sim, kind.create(model, request, None))
    assert answer.status_code == 200, answer.text
    assert kind.refusal_in(answer.json()) is None, answer.text
    return kind.created_id(answer.json())


# --- Vidu -------------------------------------------------------------------------------


def test_vidu_text_task_runs_queueing_processing_success(vidu: ViduSimulator) -> None:
    request = RelayInput("a cat", seconds=8, width=1280, height=720, seed=3)
    task_id = create(vidu, request, "vidu1.5")
    seen, state = sim_follow(vidu, task_id)
    assert [s.phase for s in seen] == [Phase.QUEUED, Phase.RUNNING, Phase.SUCCEEDED]
    assert [s.word for s in seen] == ["queueing", "processing", "success"]
    assert state.video_url is not None and not state.video_needs_key
    video = httpx.get(state.video_url, timeout=10)
    assert video.status_code == 200 and video.content[4:8] == b"ftyp"
    made = vidu.task(task_id).request
    assert (made["aspect_ratio"], made["resolution"], made["duration"]) == ("16:9", "720p", 8)


@pytest.mark.parametrize(
    ("request_", "path", "images"),
    [
        (RelayInput("p", first_frame="https://i/1.png"), "/img2video", 1),
        (RelayInput(first_frame="https://i/1.png", last_frame="https://i/2.png"), "/start", 2),
        (RelayInput("p", reference_images=("https://i/a.png",) * 3), "/reference2video", 3),
    ],
)
def test_vidu_image_endpoints_take_their_images(
    vidu: ViduSimulator, request_: RelayInput, path: str, images: int
) -> None:
    call = KINDS["vidu"].create("vidu2.0", request_, None)
    assert call.path.startswith(path)
    task_id = create(vidu, request_, "vidu2.0")
    assert len(vidu.task(task_id).request["images"]) == images
    assert sim_follow(vidu, task_id)[1].phase is Phase.SUCCEEDED


def test_vidu_refuses_what_an_endpoint_cannot_take(vidu: ViduSimulator) -> None:
    kind = KINDS["vidu"]
    mixed = RelayInput("p", first_frame="https://i/1.png", reference_images=("https://i/a",))
    refused = sim_send(vidu, kind.create("viduq1", mixed, None))
    assert refused.status_code == 400 and refused.json()["reason"] == "FieldInvalid"
    assert "out of range" in refused.json()["message"]
    assert kind.refusal(400, refused.json()).trouble is Trouble.INPUT
    unwanted = sim_send(
        vidu, Call("POST", "/img2video", json={"model": "viduq1", "images": ["x"], "style": "x"})
    )
    assert unwanted.status_code == 400 and "unwanted field: style" in unwanted.json()["message"]
    assert vidu.creates_total == 0


def test_vidu_scripted_failure_reads_failed_with_the_error_code(vidu: ViduSimulator) -> None:
    vidu.script("forbidden", Outcome.FAIL, error_code="CreationPolicyViolation")
    _, state = sim_follow(vidu, create(vidu, RelayInput("forbidden thing"), "viduq1"))
    assert state.phase is Phase.FAILED and state.error == "CreationPolicyViolation"
    assert vidu.requests[Op.CREATE] == 1


def test_vidu_cancels_a_queued_task_but_not_a_running_one(vidu: ViduSimulator) -> None:
    kind = KINDS["vidu"]
    task_id = create(vidu, RelayInput("p"), "viduq1")
    cancel = kind.cancel(task_id)
    assert cancel is not None
    answer = sim_send(vidu, cancel)
    assert answer.status_code == 200 and answer.json() == {}
    _, state = sim_follow(vidu, task_id)
    assert state.phase is Phase.CANCELLED and state.word == "failed"
    late = sim_send(vidu, cancel)  # the task has ended
    assert late.status_code == 400 and "can not cancel" in late.json()["message"]
    missing = sim_send(vidu, kind.status("404040"))
    assert missing.status_code == 404 and missing.json()["reason"] == "TaskNotFound"
    assert kind.refusal(404, missing.json()).trouble is Trouble.GONE


def test_vidu_token_auth_key_errors_rate_limits_and_check(vidu: ViduSimulator) -> None:
    kind = KINDS["vidu"]
    assert sim_send(vidu, kind.check()).json()["remains"][0]["credit_remain"] == 1000
    bad = sim_send(vidu, kind.check(), key="vda_no")
    assert bad.status_code == 401 and kind.refusal(401, bad.json()).trouble is Trouble.KEY
    bearer = httpx.get(
        vidu.base_url + "/credits", headers={"Authorization": f"Bearer {VIDU_KEY}"}, timeout=10
    )
    assert bearer.status_code == 401  # Vidu documents Token, not Bearer
    vidu.exhaust_quota(VIDU_KEY)
    broke = sim_send(vidu, kind.create("viduq1", RelayInput("p"), None))
    assert broke.status_code == 400 and broke.json()["reason"] == "CreditInsufficient"
    assert kind.refusal(400, broke.json()).trouble is Trouble.KEY
    vidu.exhausted_keys.clear()
    vidu.rate_limit_burst(1, retry_after=2)
    limited = sim_send(vidu, kind.status("x"))
    assert limited.status_code == 429 and limited.headers["retry-after"] == "2"
    assert kind.refusal(429, limited.json()).trouble is Trouble.RETRY


# --- Scenext ----------------------------------------------------------------------------


def test_scenext_task_shows_preview_frames_then_the_video(scenext: ScenextSimulator) -> None:
    request = RelayInput("What is a Fourier series?", width=1920, height=1080)
    task_id = create(scenext, request, "scenext")
    seen, state = sim_follow(scenext, task_id)
    assert {s.word for s in seen} == {"IN_PROGRESS", "COMPLETED"}
    counts = [len(s.previews) for s in seen]
    assert counts == sorted(counts) and counts[-1] == 4, counts
    frame = httpx.get(state.previews[0], timeout=10)
    assert frame.status_code == 200 and frame.content[:4] == b"\x89PNG"
    assert state.phase is Phase.SUCCEEDED and state.video_url is not None
    assert httpx.get(state.video_url, timeout=10).status_code == 200
    assert scenext.task(task_id).request == {"question": request.prompt, "quality": "h"}


def test_scenext_scripted_failure_and_unknown_id(scenext: ScenextSimulator) -> None:
    kind = KINDS["scenext"]
    scenext.script("bad", Outcome.FAIL, error_code="render_failed", error_message="no luck")
    _, state = sim_follow(scenext, create(scenext, RelayInput("bad question"), "scenext"))
    assert state.phase is Phase.FAILED and state.error == "render_failed: no luck"
    missing = sim_send(scenext, kind.status("nope"))
    assert missing.status_code == 404 and missing.json()["status"] == "error"
    assert kind.refusal(404, missing.json()).trouble is Trouble.GONE


def test_scenext_key_errors_rate_limits_check_and_fields(scenext: ScenextSimulator) -> None:
    kind = KINDS["scenext"]
    assert sim_send(scenext, kind.check()).status_code == 404  # a 404 means the key works
    bad = sim_send(scenext, kind.check(), key="sk-other")
    assert bad.status_code == 401 and kind.refusal(401, bad.json()).trouble is Trouble.KEY
    scenext.rate_limit_burst(1, retry_after=3)
    limited = sim_send(scenext, kind.status("x"))
    assert limited.status_code == 429 and limited.headers["retry-after"] == "3"
    assert kind.refusal(429, limited.json()).trouble is Trouble.RETRY
    with_model = sim_send(scenext, Call("POST", "/gen_video", json={"question": "q", "model": "m"}))
    assert with_model.status_code == 400 and "model" in with_model.json()["message"]
    assert kind.refusal(400, with_model.json()).trouble is Trouble.INPUT
    assert scenext.creates_total == 0


@pytest.mark.slow
def test_scenext_kind_speaks_vidtasks_own_scenext_dialect(tmp_path: Path, asset_root: Path) -> None:
    """A vidtask server is a Scenext upstream: the kind's create and status calls against its
    ``/api/gen_video`` and ``/api/get_status/{id}`` (its default ``slides`` model renders)."""
    data = tmp_path / "data"
    key = new_key(data, "chain")
    server = Server(data, asset_root).start()
    try:
        kind = KINDS["scenext"]
        base = server.url + "/api"
        request = RelayInput("What is 1+1?", width=854, height=480)
        created = send(base, "scenext", kind.create("scenext", request, None), key)
        assert created.status_code == 200, created.text
        assert kind.refusal_in(created.json()) is None
        task_id = kind.created_id(created.json())
        seen, state = follow(base, "scenext", key, task_id, timeout=180)
        assert seen[0].word == "IN_PROGRESS" and isinstance(seen[0].previews, tuple)
        assert state.phase is Phase.SUCCEEDED, state
        assert state.video_url is not None and state.previews
        assert httpx.get(state.video_url, timeout=30).status_code == 200
        missing = send(base, "scenext", kind.status("vt_nope"), key)
        assert kind.refusal(missing.status_code, missing.json()).trouble is Trouble.GONE
        checked = send(base, "scenext", kind.check(), key)
        assert checked.status_code == 404  # the key works
        bad = send(base, "scenext", kind.check(), "vt_wrong")
        assert kind.refusal(bad.status_code, bad.json()).trouble is Trouble.KEY
    finally:
        server.stop()

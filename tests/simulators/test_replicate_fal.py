"""The Replicate and fal simulators, driven through vidtask's own kinds over loopback HTTP (so
the kind and the simulator are checked against each other), plus what only the simulators do."""

from __future__ import annotations

import time
from collections.abc import Iterator

import httpx
import pytest

from tests.simulators import FalSimulator, Op, Outcome, ReplicateSimulator
from tests.simulators.base import Simulator
from vidtask.core.upstream import Phase
from vidtask.providers import KINDS
from vidtask.providers.base import Call, RelayInput, Trouble, UpstreamState

KEY = "r8_sim"
FAL_MODEL = "fal-ai/kling-video/v2/master/text-to-video"
REPLICATE_MODEL = "kwaivgi/kling-v1.6-pro"


@pytest.fixture
def replicate() -> Iterator[ReplicateSimulator]:
    with ReplicateSimulator(keys=[KEY], queue_s=0.2, run_s=0.3) as simulator:
        yield simulator


@pytest.fixture
def fal() -> Iterator[FalSimulator]:
    with FalSimulator(keys=[KEY], queue_s=0.2, run_s=0.3) as simulator:
        yield simulator


def send(sim: Simulator, call: Call, key: str = KEY) -> httpx.Response:
    headers = {**(call.headers or {}), **KINDS[sim.name].auth(key)}
    return httpx.request(
        call.method, sim.base_url + call.path, json=call.json, headers=headers, timeout=10
    )


def create(sim: Simulator, request: RelayInput, model: str) -> str:
    kind = KINDS[sim.name]
    answer = send(sim, kind.create(model, request, None))
    assert answer.is_success, answer.text
    return kind.created_id(answer.json())


def read(sim: Simulator, upstream_id: str) -> UpstreamState:
    """One poll as the relay makes it: the status read, then the ``then`` read if asked."""
    kind = KINDS[sim.name]
    answer = send(sim, kind.status(upstream_id))
    assert answer.is_success, answer.text
    state = kind.state(sim.name, upstream_id, answer.json())
    if state.phase is Phase.SUCCEEDED and state.then is not None:
        more = send(sim, state.then)
        assert more.is_success, more.text
        state = kind.resolve(sim.name, state, more.json())
    return state


def follow(sim: Simulator, upstream_id: str) -> tuple[list[UpstreamState], UpstreamState]:
    seen: list[UpstreamState] = []
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        state = read(sim, upstream_id)
        if not seen or seen[-1].phase is not state.phase:
            seen.append(state)
        if state.phase.finished:
            return seen, state
        time.sleep(0.02)
    raise AssertionError(f"{sim.name} task {upstream_id} did not finish")


# --- Replicate ---------------------------------------------------------------------------


def test_replicate_prediction_runs_starting_processing_succeeded_with_logs(
    replicate: ReplicateSimulator,
) -> None:
    request = RelayInput(
        "a cat",
        first_frame="https://i/1.png",
        last_frame="https://i/2.png",
        reference_images=("https://i/r.png",),
        seconds=10,
        width=1080,
        height=1080,
    )
    upstream_id = create(replicate, request, REPLICATE_MODEL)
    seen, state = follow(replicate, upstream_id)
    assert [s.phase for s in seen] == [Phase.QUEUED, Phase.RUNNING, Phase.SUCCEEDED]
    assert seen[1].logs and seen[1].logs[0] == "Starting the prediction"
    assert state.logs[-1] == "Generating: 100%"
    assert state.video_url is not None and not state.video_needs_key
    video = httpx.get(state.video_url, timeout=10)
    assert video.status_code == 200 and video.content[4:8] == b"ftyp"
    made = replicate.task(upstream_id)
    assert made.model == REPLICATE_MODEL
    assert made.request["input"]["aspect_ratio"] == "1:1"
    assert made.request["input"]["end_image"] == "https://i/2.png"


def test_replicate_versioned_create_and_a_scripted_failure(replicate: ReplicateSimulator) -> None:
    replicate.script("forbidden", Outcome.FAIL, error_message="NSFW content detected")
    upstream_id = create(replicate, RelayInput("forbidden thing"), "kwaivgi/kling-v1.6-pro:03b0")
    _, state = follow(replicate, upstream_id)
    assert (state.phase, state.error) == (Phase.FAILED, "NSFW content detected")
    assert replicate.requests[Op.CREATE] == 1


def test_replicate_cancels_a_prediction(replicate: ReplicateSimulator) -> None:
    kind = KINDS["replicate"]
    upstream_id = create(replicate, RelayInput("p"), REPLICATE_MODEL)
    cancel = kind.cancel(upstream_id)
    assert cancel is not None
    answer = send(replicate, cancel)
    assert answer.status_code == 200 and answer.json()["status"] == "canceled"
    assert read(replicate, upstream_id).phase is Phase.CANCELLED


def test_replicate_keys_rate_limits_unknown_ids_and_check(replicate: ReplicateSimulator) -> None:
    kind = KINDS["replicate"]
    assert send(replicate, kind.check()).status_code == 200
    bad = send(replicate, kind.check(), key="r8_wrong")
    assert bad.status_code == 401
    assert kind.refusal(401, bad.json()).trouble is Trouble.KEY
    replicate.exhaust_quota(KEY)
    broke = send(replicate, kind.create(REPLICATE_MODEL, RelayInput("p"), None))
    assert kind.refusal(broke.status_code, broke.json()).trouble is Trouble.KEY
    replicate.exhausted_keys.clear()
    replicate.rate_limit_burst(1, retry_after=3)
    limited = send(replicate, kind.status("x"))
    assert limited.status_code == 429 and limited.headers["retry-after"] == "3"
    assert kind.refusal(429, limited.json()).trouble is Trouble.RETRY
    missing = send(replicate, kind.status("no-such-prediction"))
    assert kind.refusal(missing.status_code, missing.json()).trouble is Trouble.GONE
    assert replicate.creates_total == 0


def test_replicate_refuses_an_input_the_schema_does_not_list(
    replicate: ReplicateSimulator,
) -> None:
    kind = KINDS["replicate"]
    path = f"/models/{REPLICATE_MODEL}/predictions"
    answer = send(replicate, Call("POST", path, json={"input": {"prompt": "p", "seed": 1}}))
    assert answer.status_code == 422 and "seed" in answer.json()["detail"]
    assert kind.refusal(422, answer.json()).trouble is Trouble.INPUT
    assert replicate.creates_total == 0


def test_replicate_posts_the_prediction_to_the_webhook(replicate: ReplicateSimulator) -> None:
    kind = KINDS["replicate"]
    url = replicate.url + "/_sim/stats"  # any loopback URL that answers a POST with 405 is fine
    answer = send(replicate, kind.create(REPLICATE_MODEL, RelayInput("p"), url))
    upstream_id = kind.created_id(answer.json())
    follow(replicate, upstream_id)
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline and len(replicate.callbacks) < 2:
        time.sleep(0.02)
    statuses = [delivery.body["status"] for delivery in replicate.callbacks]
    assert statuses[0] == "starting" and statuses[-1] == "succeeded"


# --- fal ----------------------------------------------------------------------------------


def test_fal_queued_requests_report_their_queue_position(fal: FalSimulator) -> None:
    fal.script("held", queue_s=60)
    first = create(fal, RelayInput("held 1"), FAL_MODEL)
    second = create(fal, RelayInput("held 2"), FAL_MODEL)
    queued = read(fal, second)
    assert (queued.phase, queued.queue_position) == (Phase.QUEUED, 1)
    assert read(fal, first).queue_position == 0


def test_fal_request_reports_logs_and_a_result(fal: FalSimulator) -> None:
    second = create(fal, RelayInput("a cat", seconds=5, width=720, height=1280), FAL_MODEL)
    assert second == f"fal-ai/kling-video/requests/{second.rsplit('/', 1)[1]}"
    seen, state = follow(fal, second)
    assert [s.phase for s in seen] == [Phase.QUEUED, Phase.RUNNING, Phase.SUCCEEDED]
    assert seen[1].logs[0] == "Loading the model" and seen[1].queue_position is None
    assert state.video_url is not None and not state.video_needs_key
    assert httpx.get(state.video_url, timeout=10).status_code == 200
    made = fal.task(second.rsplit("/", 1)[1])
    assert (made.model, made.request["aspect_ratio"]) == (FAL_MODEL, "9:16")


def test_fal_status_answers_202_until_complete(fal: FalSimulator) -> None:
    kind = KINDS["fal"]
    upstream_id = create(fal, RelayInput("p"), FAL_MODEL)
    assert send(fal, kind.status(upstream_id)).status_code == 202
    follow(fal, upstream_id)
    assert send(fal, kind.status(upstream_id)).status_code == 200


def test_fal_scripted_failure_is_a_completed_status_with_an_error(fal: FalSimulator) -> None:
    fal.script("forbidden", Outcome.FAIL, error_code="request_timeout", error_message="too long")
    upstream_id = create(fal, RelayInput("forbidden thing"), FAL_MODEL)
    _, state = follow(fal, upstream_id)
    assert (state.phase, state.error) == (Phase.FAILED, "request_timeout: too long")
    result = send(fal, Call("GET", f"/{upstream_id}"))  # the result read repeats the error
    assert result.status_code == 500 and result.json()["error_type"] == "request_timeout"


def test_fal_cancels_a_queued_request(fal: FalSimulator) -> None:
    kind = KINDS["fal"]
    upstream_id = create(fal, RelayInput("p"), FAL_MODEL)
    cancel = kind.cancel(upstream_id)
    assert cancel is not None
    answer = send(fal, cancel)
    assert answer.status_code == 202 and answer.json()["status"] == "CANCELLATION_REQUESTED"
    assert read(fal, upstream_id).phase is Phase.CANCELLED
    again = send(fal, cancel)
    assert again.json()["status"] == "ALREADY_COMPLETED"


def test_fal_keys_rate_limits_unknown_ids_and_check(fal: FalSimulator) -> None:
    kind = KINDS["fal"]
    assert send(fal, kind.check()).status_code == 404  # a good key: the request is unknown
    bad = send(fal, kind.check(), key="wrong")
    assert bad.status_code == 401
    assert kind.refusal(401, bad.json()).trouble is Trouble.KEY
    bearer = httpx.get(fal.base_url + kind.check().path, headers={"Authorization": f"Bearer {KEY}"})
    assert bearer.status_code == 401
    fal.exhaust_quota(KEY)
    broke = send(fal, kind.create(FAL_MODEL, RelayInput("p"), None))
    assert kind.refusal(broke.status_code, broke.json()).trouble is Trouble.KEY
    fal.exhausted_keys.clear()
    fal.rate_limit_burst(1, retry_after=2)
    limited = send(fal, kind.status("fal-ai/kling-video/requests/x"))
    assert limited.status_code == 429 and limited.headers["retry-after"] == "2"
    assert kind.refusal(429, limited.json()).trouble is Trouble.RETRY
    missing = send(fal, kind.status("fal-ai/kling-video/requests/no-such-request"))
    assert kind.refusal(missing.status_code, missing.json()).trouble is Trouble.GONE
    assert fal.creates_total == 0


def test_fal_refuses_a_field_the_schema_does_not_list(fal: FalSimulator) -> None:
    kind = KINDS["fal"]
    answer = send(fal, Call("POST", f"/{FAL_MODEL}", json={"prompt": "p", "seed": 1}))
    assert answer.status_code == 422
    refusal = kind.refusal(422, answer.json())
    assert refusal.trouble is Trouble.INPUT and "seed" in refusal.message
    assert fal.creates_total == 0


def test_fal_calls_the_webhook_once_when_done(fal: FalSimulator) -> None:
    kind = KINDS["fal"]
    url = fal.url + "/_sim/stats"
    answer = send(fal, kind.create(FAL_MODEL, RelayInput("p"), url))
    assert answer.status_code == 200
    follow(fal, kind.created_id(answer.json()))
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline and not fal.callbacks:
        time.sleep(0.02)
    assert [delivery.url for delivery in fal.callbacks] == [url]

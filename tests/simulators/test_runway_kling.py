"""The Runway and Kling simulators, driven through vidtask's own kinds (so the kind and the
simulator are checked against each other), plus what only the simulators do."""

from __future__ import annotations

import time
from collections.abc import Iterator

import httpx
import pytest

from tests.simulators import KlingSimulator, Op, Outcome, RunwaySimulator
from tests.simulators.base import Simulator
from vidtask.core.upstream import Phase
from vidtask.providers import KINDS
from vidtask.providers.base import Call, RelayInput, Trouble, UpstreamState
from vidtask.providers.kling import token

RUNWAY_KEY = "key_sim"
KLING_KEY = "AKsim:SKsim"


@pytest.fixture
def runway() -> Iterator[RunwaySimulator]:
    with RunwaySimulator(keys=[RUNWAY_KEY], queue_s=0.3, run_s=0.3) as simulator:
        yield simulator


@pytest.fixture
def kling() -> Iterator[KlingSimulator]:
    with KlingSimulator(keys=[KLING_KEY], queue_s=0.05, run_s=0.15) as simulator:
        yield simulator


def send(sim: Simulator, call: Call, key: str | None = None) -> httpx.Response:
    kind = KINDS[sim.name]
    default = RUNWAY_KEY if sim.name == "runway" else KLING_KEY
    headers = {**(call.headers or {}), **kind.auth(key or default)}
    return httpx.request(
        call.method, sim.base_url + call.path, json=call.json, headers=headers, timeout=10
    )


def follow(sim: Simulator, upstream_id: str) -> tuple[list[UpstreamState], UpstreamState]:
    kind = KINDS[sim.name]
    seen: list[UpstreamState] = []
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        answer = send(sim, kind.status(upstream_id))
        assert answer.status_code == 200, answer.text
        state = kind.state(sim.name, upstream_id, answer.json())
        if not seen or seen[-1].phase is not state.phase:
            seen.append(state)
        if state.phase.finished:
            return seen, state
        time.sleep(0.02)
    raise AssertionError(f"{sim.name} task {upstream_id} did not finish")


def create(sim: Simulator, request: RelayInput, model: str) -> str:
    kind = KINDS[sim.name]
    answer = send(sim, kind.create(model, request, None))
    assert answer.status_code == 200, answer.text
    assert kind.refusal_in(answer.json()) is None, answer.text
    return kind.created_id(answer.json())


# --- Runway -----------------------------------------------------------------------------


def test_runway_image_task_reports_progress_and_ends_with_an_output_url(
    runway: RunwaySimulator,
) -> None:
    request = RelayInput(
        "a cat",
        first_frame="https://i/1.png",
        last_frame="https://i/2.png",
        seconds=5,
        width=1280,
        height=720,
        seed=3,
    )
    task_id = create(runway, request, "gen3a_turbo")
    seen, state = follow(runway, task_id)
    assert [s.phase for s in seen] == [Phase.QUEUED, Phase.RUNNING, Phase.SUCCEEDED]
    assert seen[1].progress is not None and 0 <= seen[1].progress < 100
    assert state.video_url is not None and not state.video_needs_key
    video = httpx.get(state.video_url, timeout=10)
    assert video.status_code == 200 and video.content[4:8] == b"ftyp"
    made = runway.task(task_id).request
    assert made["ratio"] == "1280:720" and made["promptImage"][1]["position"] == "last"


def test_runway_text_task_and_a_scripted_failure(runway: RunwaySimulator) -> None:
    runway.script("forbidden", Outcome.FAIL, error_code="SAFETY.INPUT.TEXT", error_message="no")
    task_id = create(runway, RelayInput("forbidden thing", seconds=10), "gen4.5")
    _, state = follow(runway, task_id)
    assert state.phase is Phase.FAILED and state.error == "SAFETY.INPUT.TEXT: no"
    assert runway.requests[Op.CREATE] == 1


def test_runway_refuses_a_request_without_the_version_header(runway: RunwaySimulator) -> None:
    call = KINDS["runway"].create("gen4_turbo", RelayInput("p"), None)
    bare = httpx.post(
        runway.base_url + call.path,
        json=call.json,
        headers={"Authorization": f"Bearer {RUNWAY_KEY}"},
        timeout=10,
    )
    assert bare.status_code == 400 and "X-Runway-Version" in bare.json()["error"]
    assert runway.creates_total == 0


def test_runway_cancels_with_delete_and_the_task_reads_cancelled(
    runway: RunwaySimulator,
) -> None:
    kind = KINDS["runway"]
    task_id = create(runway, RelayInput("p"), "gen4_turbo")
    cancel = kind.cancel(task_id)
    assert cancel is not None and send(runway, cancel).status_code == 204
    _, state = follow(runway, task_id)
    assert state.phase is Phase.CANCELLED
    gone = send(runway, Call("DELETE", f"/tasks/{task_id}"))  # a finished task is deleted
    assert gone.status_code == 204
    missing = send(runway, kind.status(task_id))
    assert kind.refusal(missing.status_code, missing.json()).trouble is Trouble.GONE


def test_runway_key_errors_rate_limits_and_check(runway: RunwaySimulator) -> None:
    kind = KINDS["runway"]
    assert send(runway, kind.check()).status_code == 200
    bad = send(runway, kind.check(), key="key_no")
    assert kind.refusal(bad.status_code, bad.json()).trouble is Trouble.KEY
    runway.rate_limit_burst(1, retry_after=2)
    limited = send(runway, kind.status("x"))
    assert limited.status_code == 429 and limited.headers["retry-after"] == "2"
    assert kind.refusal(429, limited.json()).trouble is Trouble.RETRY
    wrong = send(
        runway,
        Call("POST", "/text_to_video", json={"model": "m", "promptText": "p", "duration": 7}),
    )
    assert kind.refusal(wrong.status_code, wrong.json()).trouble is Trouble.INPUT


# --- Kling ------------------------------------------------------------------------------


def test_kling_text_task_runs_submitted_processing_succeed(kling: KlingSimulator) -> None:
    request = RelayInput("a cat", seconds=10, width=1920, height=1080)
    upstream_id = create(kling, request, "kling-v1-6")
    assert upstream_id.startswith("text2video/")
    seen, state = follow(kling, upstream_id)
    assert [s.phase for s in seen][-2:] == [Phase.RUNNING, Phase.SUCCEEDED]
    assert state.video_url is not None and httpx.get(state.video_url, timeout=10).status_code == 200
    made = kling.task(upstream_id.split("/")[1]).request
    assert (made["aspect_ratio"], made["duration"]) == ("16:9", "10")


def test_kling_image_task_is_read_from_the_image_endpoint(kling: KlingSimulator) -> None:
    upstream_id = create(kling, RelayInput("p", first_frame="https://i/1.png"), "kling-v1")
    assert upstream_id.startswith("image2video/")
    _, state = follow(kling, upstream_id)
    assert state.phase is Phase.SUCCEEDED
    task_id = upstream_id.split("/")[1]
    wrong = send(kling, Call("GET", f"/videos/text2video/{task_id}"))
    assert wrong.status_code == 400 and wrong.json()["code"] == 1201


def test_kling_scripted_failure_reads_failed_with_the_message(kling: KlingSimulator) -> None:
    kling.script("forbidden", Outcome.FAIL, error_message="Failure to pass the risk control")
    _, state = follow(kling, create(kling, RelayInput("forbidden thing"), "kling-v1"))
    assert state.phase is Phase.FAILED and state.error == "Failure to pass the risk control"


def test_kling_checks_the_token_and_reads_the_envelope(kling: KlingSimulator) -> None:
    kind = KINDS["kling"]
    assert send(kling, kind.check()).json()["code"] == 0
    for bad in ("AKsim:wrong-secret", "AKother:SKsim"):
        refused = send(kling, kind.check(), key=bad)
        assert refused.status_code == 401 and refused.json()["code"] == 1000
        assert kind.refusal(401, refused.json()).trouble is Trouble.KEY
    stale = token("AKsim", "SKsim", time.time() - 3600)  # expired half an hour ago
    expired = httpx.get(
        kling.base_url + kind.check().path, headers={"Authorization": f"Bearer {stale}"}
    )
    assert expired.status_code == 401
    kling.exhaust_quota(KLING_KEY)
    broke = send(kling, kind.create("kling-v1", RelayInput("p"), None))
    assert broke.status_code == 429 and broke.json()["code"] == 1102
    assert kind.refusal(429, broke.json()).trouble is Trouble.KEY
    assert kling.creates_total == 0


def test_kling_refuses_an_undocumented_field(kling: KlingSimulator) -> None:
    kind = KINDS["kling"]
    answer = send(kling, Call("POST", "/videos/text2video", json={"prompt": "p", "seed": 1}))
    assert answer.status_code == 400 and answer.json()["code"] == 1201
    assert kind.refusal(400, answer.json()).trouble is Trouble.INPUT

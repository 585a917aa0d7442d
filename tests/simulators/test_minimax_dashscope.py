"""The MiniMax and DashScope simulators, driven through vidtask's own kinds (so the kind and the
simulator are checked against each other), plus what only the simulators do."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from tests.simulators import DashScopeSimulator, MiniMaxSimulator, Outcome
from tests.simulators.base import Simulator
from vidtask.core.upstream import Phase
from vidtask.providers import KINDS
from vidtask.providers.base import Call, RelayInput, UpstreamState

KEY = "sk-sim"


@pytest.fixture
def minimax() -> Iterator[MiniMaxSimulator]:
    with MiniMaxSimulator(keys=[KEY], queue_s=0.05, run_s=0.15) as simulator:
        yield simulator


@pytest.fixture
def dashscope() -> Iterator[DashScopeSimulator]:
    with DashScopeSimulator(keys=[KEY], queue_s=0.3, run_s=0.15) as simulator:
        yield simulator


def send(sim: Simulator, kind: str, call: Call, key: str = KEY) -> httpx.Response:
    headers = {**(call.headers or {}), **KINDS[kind].auth(key)}
    return httpx.request(
        call.method, sim.base_url + call.path, json=call.json, headers=headers, timeout=10
    )


def follow(sim: Simulator, kind: str, task_id: str) -> tuple[list[Phase], UpstreamState]:
    upstream = KINDS[kind]
    seen: list[Phase] = []
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        state = upstream.state(sim.name, task_id, send(sim, kind, upstream.status(task_id)).json())
        if not seen or seen[-1] is not state.phase:
            seen.append(state.phase)
        if state.phase.finished:
            return seen, state
        time.sleep(0.02)
    raise AssertionError(f"{kind} task {task_id} did not finish")


def create(sim: Simulator, kind: str, request: RelayInput, model: str) -> str:
    answer = send(sim, kind, KINDS[kind].create(model, request, None))
    assert answer.status_code == 200, answer.text
    assert KINDS[kind].refusal_in(answer.json()) is None, answer.text
    return KINDS[kind].created_id(answer.json())


def test_minimax_task_runs_to_a_file_whose_url_downloads_without_the_key(
    minimax: MiniMaxSimulator,
) -> None:
    request = RelayInput("a cat", first_frame="https://i/1.png", seconds=6, width=1280, height=720)
    task_id = create(minimax, "minimax", request, "MiniMax-Hailuo-02")
    seen, state = follow(minimax, "minimax", task_id)
    assert seen[-2:] == [Phase.RUNNING, Phase.SUCCEEDED] and state.then is not None
    kept = KINDS["minimax"].resolve("minimax", state, send(minimax, "minimax", state.then).json())
    assert kept.video_url is not None
    video = httpx.get(kept.video_url, timeout=10)
    assert video.status_code == 200 and video.content[4:8] == b"ftyp"
    assert minimax.task(task_id).request["resolution"] == "768P"


def test_minimax_answers_errors_with_200_and_base_resp(minimax: MiniMaxSimulator) -> None:
    kind = KINDS["minimax"]
    bad_key = send(minimax, "minimax", kind.create("m", RelayInput("p"), None), key="sk-no")
    assert bad_key.status_code == 200 and bad_key.json()["base_resp"]["status_code"] == 1004
    refusal = kind.refusal_in(bad_key.json())
    assert refusal is not None and refusal.trouble.value == "key"
    wrong = send(
        minimax,
        "minimax",
        Call("POST", "/video_generation", json={"model": "m", "prompt": "p", "duration": 7}),
    )
    assert wrong.status_code == 200 and wrong.json()["base_resp"]["status_code"] == 2013
    minimax.rate_limit_burst(1, retry_after=2)
    limited = send(minimax, "minimax", kind.status("1"))
    assert limited.json()["base_resp"]["status_code"] == 1002
    assert limited.headers["retry-after"] == "2"
    assert minimax.creates_total == 0


def test_minimax_scripted_failure_reads_as_fail_with_the_code(minimax: MiniMaxSimulator) -> None:
    minimax.script("forbidden", Outcome.FAIL, error_code=1026, error_message="input sensitive")
    task_id = create(minimax, "minimax", RelayInput("forbidden thing"), "MiniMax-Hailuo-02")
    _, state = follow(minimax, "minimax", task_id)
    assert state.phase is Phase.FAILED and state.error == "1026 input sensitive"


def test_dashscope_task_runs_pending_running_succeeded(dashscope: DashScopeSimulator) -> None:
    request = RelayInput("a cat", seconds=5, width=1280, height=720, seed=3)
    task_id = create(dashscope, "dashscope", request, "wan2.2-t2v-plus")
    seen, state = follow(dashscope, "dashscope", task_id)
    assert seen == [Phase.QUEUED, Phase.RUNNING, Phase.SUCCEEDED]
    assert state.video_url is not None and httpx.get(state.video_url, timeout=10).status_code == 200
    assert dashscope.task(task_id).request["parameters"] == {
        "size": "1280*720",
        "duration": 5,
        "seed": 3,
    }


def test_dashscope_needs_the_async_header(dashscope: DashScopeSimulator) -> None:
    call = KINDS["dashscope"].create("wan2.2-t2v-plus", RelayInput("p"), None)
    sync = send(dashscope, "dashscope", Call(call.method, call.path, json=call.json))
    assert sync.status_code == 403 and sync.json()["code"] == "AccessDenied"
    assert dashscope.creates_total == 0


def test_dashscope_cancels_a_pending_task_only(dashscope: DashScopeSimulator) -> None:
    kind = KINDS["dashscope"]
    task_id = create(dashscope, "dashscope", RelayInput("p"), "wan2.2-t2v-plus")
    cancel = kind.cancel(task_id)
    assert cancel is not None and send(dashscope, "dashscope", cancel).status_code == 200
    _, state = follow(dashscope, "dashscope", task_id)
    assert state.phase is Phase.CANCELLED
    done = create(dashscope, "dashscope", RelayInput("q"), "wan2.2-t2v-plus")
    follow(dashscope, "dashscope", done)
    refused = send(dashscope, "dashscope", Call("POST", f"/tasks/{done}/cancel"))
    assert refused.status_code == 400
    assert kind.refusal(refused.status_code, refused.json()).trouble.value == "input"


def test_dashscope_unknown_or_expired_ids_read_unknown_and_fail(
    dashscope: DashScopeSimulator,
) -> None:
    kind = KINDS["dashscope"]
    body: dict[str, Any] = send(dashscope, "dashscope", kind.status("no-such-id")).json()
    state = kind.state("dashscope", "no-such-id", body)
    assert state.phase is Phase.FAILED and state.error is not None and "24 h" in state.error
    task_id = create(dashscope, "dashscope", RelayInput("p"), "wan2.2-t2v-plus")
    follow(dashscope, "dashscope", task_id)
    dashscope.skip(25 * 3600)
    later = send(dashscope, "dashscope", kind.status(task_id)).json()
    assert later["output"]["task_status"] == "UNKNOWN"


def test_dashscope_key_errors_and_check(dashscope: DashScopeSimulator) -> None:
    kind = KINDS["dashscope"]
    assert send(dashscope, "dashscope", kind.check()).status_code == 200
    bad = send(dashscope, "dashscope", kind.check(), key="sk-no")
    assert bad.status_code == 401 and kind.refusal(401, bad.json()).trouble.value == "key"
    dashscope.exhaust_quota(KEY)
    broke = send(dashscope, "dashscope", kind.create("m", RelayInput("p"), None))
    assert kind.refusal(broke.status_code, broke.json()).trouble.value == "key"

"""The Veo (Gemini API) and Luma Dream Machine simulators, driven through vidtask's own kinds
(so the kind and the simulator are checked against each other), plus the relay engine keeping a
Veo result that needs the key, and never sending the key to another host."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.simulators import CallbackSink, LumaSimulator, Op, Outcome, VeoSimulator
from tests.simulators.base import JSONObject, SimTask, Simulator
from tests.simulators.script import Phase as SimPhase
from vidtask.core.task import Status, Task, TaskSpec
from vidtask.core.upstream import Phase
from vidtask.dispatch.relay import RelayPoller
from vidtask.providers import KINDS
from vidtask.providers.base import Call, RelayInput, Trouble, UpstreamState
from vidtask.render.assets import AssetPolicy
from vidtask.settings import ProviderSettings
from vidtask.storage.local import LocalArtifacts
from vidtask.store.sqlite import SQLiteStore

KEY = "sim-key-1"
LOOPBACK = AssetPolicy(roots=(), allow_networks=("127.0.0.0/8",), timeout_s=10)


@pytest.fixture
def veo() -> Iterator[VeoSimulator]:
    with VeoSimulator(keys=[KEY], queue_s=0.05, run_s=0.2) as simulator:
        yield simulator


@pytest.fixture
def luma() -> Iterator[LumaSimulator]:
    with LumaSimulator(keys=[KEY], queue_s=0.2, run_s=0.2) as simulator:
        yield simulator


def send(sim: Simulator, call: Call, key: str = KEY) -> httpx.Response:
    headers = {**(call.headers or {}), **KINDS[sim.name].auth(key)}
    return httpx.request(
        call.method, sim.base_url + call.path, json=call.json, headers=headers, timeout=10
    )


def create(sim: Simulator, request: RelayInput, model: str, callback: str | None = None) -> str:
    kind = KINDS[sim.name]
    answer = send(sim, kind.create(model, request, callback))
    assert answer.is_success, answer.text
    return kind.created_id(answer.json())


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


def trouble(sim: Simulator, answer: httpx.Response) -> Trouble:
    return KINDS[sim.name].refusal(answer.status_code, answer.json()).trouble


# --- Veo --------------------------------------------------------------------------------


def test_veo_operation_runs_until_done_and_its_video_needs_the_key(veo: VeoSimulator) -> None:
    request = RelayInput("a cat", seconds=7, width=1080, height=1920)
    name = create(veo, request, "veo-3.0-generate-001")
    assert name.startswith("models/veo-3.0-generate-001/operations/")
    seen, state = follow(veo, name)
    assert [s.word for s in seen] == ["running", "done"]
    assert state.video_url is not None and state.video_needs_key
    assert state.video_url.startswith(veo.base_url + "/files/")
    assert httpx.get(state.video_url, timeout=10).status_code == 403  # no key, no video
    keyed = httpx.get(state.video_url, headers=KINDS["veo"].auth(KEY), timeout=10)
    assert keyed.status_code == 200 and keyed.content[4:8] == b"ftyp"
    made = veo.task(name).request
    assert made["parameters"] == {
        "aspectRatio": "9:16",
        "resolution": "1080p",
        "durationSeconds": 6,  # 7 s lies between 6 and 8: the shorter
    }


def test_veo_scripted_failure_reads_error_with_the_message(veo: VeoSimulator) -> None:
    veo.script("forbidden", Outcome.FAIL, error_code=3, error_message="prompt was blocked")
    _, state = follow(veo, create(veo, RelayInput("forbidden thing"), "veo-3.0-fast-generate-001"))
    assert state.word == "error" and state.phase is Phase.FAILED
    assert state.error == "code 3: prompt was blocked"
    assert veo.requests[Op.CREATE] == 1


def test_veo_key_errors_rate_limits_unknown_ids_and_check(veo: VeoSimulator) -> None:
    kind = KINDS["veo"]
    assert send(veo, kind.check()).status_code == 200
    bad = send(veo, kind.check(), key="not-a-key")
    assert bad.status_code == 403 and bad.json()["error"]["status"] == "PERMISSION_DENIED"
    assert trouble(veo, bad) is Trouble.KEY
    veo.rate_limit_burst(1, retry_after=3)
    limited = send(veo, kind.status("models/veo-3.0-generate-001/operations/x"))
    assert limited.status_code == 429 and limited.headers["retry-after"] == "3"
    assert trouble(veo, limited) is Trouble.RETRY
    missing = send(veo, kind.status("models/veo-3.0-generate-001/operations/nope"))
    assert missing.status_code == 404 and trouble(veo, missing) is Trouble.GONE
    assert kind.cancel("models/veo-3.0-generate-001/operations/x") is None


def test_veo_refuses_an_undocumented_parameter(veo: VeoSimulator) -> None:
    body = {"instances": [{"prompt": "p"}], "parameters": {"seed": 1}}
    answer = send(veo, Call("POST", "/models/veo-3.0-generate-001:predictLongRunning", json=body))
    assert answer.status_code == 400 and trouble(veo, answer) is Trouble.INPUT
    assert veo.creates_total == 0
    assert {"seed", "first_frame"} <= KINDS["veo"].refuses


# --- the relay engine with Veo's keyed result --------------------------------------------


class _ForeignResultVeo(VeoSimulator):
    """A Veo whose operations name a video on another server (``elsewhere``)."""

    elsewhere: VeoSimulator

    def view(self, task: SimTask, word: str) -> JSONObject:
        body = super().view(task, word)
        if task.phase is SimPhase.SUCCEEDED:
            other = self.elsewhere
            twin = other.tasks.get(task.id)
            if twin is None:  # a finished task of the same key on the other server
                twin = other.new_task(
                    task_id=task.id, key=KEY, prompt="", model=task.model, request={}
                )
                twin.phase = SimPhase.SUCCEEDED
                twin.finished_at = other.now()
            url = f"{other.base_url}/files/{twin.file_token}:download?alt=media"
            body["response"]["generateVideoResponse"]["generatedSamples"] = [
                {"video": {"uri": url}}
            ]
        return body


def relay(tmp_path: Path, base_url: str, monkeypatch: pytest.MonkeyPatch) -> tuple[Any, Any]:
    monkeypatch.setenv("VEO_RELAY_KEY", KEY)
    settings = ProviderSettings.model_validate(
        {
            "name": "veo",
            "kind": "veo",
            "base_url": base_url,
            "api_key_env": ["VEO_RELAY_KEY"],
            "models": {"veo-relay": "veo-3.0-generate-001"},
            "poll_interval_s": 0.1,
        }
    )
    store = SQLiteStore(tmp_path / "vidtask.db")
    poller = RelayPoller(
        worker_id="relay-test",
        store=store,
        artifacts=LocalArtifacts(tmp_path / "artifacts"),
        scratch_dir=tmp_path / "scratch",
        providers=(settings,),
        asset_policy=LOOPBACK,
        claim_every_s=0.05,
        store_retry_s=5,
    )
    return store, poller


def run_one(store: SQLiteStore, poller: RelayPoller) -> Task:
    spec = TaskSpec("veo-relay", {"prompt": "a cat", "seconds": 4})
    task, _ = store.create(Task.create(spec, owner="alice", now=time.time()))
    poller.start()
    try:
        deadline = time.monotonic() + 60
        while True:
            now = store.get(task.id)
            assert now is not None
            if now.terminal:
                return now
            assert time.monotonic() < deadline, f"task still {now.status}"
            time.sleep(0.05)
    finally:
        poller.stop()


@pytest.mark.slow
def test_the_relay_keeps_a_veo_video_fetched_with_the_key(
    veo: VeoSimulator, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    task = run_one(*relay(tmp_path, veo.base_url, monkeypatch))
    assert task.status is Status.COMPLETED, task.error
    assert veo.creates == {KEY: 1} and veo.requests[Op.CONTENT] == 1


@pytest.mark.slow
def test_the_relay_never_sends_the_key_to_another_host(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with (
        VeoSimulator(keys=[KEY]) as other,
        _ForeignResultVeo(keys=[KEY], queue_s=0.05, run_s=0.1) as veo,
    ):
        veo.elsewhere = other
        task = run_one(*relay(tmp_path, veo.base_url, monkeypatch))
    # The other server takes the same key, so only a keyless request is refused there.
    assert task.status is Status.FAILED and "could not be downloaded" in str(task.error)
    assert other.requests[Op.CONTENT] >= 1 and veo.requests[Op.CONTENT] == 0


# --- Luma -------------------------------------------------------------------------------


def test_luma_generation_dreams_completes_and_calls_back() -> None:
    with (
        LumaSimulator(keys=[KEY], queue_s=0.2, run_s=0.2) as luma,
        CallbackSink() as sink,
    ):
        request = RelayInput(
            "a cat",
            first_frame="https://i/1.png",
            last_frame="https://i/2.png",
            seconds=9,
            width=1920,
            height=1080,
        )
        gen_id = create(luma, request, "ray-2", callback=sink.url + "/hook")
        seen, state = follow(luma, gen_id)
        assert [s.word for s in seen] == ["queued", "dreaming", "completed"]
        assert [s.phase for s in seen] == [Phase.QUEUED, Phase.RUNNING, Phase.SUCCEEDED]
        assert state.video_url is not None and not state.video_needs_key
        assert httpx.get(state.video_url, timeout=10).status_code == 200
        made = luma.task(gen_id).request
        assert (made["aspect_ratio"], made["resolution"], made["duration"]) == (
            "16:9",
            "1080p",
            "9s",
        )
        assert made["keyframes"]["frame1"] == {"type": "image", "url": "https://i/2.png"}
        states = [body["state"] for body in sink.wait(2)]
        assert states == ["dreaming", "completed"]


def test_luma_scripted_failure_reads_the_failure_reason(luma: LumaSimulator) -> None:
    luma.script("forbidden", Outcome.FAIL, error_message="prompt not allowed")
    _, state = follow(luma, create(luma, RelayInput("forbidden thing"), "ray-flash-2"))
    assert state.phase is Phase.FAILED and state.error == "prompt not allowed"


def test_luma_key_errors_rate_limits_unknown_ids_and_check(luma: LumaSimulator) -> None:
    kind = KINDS["luma"]
    assert send(luma, kind.check()).json() == {"credit_balance": 10000.0}
    bad = send(luma, kind.check(), key="not-a-key")
    assert bad.status_code == 401 and trouble(luma, bad) is Trouble.KEY
    luma.rate_limit_burst(1, retry_after=2)
    limited = send(luma, kind.status("x"))
    assert limited.status_code == 429 and limited.headers["retry-after"] == "2"
    assert trouble(luma, limited) is Trouble.RETRY
    missing = send(luma, kind.status("no-such-generation"))
    assert missing.status_code == 404 and trouble(luma, missing) is Trouble.GONE
    luma.exhaust_quota(KEY)
    broke = send(luma, kind.create("ray-2", RelayInput("p"), None))
    assert broke.status_code == 402 and trouble(luma, broke) is Trouble.KEY
    assert luma.creates_total == 0


def test_luma_delete_removes_a_generation_and_nothing_cancels(luma: LumaSimulator) -> None:
    kind = KINDS["luma"]
    gen_id = create(luma, RelayInput("p"), "ray-2")
    assert kind.cancel(gen_id) is None and not kind.can_cancel
    assert send(luma, Call("DELETE", f"/generations/{gen_id}")).status_code == 204
    gone = send(luma, kind.status(gen_id))
    assert gone.status_code == 404 and trouble(luma, gone) is Trouble.GONE


def test_luma_refuses_an_undocumented_field(luma: LumaSimulator) -> None:
    answer = send(
        luma, Call("POST", "/generations", json={"model": "ray-2", "prompt": "p", "seed": 1})
    )
    assert answer.status_code == 400 and "seed" in answer.json()["detail"]
    assert trouble(luma, answer) is Trouble.INPUT
    assert KINDS["luma"].refuses == {"seed", "reference_images"}

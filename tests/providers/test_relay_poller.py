"""The relay poller against the provider simulators over real HTTP on loopback, with a real
SQLite store and artifact folder: submit once, poll, keep the result, fail closed."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import av
import httpx
import pytest

from tests.simulators import ArkSimulator, NewAPISimulator, OpenAIVideosSimulator, Outcome
from vidtask.core.task import Status, Task, TaskSpec
from vidtask.dispatch.relay import RelayPoller
from vidtask.providers import KINDS
from vidtask.providers.client import ProviderClient
from vidtask.render.assets import AssetPolicy
from vidtask.settings import ProviderSettings
from vidtask.storage.local import LocalArtifacts
from vidtask.store.sqlite import SQLiteStore

pytestmark = pytest.mark.slow

KEY, SPARE = "sk-relay-1", "sk-relay-2"
MODEL = "seedance-pro"
LOOPBACK = AssetPolicy(roots=(), allow_networks=("127.0.0.0/8",), timeout_s=10)


@pytest.fixture
def keys(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RELAY_KEY_1", KEY)
    monkeypatch.setenv("RELAY_KEY_2", SPARE)


@pytest.fixture
def store(tmp_path: Path) -> SQLiteStore:
    return SQLiteStore(tmp_path / "vidtask.db")


@pytest.fixture
def ark() -> Iterator[ArkSimulator]:
    with ArkSimulator(keys=[KEY, SPARE], queue_s=0.05, run_s=0.3) as sim:
        yield sim


def provider(name: str, kind: str, base_url: str, **extra: Any) -> ProviderSettings:
    fields: dict[str, Any] = {
        "name": name,
        "kind": kind,
        "base_url": base_url,
        "api_key_env": ["RELAY_KEY_1"],
        "models": {MODEL: "doubao-seedance-1-0-pro-250528"},
        "poll_interval_s": 0.1,
        **extra,
    }
    return ProviderSettings.model_validate(fields)


def poller(store: SQLiteStore, tmp_path: Path, *providers: ProviderSettings) -> RelayPoller:
    return RelayPoller(
        worker_id="relay-test",
        store=store,
        artifacts=LocalArtifacts(tmp_path / "artifacts"),
        scratch_dir=tmp_path / "scratch",
        providers=providers,
        asset_policy=LOOPBACK,
        claim_every_s=0.05,
        store_retry_s=5,
    )


def submit(store: SQLiteStore, prompt: str = "a cat playing the piano") -> Task:
    spec = TaskSpec(MODEL, {"prompt": prompt, "seconds": 5, "width": 1280, "height": 720})
    task, _ = store.create(Task.create(spec, owner="alice", now=time.time()))
    return task


def current(store: SQLiteStore, task_id: str) -> Task:
    task = store.get(task_id)
    assert task is not None
    return task


def settled(store: SQLiteStore, task_id: str, timeout: float = 30) -> Task:
    deadline = time.monotonic() + timeout
    while True:
        task = store.get(task_id)
        assert task is not None
        if task.terminal:
            return task
        assert time.monotonic() < deadline, f"task still {task.status} at stage {task.stage}"
        time.sleep(0.05)


def test_a_relayed_task_is_submitted_once_polled_and_its_video_kept(
    keys: None, store: SQLiteStore, ark: ArkSimulator, tmp_path: Path
) -> None:
    relay = poller(store, tmp_path, provider("seedance", "ark", ark.base_url))
    relay.start()
    try:
        task = settled(store, submit(store).id)
    finally:
        relay.stop()
    assert task.status is Status.COMPLETED, task.error
    assert ark.creates_total == 1 and ark.creates == {KEY: 1}
    upstream = task.external_ref["checkpoint"]["upstream"]
    assert upstream["provider"] == "seedance" and upstream["id"] in ark.tasks
    assert task.external_ref["checkpoint"]["upstream_video_url"].startswith(ark.url)
    result = task.result or {}
    video = tmp_path / "artifacts" / task.id / result["video"]
    with av.open(str(video)) as container:
        assert container.streams.video[0].codec_context.width == 320
    assert result["metadata"]["width"] == 320 and result["metadata"]["has_audio"] is True
    assert result["cover"] and result["thumbnail"] and result["spritesheet"]
    assert (video.parent / "last_frame.png").read_bytes()[:4] == b"\x89PNG"
    sent = next(iter(ark.tasks.values())).request
    assert sent["model"] == "doubao-seedance-1-0-pro-250528" and sent["ratio"] == "16:9"


@pytest.mark.parametrize(
    ("outcome", "code", "words"),
    [
        (Outcome.FAIL, "upstream_error", "seedance:"),
        (Outcome.UNKNOWN_STATUS, "upstream_error", "which vidtask does not know"),
        (Outcome.EXPIRE, "expired", "expired upstream"),
        (Outcome.RESULT_404, "upstream_error", "could not be downloaded"),
        (Outcome.RESULT_TRUNCATED, "upstream_error", "could not be downloaded"),
    ],
)
def test_upstream_failures_end_the_task_with_a_clear_error(
    keys: None,
    store: SQLiteStore,
    ark: ArkSimulator,
    tmp_path: Path,
    outcome: Outcome,
    code: str,
    words: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr("vidtask.dispatch.relay_results.DOWNLOAD_TRIES", 2)
    ark.script("", outcome, bad_downloads=None)
    relay = poller(store, tmp_path, provider("seedance", "ark", ark.base_url))
    relay.start()
    try:
        task = settled(store, submit(store).id)
    finally:
        relay.stop()
    assert task.status is Status.FAILED and task.error is not None
    assert task.error["code"] == code and words in task.error["message"], task.error
    assert ark.creates_total == 1
    assert not list((tmp_path / "artifacts").glob(f"{task.id}/*/*"))


def test_rate_limits_and_server_errors_are_retried_and_a_dead_key_is_parked(
    keys: None, store: SQLiteStore, ark: ArkSimulator, tmp_path: Path
) -> None:
    ark.revoke(KEY)
    ark.rate_limit_burst(2, retry_after=1)
    ark.server_errors(2)
    settings = provider("seedance", "ark", ark.base_url, api_key_env=["RELAY_KEY_1", "RELAY_KEY_2"])
    relay = poller(store, tmp_path, settings)
    relay.start()
    try:
        task = settled(store, submit(store).id)
        parked = relay._clients["seedance"].keys.parked()
    finally:
        relay.stop()
    assert task.status is Status.COMPLETED, task.error
    assert ark.creates == {SPARE: 1}
    assert [p.label for p in parked] == ["RELAY_KEY_1"]
    assert KEY not in str(task.external_ref) and KEY not in str(task.error)


def test_a_create_that_keeps_failing_goes_to_the_next_provider(
    keys: None, store: SQLiteStore, ark: ArkSimulator, tmp_path: Path
) -> None:
    with OpenAIVideosSimulator(keys=[KEY], queue_s=0.05, run_s=0.2) as openai:
        ark.server_errors(50)
        relay = poller(
            store,
            tmp_path,
            provider("seedance", "ark", ark.base_url),
            provider("backup", "openai_videos", openai.base_url),
        )
        relay.start()
        try:
            task = settled(store, submit(store).id)
        finally:
            relay.stop()
        assert task.status is Status.COMPLETED, task.error
        assert task.external_ref["checkpoint"]["upstream"]["provider"] == "backup"
        assert openai.creates_total == 1


def test_a_refused_input_is_not_sent_elsewhere(
    keys: None, store: SQLiteStore, ark: ArkSimulator, tmp_path: Path
) -> None:
    with OpenAIVideosSimulator(keys=[KEY]) as openai:
        models = {MODEL: "no-such-model"}
        relay = poller(
            store,
            tmp_path,
            provider("seedance", "ark", ark.base_url, models=models),
            provider("backup", "openai_videos", openai.base_url),
        )
        ark.models = frozenset({"doubao-seedance-1-0-pro-250528"})
        relay.start()
        try:
            task = settled(store, submit(store).id)
        finally:
            relay.stop()
        assert task.status is Status.FAILED and task.error is not None
        assert "seedance refused the task" in task.error["message"]
        assert openai.creates_total == 0


def test_newapi_unknown_fails_after_the_grace(
    keys: None, store: SQLiteStore, tmp_path: Path
) -> None:
    with NewAPISimulator(keys=[KEY], queue_s=0.05, run_s=0.2) as newapi:
        newapi.script("", Outcome.UNKNOWN_STATUS, status_word="unknown")
        settings = provider("relay", "newapi", newapi.base_url, unknown_grace_s=0.5)
        relay = poller(store, tmp_path, settings)
        relay.start()
        try:
            task = settled(store, submit(store).id)
        finally:
            relay.stop()
    assert task.status is Status.FAILED and task.error is not None
    assert "lost track" in task.error["message"] and "'unknown'" in task.error["message"]


def test_cancel_stops_a_queued_ark_task_upstream(
    keys: None, store: SQLiteStore, tmp_path: Path
) -> None:
    with ArkSimulator(keys=[KEY], queue_s=30, run_s=1) as ark:
        relay = poller(store, tmp_path, provider("seedance", "ark", ark.base_url))
        relay.start()
        try:
            task = submit(store)
            deadline = time.monotonic() + 10
            while not (store.get(task.id) or task).external_ref.get("checkpoint"):
                assert time.monotonic() < deadline
                time.sleep(0.05)
            store.request_cancel(task.id, "alice", time.time())
            done = settled(store, task.id)
        finally:
            relay.stop()
        assert done.status is Status.CANCELLED and done.error is not None
        assert "the upstream task was stopped" in done.error["message"]
        (upstream,) = ark.tasks.values()
        assert upstream.phase.value == "cancelled"


def test_a_restarted_poller_resumes_the_saved_upstream_task(
    keys: None, store: SQLiteStore, tmp_path: Path
) -> None:
    with ArkSimulator(keys=[KEY], queue_s=0.05, run_s=1.5) as ark:
        settings = provider("seedance", "ark", ark.base_url)
        first = poller(store, tmp_path, settings)
        first.start()
        task = submit(store)
        deadline = time.monotonic() + 10
        while ark.creates_total == 0 or not (store.get(task.id) or task).external_ref:
            assert time.monotonic() < deadline
            time.sleep(0.02)
        first.stop()  # hands the task back with its upstream id saved
        second = poller(store, tmp_path, settings)
        second.start()
        try:
            done = settled(store, task.id)
        finally:
            second.stop()
        assert done.status is Status.COMPLETED, done.error
        assert ark.creates_total == 1


@pytest.mark.parametrize("kind", ["ark", "openai", "newapi"])
def test_check_tells_working_and_refused_keys_apart(
    keys: None, kind: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    simulators = {"ark": ArkSimulator, "openai": OpenAIVideosSimulator, "newapi": NewAPISimulator}
    upstream = {"ark": "ark", "openai": "openai_videos", "newapi": "newapi"}[kind]
    with simulators[kind](keys=[KEY]) as sim:
        settings = provider("p", upstream, sim.base_url, api_key_env=["RELAY_KEY_1", "RELAY_KEY_2"])

        async def check() -> list[tuple[str, str | None]]:
            async with httpx.AsyncClient() as http:
                return await ProviderClient(settings, KINDS[upstream], http).check()

        (first, ok), (second, refused) = asyncio.run(check())
    assert (first, ok, second) == ("RELAY_KEY_1", None, "RELAY_KEY_2")
    assert refused is not None and "401" in refused and SPARE not in refused


def test_newapi_happy_path_keeps_the_documented_url(
    keys: None, store: SQLiteStore, tmp_path: Path
) -> None:
    with NewAPISimulator(keys=[KEY], queue_s=0.05, run_s=0.2) as newapi:
        relay = poller(store, tmp_path, provider("relay", "newapi", newapi.base_url))
        relay.start()
        try:
            task = settled(store, submit(store).id)
        finally:
            relay.stop()
        assert task.status is Status.COMPLETED, task.error
        assert newapi.creates_total == 1
        assert (task.result or {})["metadata"]["width"] == 320


def test_max_concurrency_holds_and_the_rest_wait_their_turn(
    keys: None, store: SQLiteStore, tmp_path: Path
) -> None:
    with ArkSimulator(keys=[KEY], queue_s=0.05, run_s=0.6) as ark:
        relay = poller(
            store, tmp_path, provider("seedance", "ark", ark.base_url, max_concurrency=2)
        )
        relay.start()
        try:
            ids = [submit(store, f"task {n}").id for n in range(5)]
            most = 0
            deadline = time.monotonic() + 60
            while not all(current(store, i).terminal for i in ids):
                assert time.monotonic() < deadline
                running = [t for t in ark.tasks.values() if t.phase.value in ("queued", "running")]
                most = max(most, len(running))
                time.sleep(0.02)
        finally:
            relay.stop()
        assert most <= 2 and ark.creates_total == 5
        assert all(current(store, i).status is Status.COMPLETED for i in ids)


def test_a_crash_while_keeping_the_result_ends_the_task_rather_than_leaving_it_stuck(
    tmp_path: Path, store: SQLiteStore, ark: ArkSimulator, keys: None
) -> None:
    """The scratch folder cannot be made (a file stands in its place): the poller's own failure
    ends the task with ``upstream_error``; before, the lease it renewed for all its tasks kept
    the task ``in_progress`` for ever."""
    relay = poller(store, tmp_path, provider("ark", "ark", ark.base_url))
    (tmp_path / "scratch").write_text("not a folder")
    task = submit(store)
    relay.start()
    try:
        ended = settled(store, task.id)
    finally:
        relay.stop(timeout=10)
    assert ended.status is Status.FAILED and ended.error is not None
    assert ended.error["code"] == "upstream_error"
    assert "relay failed" in ended.error["message"]
    assert ark.creates_total == 1

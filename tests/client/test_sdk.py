"""The SDK, sync and async, against a live server for every call."""

from __future__ import annotations

import asyncio
import json
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from standardwebhooks.webhooks import Webhook

from tests.integration.conftest import Server
from tests.integration.timelines import long_render, tiny
from tests.webhooks.receiver import Receiver
from vidtask.client import AsyncClient, Client
from vidtask.client._common import WaitMode
from vidtask.core import errors

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    base = tmp_path_factory.mktemp("sdk")
    assets = base / "assets"
    shutil.copytree(Path(__file__).resolve().parents[2] / "examples" / "assets", assets)
    server = Server(
        base / "data",
        assets,
        VIDTASK_ASSET_ALLOW_NETWORKS=json.dumps(["127.0.0.0/8"]),
    ).start()
    yield server
    server.stop()


@pytest.fixture
def sdk(live: Server) -> Iterator[Client]:
    with Client(live.url) as client:
        yield client


@pytest.mark.parametrize("mode", ["auto", "sse", "long-poll", "poll"])
def test_submit_and_wait_every_way(sdk: Client, mode: WaitMode) -> None:
    task = sdk.submit(tiny(), idempotency_key=f"wait-{mode}")
    assert task.status == "queued" and task.version == 1
    seen: list[int] = []
    done = sdk.wait(task.id, timeout=60, mode=mode, on_update=lambda t: seen.append(t.version))
    assert done.status == "completed" and done.result and done.result.video_url
    assert seen == sorted(seen) and seen[-1] == done.version
    assert sdk.submit(tiny(), idempotency_key=f"wait-{mode}").id == task.id  # replay


def test_wait_times_out_with_timeout_error(sdk: Client) -> None:
    task = sdk.submit(long_render(120))  # seconds of rendering even on a fast machine
    with pytest.raises(TimeoutError, match=task.id):
        sdk.wait(task.id, timeout=0.5)
    assert sdk.cancel(task.id).cancel_requested or sdk.get(task.id).terminal


def test_get_list_cancel_delete_and_errors_with_codes(sdk: Client) -> None:
    ids = [sdk.submit(tiny(), model="timeline").id for _ in range(5)]
    listed = [t.id for t in sdk.list_tasks(page_size=2)]  # auto-paging, 2 per page
    assert listed[:5] == ids[::-1]
    for task_id in ids:
        sdk.wait(task_id, timeout=60)
    sdk.delete(ids[0])
    with pytest.raises(errors.NotFound) as missing:
        sdk.get(ids[0])
    assert missing.value.code == "not_found"
    with pytest.raises(errors.InvalidRequest) as bad:
        sdk.submit({"tracks": "nope"})
    assert bad.value.code == "invalid_request" and (bad.value.param or "").startswith("input")
    running = sdk.submit(long_render(120))
    assert sdk.cancel(running.id).id == running.id
    assert sdk.wait(running.id, timeout=60).status == "cancelled"


def test_events_of_one_task_and_of_the_key(sdk: Client) -> None:
    task = sdk.submit(tiny())
    events = list(sdk.events(task.id))
    assert [e.id for e in events] == list(range(1, events[-1].id + 1))
    assert events[-1].type == "task.completed" and events[-1].task.terminal
    resumed = list(sdk.events(task.id, after=events[-2].id))
    assert [e.id for e in resumed] == [events[-1].id]
    for event in sdk.events(after=0, status=["completed"]):
        assert event.task.status == "completed"
        if event.task.id == task.id:
            break


def test_download_streams_and_resumes_from_a_part_file(sdk: Client, tmp_path: Path) -> None:
    task = sdk.wait(sdk.submit(tiny()).id, timeout=60)
    whole = sdk.download(task, tmp_path / "whole.mp4")
    data = whole.read_bytes()
    assert data[4:8] == b"ftyp"
    part = tmp_path / "resumed.mp4.part"
    part.write_bytes(data[:1000])
    resumed = sdk.download(task, tmp_path / "resumed.mp4")
    assert resumed.read_bytes() == data and not part.exists()
    cover = sdk.download(task, tmp_path / "cover.jpg", variant="cover")
    assert cover.read_bytes()[:2] == b"\xff\xd8"
    with pytest.raises(errors.Conflict):
        sdk.download(sdk.submit(long_render(120)), tmp_path / "not-yet.mp4")


def test_webhook_calls(sdk: Client) -> None:
    with Receiver() as receiver:
        endpoint = sdk.create_webhook(receiver.url, events=["task.completed"], description="ci")
        assert endpoint.secret and endpoint.id in [e.id for e in sdk.list_webhooks()]
        delivery = sdk.test_webhook(endpoint.id)
        got = receiver.wait_for(1)[0]
        assert Webhook(endpoint.secret).verify(got.body, got.headers)["type"] == "webhook.test"
        assert sdk.get_delivery(delivery.id).id == delivery.id
        assert delivery.id in [d.id for d in sdk.deliveries(endpoint_id=endpoint.id)]
        assert sdk.resend_delivery(delivery.id).status == "pending"
        receiver.wait_for(2)
        assert sdk.task_webhook_secret().startswith("whsec_")
        sdk.delete_webhook(endpoint.id)
        with pytest.raises(errors.NotFound):
            sdk.test_webhook(endpoint.id)


def test_async_client_covers_the_same_calls(live: Server, tmp_path: Path) -> None:
    async def main() -> None:
        async with AsyncClient(live.url) as client:
            task = await client.submit(tiny())
            assert (await client.get(task.id)).id == task.id
            events = [e async for e in client.events(task.id)]
            assert events[-1].task.status == "completed"
            for mode in ("sse", "long-poll", "poll"):
                done = await client.wait((await client.submit(tiny())).id, mode=mode, timeout=60)
                assert done.status == "completed"
            listed = [t.id async for t in client.list_tasks(page_size=1)]
            assert task.id in listed
            path = await client.download(events[-1].task, tmp_path / "a.mp4")
            assert path.stat().st_size > 0
            with pytest.raises(errors.NotFound):
                await client.get("vt_missing")
            running = await client.submit(long_render(120))
            await client.cancel(running.id)
            assert (await client.wait(running.id, timeout=60)).status == "cancelled"
            await client.delete(running.id)
            with Receiver() as receiver:
                endpoint = await client.create_webhook(receiver.url)
                delivery = await client.test_webhook(endpoint.id)
                receiver.wait_for(1)
                assert (await client.get_delivery(delivery.id)).event_type == "webhook.test"
                assert [d.id async for d in client.deliveries(endpoint_id=endpoint.id)]
                await client.resend_delivery(delivery.id)
                assert len(await client.list_webhooks()) >= 1
                await client.delete_webhook(endpoint.id)
            assert (await client.task_webhook_secret()).startswith("whsec_")

    asyncio.run(main())

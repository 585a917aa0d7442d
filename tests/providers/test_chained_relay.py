"""Two vidtask servers in a chain: the second relays to the first as a New API upstream and as a
Scenext upstream (seeds 002 and 003). A client polling the second in seed 003's shape and an MCP
agent on the second (``query_video_status``, ``query_video_task``) follow the first's render to
its end: every status word on the way is one the dialect documents (New API's own chained-relay
bug is an ``unknown`` the next hop rejects), progress never goes back, the first's preview frames
reach the second's task as its own files, and the result is the first's video, kept again.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from typing import Any

import anyio
import httpx
import pytest

from tests.integration.conftest import Server
from tests.mcp_server.conftest import http_client, new_key, structured

pytestmark = [pytest.mark.slow, pytest.mark.timeout(300)]

KEY_ENV = "CHAIN_FIRST_KEY"
#: Seed 003's status words: nothing else may reach a client of the second server.
SEED_003_WORDS = ("queued", "in_progress", "completed", "failed")
ACTIVE = ("queued", "in_progress")
PROMPT = "How a relay chain works\n\nEach hop keeps its own copy."


@pytest.fixture(scope="module")
def chain(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Server, Server]]:
    base = tmp_path_factory.mktemp("chain")
    (base / "assets").mkdir()
    first_key = new_key(base / "first", "second-server")  # the second's key at the first
    # Both on loopback: the first may call the second's notify_url there.
    first = Server(
        base / "first", base / "assets", VIDTASK_ASSET_ALLOW_NETWORKS="127.0.0.0/8"
    ).start()
    providers = [
        {
            "name": "first-newapi",
            "kind": "newapi",
            "base_url": first.url + "/v1",
            "api_key_env": KEY_ENV,
            "models": {"chain-newapi": "slides"},
            "poll_interval_s": 0.3,
        },
        {
            "name": "first-scenext",
            "kind": "scenext",
            "base_url": first.url + "/api",
            "api_key_env": KEY_ENV,
            "models": {"chain-scenext": "slides"},
            "poll_interval_s": 0.3,
        },
    ]
    second = Server(
        base / "second",
        base / "assets",
        VIDTASK_PROVIDERS=json.dumps(providers),
        VIDTASK_ASSET_ALLOW_NETWORKS="127.0.0.0/8",
        **{KEY_ENV: first_key},
    )
    second.env["VIDTASK_PUBLIC_URL"] = second.url  # Scenext's notify_url comes back here
    try:
        second.start()
        yield first, second
    finally:
        second.stop()
        first.stop()


def first_auth(second: Server) -> dict[str, str]:
    """The key the second server holds for the first (its tasks there belong to it)."""
    return {"Authorization": f"Bearer {second.env[KEY_ENV]}"}


def follow_in_seed_003_shape(client: httpx.Client, task_id: str) -> list[dict[str, Any]]:
    """Poll ``GET /v1/video/generations/{id}`` as seed 003's clients do, until the end."""
    seen: list[dict[str, Any]] = []
    deadline = time.monotonic() + 120
    while not seen or seen[-1]["status"] in ACTIVE:
        assert time.monotonic() < deadline, seen[-1:]
        answer = client.get(f"/v1/video/generations/{task_id}")
        assert answer.status_code == 200, answer.text
        seen.append(answer.json())
        time.sleep(0.1)
    return seen


@pytest.mark.parametrize("model", ["chain-newapi", "chain-scenext"])
def test_a_seed_003_client_of_the_second_server_follows_the_first_servers_render(
    chain: tuple[Server, Server], model: str
) -> None:
    first, second = chain
    with httpx.Client(base_url=second.url, timeout=30) as client:
        created = client.post("/v1/video/generations", json={"model": model, "prompt": PROMPT})
        assert created.status_code == 200, created.text
        task_id = created.json()["task_id"]
        seen = follow_in_seed_003_shape(client, task_id)
        words = [answer["status"] for answer in seen]
        assert set(words) <= set(SEED_003_WORDS), words
        assert words[-1] == "completed", seen[-1].get("error")
        # queued, then in_progress, then completed: never back to an earlier word.
        assert words == sorted(words, key=SEED_003_WORDS.index), words
        final = seen[-1]
        assert final["url"].startswith(second.url), final["url"]  # the second's own copy
        assert final["metadata"]["width"] > 0 and final["metadata"]["duration"] > 0
        video = client.get(final["url"])
        assert video.status_code == 200 and video.content[4:8] == b"ftyp"

        native = client.get(f"/v1/tasks/{task_id}").json()
        upstream = native["upstream"]
        assert upstream["provider"] == model.replace("chain-", "first-")
    with httpx.Client(base_url=first.url, headers=first_auth(second), timeout=30) as client:
        rendered = client.get(f"/v1/tasks/{upstream['task_id']}").json()
    assert rendered["status"] == "completed" and rendered["model"] == "slides"
    assert rendered["result"]["metadata"]["duration"] == final["metadata"]["duration"]
    if model == "chain-scenext":
        # Scenext passes the first's preview frames on; the second serves them as its own.
        assert native["previews"], native
        for frame in native["previews"]:
            image = httpx.get(frame["url"], timeout=30)  # a signed link, no key needed
            assert frame["url"].startswith(second.url) and image.status_code == 200


def test_an_mcp_agent_on_the_second_server_follows_a_relayed_render(
    chain: tuple[Server, Server],
) -> None:
    _, second = chain
    with httpx.Client(base_url=second.url, timeout=30) as client:
        created = client.post(
            "/v1/tasks", json={"model": "chain-scenext", "input": {"prompt": PROMPT}}
        )
        assert created.status_code == 201, created.text
        task_id = created.json()["id"]

    async def agent() -> tuple[list[dict[str, Any]], dict[str, Any]]:
        statuses: list[dict[str, Any]] = []
        async with http_client(second.url, {}) as mcp:
            while not statuses or not statuses[-1]["done"]:
                result = await mcp.call_tool("query_video_status", {"task_id": task_id})
                statuses.append(structured(result))
                await anyio.sleep(0.2)
            doubao = structured(await mcp.call_tool("query_video_task", {"task_id": task_id}))
        return statuses, doubao

    statuses, doubao = anyio.run(agent)
    assert statuses[-1]["status"] == "completed", statuses[-1]
    progress = [s["progress"] for s in statuses]
    assert progress == sorted(progress) and progress[-1] == 100
    assert statuses[-1]["video_url"].startswith(second.url)
    assert statuses[-1]["previews"], statuses[-1]
    assert doubao["code"] == 0 and doubao["data"]["status"] == "success"
    assert doubao["data"]["video_url"].startswith(second.url)

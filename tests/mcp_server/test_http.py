"""Streamable HTTP at /mcp: a real MCP client with headers against a live server, and the
host allow-list in process."""

from __future__ import annotations

from pathlib import Path

import anyio
import httpx
import pytest
from fastapi.testclient import TestClient

from tests.integration.timelines import tiny
from tests.mcp_server.conftest import Live, http_client, structured, text
from vidtask.api.app import create_app
from vidtask.settings import Settings

INITIALIZE = {
    "jsonrpc": "2.0",
    "id": 1,
    "method": "initialize",
    "params": {
        "protocolVersion": "2025-06-18",
        "capabilities": {},
        "clientInfo": {"name": "test", "version": "1"},
    },
}
ACCEPT = {"accept": "application/json, text/event-stream"}


@pytest.mark.slow
def test_two_keys_over_http_see_only_their_own_videos(live: Live) -> None:
    alice = {"Authorization": f"Bearer {live.alice}"}
    bob = {"X-API-Key": live.bob}

    async def main() -> str:
        async with http_client(live.url, alice) as client:
            started = structured(await client.call_tool("generate_video", {"timeline": tiny()}))
            task_id: str = started["task_id"]
            seen: list[float] = []

            async def on_progress(
                progress: float, total: float | None, message: str | None
            ) -> None:
                seen.append(progress)

            done = structured(
                await client.call_tool(
                    "wait_for_video",
                    {"task_id": task_id, "timeout": 40},
                    progress_callback=on_progress,
                )
            )
            assert done["status"] == "completed" and done["video_url"].startswith(live.url)
            assert done["video_file"] is None  # the server's paths are not the caller's
            assert seen and seen[-1] == 100.0 and seen == sorted(set(seen))
            mine = structured(await client.call_tool("list_videos", {}))
            assert task_id in [v["task_id"] for v in mine["videos"]]

        async with http_client(live.url, bob) as client:
            hidden = await client.call_tool("query_video_status", {"task_id": task_id})
            assert hidden.is_error and text(hidden).startswith("not_found")
            theirs = structured(await client.call_tool("list_videos", {"limit": 50}))
            assert task_id not in [v["task_id"] for v in theirs["videos"]]
        return task_id

    task_id = anyio.run(main)
    # The MCP owner is the REST owner: the same key sees the task there, the other does not.
    assert httpx.get(f"{live.url}/v1/tasks/{task_id}", headers=alice).status_code == 200
    assert httpx.get(f"{live.url}/v1/tasks/{task_id}", headers=bob).status_code == 404


@pytest.mark.slow
def test_missing_placeholder_and_wrong_keys_are_refused_over_http(live: Live) -> None:
    """Every request, tools/list and initialize included, needs a key on a keyed server."""

    def refusal(headers: dict[str, str]) -> str:
        for body in (INITIALIZE, {"jsonrpc": "2.0", "id": 2, "method": "tools/list"}):
            answer = httpx.post(f"{live.url}/mcp", json=body, headers={**ACCEPT, **headers})
            assert answer.status_code == 401, answer.text
            assert answer.headers["www-authenticate"] == "Bearer"
        return str(answer.json()["error"]["message"])

    missing = refusal({})
    assert "Authorization: Bearer" in missing
    assert "placeholder YOUR_API_KEY" in refusal({"Authorization": "Bearer YOUR_API_KEY"})
    assert "placeholder" in refusal({"X-API-Key": "YOUR_API_KEY"})
    assert "not valid" in refusal({"Authorization": "Bearer vtk_wrong"})

    async def listed() -> list[str]:
        async with http_client(live.url, {"Authorization": f"Bearer {live.alice}"}) as client:
            return [tool.name for tool in (await client.list_tools()).tools]

    assert "generate_video" in anyio.run(listed)


def mcp_client(tmp_path: Path, **settings: object) -> TestClient:
    app = create_app(Settings(data_dir=tmp_path, workers=0, **settings), start_workers=False)  # type: ignore[arg-type]
    return TestClient(app, base_url="http://videos.example.com")


def test_host_allow_list_refuses_unknown_hosts(tmp_path: Path) -> None:
    with mcp_client(tmp_path) as client:
        refused = client.post("/mcp", json=INITIALIZE, headers=ACCEPT)
    assert refused.status_code == 421


def test_host_allow_list_takes_the_public_url_and_the_setting(tmp_path: Path) -> None:
    for settings in (
        {"public_url": "https://videos.example.com"},
        {"mcp_allowed_hosts": ["videos.example.com"]},
        {"mcp_allowed_hosts": ["*"]},
    ):
        with mcp_client(tmp_path, **settings) as client:
            answer = client.post("/mcp", json=INITIALIZE, headers=ACCEPT)
            assert answer.status_code == 200, (settings, answer.text)
            assert "vidtask" in answer.text

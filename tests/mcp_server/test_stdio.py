"""`vidtask mcp` as a real stdio subprocess, driven by the SDK's client: on the local store
(starting its own workers) and against a live server (``--url``)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import anyio
import pytest
from mcp import Client

from tests.integration.timelines import tiny
from tests.mcp_server.conftest import PROJECT, Live, new_key, stdio_params, structured, text

pytestmark = pytest.mark.slow


async def render_tiny(client: Client) -> dict[str, object]:
    started = structured(await client.call_tool("generate_video", {"timeline": tiny()}))
    seen: list[float] = []

    async def on_progress(progress: float, total: float | None, message: str | None) -> None:
        seen.append(progress)

    done = structured(
        await client.call_tool(
            "wait_for_video",
            {"task_id": started["task_id"], "timeout": 40},
            progress_callback=on_progress,
        )
    )
    assert seen and seen[-1] == 100.0
    return done


def test_stdio_on_the_local_store_renders_with_its_own_workers(tmp_path: Path) -> None:
    assets = tmp_path / "assets"
    shutil.copytree(PROJECT / "examples" / "assets", assets)
    data = tmp_path / "data"
    key = new_key(data, "agent")
    env = {
        "VIDTASK_DATA_DIR": str(data),
        "VIDTASK_ASSET_ROOTS": json.dumps([str(assets)]),
        "VIDTASK_API_KEY": key,
    }

    async def main() -> None:
        async with Client(stdio_params(env, "--workers", "1")) as client:
            tools = {t.name for t in (await client.list_tools()).tools}
            assert {"generate_video", "wait_for_video", "query_video_task"} <= tools
            done = await render_tiny(client)
            assert done["status"] == "completed" and done["video_url"]
            assert Path(str(done["video_file"])).is_file()
            listed = structured(await client.call_tool("list_videos", {}))
            assert [v["task_id"] for v in listed["videos"]] == [done["task_id"]]

    anyio.run(main)
    assert list((data / "artifacts").glob("vt_*/*/video.mp4"))


def test_stdio_refuses_the_placeholder_key(tmp_path: Path) -> None:
    env = {"VIDTASK_DATA_DIR": str(tmp_path), "VIDTASK_API_KEY": "YOUR_API_KEY"}

    async def main() -> None:
        async with Client(stdio_params(env, "--workers", "0")) as client:
            result = await client.call_tool("list_videos", {})
            assert result.is_error and "placeholder YOUR_API_KEY" in text(result)

    anyio.run(main)


def test_stdio_against_a_server_url(live: Live, tmp_path: Path) -> None:
    def env(key: str) -> dict[str, str]:
        return {"VIDTASK_DATA_DIR": str(tmp_path), "VIDTASK_API_KEY": key}

    async def main() -> None:
        async with Client(stdio_params(env(live.alice), "--url", live.url)) as client:
            done = await render_tiny(client)
            assert done["status"] == "completed"
            assert str(done["video_url"]).startswith(live.url) and done["video_file"] is None
            models = structured(await client.call_tool("list_models", {}))
            assert "timeline" in [m["id"] for m in models["models"]]
            prompt = {"prompt": "Hi", "model": "sora-2", "seconds": 1, "width": 160, "height": 90}
            started = structured(await client.call_tool("generate_video", prompt))
            assert started["model"] == "slides"
            await client.call_tool("cancel_video", {"task_id": started["task_id"]})
            answer = structured(
                await client.call_tool("query_video_task", {"task_id": done["task_id"]})
            )
            assert answer["data"]["status"] == "success"
        async with Client(stdio_params(env(live.bob), "--url", live.url)) as client:
            hidden = await client.call_tool("query_video_task", {"task_id": done["task_id"]})
            assert hidden.is_error and text(hidden).startswith("not_found")
        async with Client(stdio_params(env("vtk_wrong"), "--url", live.url)) as client:
            refused = await client.call_tool("list_videos", {})
            assert refused.is_error and "VIDTASK_API_KEY" in text(refused)

    anyio.run(main)


def test_stdio_reports_an_unreachable_server(tmp_path: Path) -> None:
    env = {"VIDTASK_DATA_DIR": str(tmp_path)}

    async def main() -> None:
        async with Client(stdio_params(env, "--url", "http://127.0.0.1:9")) as client:
            result = await client.call_tool("query_video_status", {"task_id": "vt_x"})
            assert result.is_error and "cannot reach the vidtask server" in text(result)

    anyio.run(main)

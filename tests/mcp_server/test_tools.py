"""Every tool through an in-memory MCP client session, on the local store with real workers."""

from __future__ import annotations

import json
import re
import shutil
from collections.abc import Awaitable, Callable, Iterator
from pathlib import Path
from typing import Any

import anyio
import pytest
from mcp import Client
from mcp.shared.exceptions import MCPError

from tests.integration.timelines import long_render, tiny
from tests.mcp_server.conftest import PROJECT, new_key, structured, text
from vidtask import composition
from vidtask.mcp_server.local import LocalBackend
from vidtask.mcp_server.server import build_server
from vidtask.settings import Settings

TOOLS = {
    "generate_video",
    "gen_video",
    "query_video_status",
    "query_video_task",
    "wait_for_video",
    "cancel_video",
    "list_videos",
    "list_models",
}
QUERIES = {"query_video_status", "query_video_task", "wait_for_video", "list_videos", "list_models"}
MARKDOWN_LINK = re.compile(r"(?<!!)\[[^\]]+\]\((http[^)]+)\)")
MARKDOWN_IMAGE = re.compile(r"!\[[^\]]+\]\((http[^)]+)\)")


class Store:
    """The local store with two keys, and a runtime (one worker) on it."""

    def __init__(self, base: Path) -> None:
        assets = base / "assets"
        shutil.copytree(PROJECT / "examples" / "assets", assets)
        data = base / "data"
        self.alice, self.bob = new_key(data, "alice"), new_key(data, "bob")
        settings = Settings(data_dir=data, workers=1, asset_roots=[assets], log_level="WARNING")
        self.runtime = composition.mcp_runtime(settings, api_key=self.alice)

    def client(self, api_key: str | None = "alice") -> Client:
        """An in-memory session acting as ``api_key`` (alice's or bob's by name, or as is)."""
        key = {"alice": self.alice, "bob": self.bob}.get(api_key or "", api_key)
        rt = self.runtime
        backend = LocalBackend(rt.tasks, rt.authenticator, api_key=key, local_files=True)
        return Client(build_server(backend, "stdio"))


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Store]:
    found = Store(tmp_path_factory.mktemp("mcp-tools"))
    found.runtime.start()
    yield found
    found.runtime.stop()


def run(
    store: Store, scenario: Callable[[Client], Awaitable[None]], key: str | None = "alice"
) -> None:
    async def main() -> None:
        async with store.client(key) as client:
            await scenario(client)

    anyio.run(main)


def test_tools_have_output_schemas_and_annotations(store: Store) -> None:
    async def scenario(client: Client) -> None:
        listed = {tool.name: tool for tool in (await client.list_tools()).tools}
        assert set(listed) == TOOLS
        for name, tool in listed.items():
            assert tool.output_schema is not None, name
            assert tool.description and tool.title, name
            hints = tool.annotations
            assert hints is not None
            assert hints.read_only_hint is (name in QUERIES), name
            if name in QUERIES:
                assert hints.idempotent_hint is True, name
        schema = listed["wait_for_video"].input_schema["properties"]["timeout"]
        assert schema["maximum"] == 50
        assert "done" in listed["query_video_status"].output_schema["properties"]  # type: ignore[index]
        templates = (await client.list_resource_templates()).resource_templates
        assert [t.uri_template for t in templates] == ["vidtask://tasks/{task_id}"]

    run(store, scenario)


@pytest.mark.slow
def test_generate_wait_query_and_read_a_timeline_video(store: Store) -> None:
    async def scenario(client: Client) -> None:
        started = structured(await client.call_tool("generate_video", {"timeline": tiny()}))
        task_id = started["task_id"]
        assert started["status"] == "queued" and started["model"] == "timeline"
        assert "wait_for_video" in started["next_step"]

        seen: list[tuple[float, float | None, str | None]] = []

        async def on_progress(progress: float, total: float | None, message: str | None) -> None:
            seen.append((progress, total, message))

        waited = await client.call_tool(
            "wait_for_video", {"task_id": task_id, "timeout": 40}, progress_callback=on_progress
        )
        video = structured(waited)
        assert video["status"] == "completed" and video["done"] is True
        assert video["video_url"] and video["cover_url"]
        assert Path(video["video_file"]).is_file() and video["video_file"] in text(waited)
        values = [p[0] for p in seen]
        assert values == sorted(set(values)) and values[-1] == 100.0, seen
        assert all(total == 100.0 for _, total, _ in seen)
        assert seen[-1][2] == "completed: done 100%"

        status = await client.call_tool("query_video_status", {"task_id": task_id})
        assert structured(status) == video
        assert MARKDOWN_LINK.search(text(status)).group(1) == video["video_url"]  # type: ignore[union-attr]
        assert MARKDOWN_IMAGE.search(text(status)).group(1) == video["cover_url"]  # type: ignore[union-attr]

        answer = structured(await client.call_tool("query_video_task", {"task_id": task_id}))
        assert answer["code"] == 0 and answer["msg"] == "success"
        data = answer["data"]
        assert set(data) == {
            "task_id",
            "status",
            "video_url",
            "cover_url",
            "error_msg",
            "created_at",
            "finished_at",
        }
        assert data["status"] == "success" and data["video_url"] == video["video_url"]
        assert data["finished_at"].endswith("Z") and data["error_msg"] is None

        listed = structured(await client.call_tool("list_videos", {"status": ["completed"]}))
        assert task_id in [v["task_id"] for v in listed["videos"]]

        read = await client.read_resource(f"vidtask://tasks/{task_id}")
        body = json.loads(read.contents[0].text)  # type: ignore[union-attr]
        assert body["id"] == task_id and body["status"] == "completed"

    run(store, scenario)


@pytest.mark.slow
def test_gen_video_takes_scenexts_parameters_and_cancel_video_stops_it(store: Store) -> None:
    async def scenario(client: Client) -> None:
        args = {"question": "What is 1+1?", "answer": "2", "quality": "l", "questionImages": []}
        started = structured(await client.call_tool("gen_video", args))
        task_id = started["task_id"]
        assert started["model"] == "slides"
        task = store.runtime.service.store.get(task_id, None)
        assert task is not None and task.input["question"] == "What is 1+1?"
        assert (task.input["width"], task.input["height"]) == (854, 480)

        cancelled = structured(await client.call_tool("cancel_video", {"task_id": task_id}))
        assert cancelled["task_id"] == task_id
        final = structured(await client.call_tool("wait_for_video", {"task_id": task_id}))
        assert final["status"] == "cancelled" and final["done"] is True
        answer = structured(await client.call_tool("query_video_task", {"task_id": task_id}))
        assert answer["data"]["status"] == "failed" and answer["data"]["error_msg"]

    run(store, scenario)


def test_generate_video_from_a_prompt_through_an_alias(store: Store) -> None:
    async def scenario(client: Client) -> None:
        args = {
            "prompt": "Hello.\n\nWorld.",
            "model": "sora-2",
            "seconds": 2,
            "width": 320,
            "height": 240,
        }
        started = structured(await client.call_tool("generate_video", args))
        task = store.runtime.service.store.get(started["task_id"], None)
        assert task is not None and task.model == "slides"
        assert task.input["prompt"] == "Hello.\n\nWorld." and task.input["width"] == 320
        await client.call_tool("cancel_video", {"task_id": started["task_id"]})

        models = await client.call_tool("list_models", {})
        ids = {m["id"]: m for m in structured(models)["models"]}
        assert {"timeline", "slides"} <= set(ids) and ids["sora-2"]["alias_of"] == "slides"
        assert "`slides`" in text(models)

    run(store, scenario)


def errors_of(store: Store, calls: list[tuple[str, dict[str, Any]]], key: str | None) -> list[str]:
    found: list[str] = []

    async def scenario(client: Client) -> None:
        for name, args in calls:
            result = await client.call_tool(name, args)
            assert result.is_error, (name, args, result)
            assert result.structured_content is None
            found.append(text(result))

    run(store, scenario, key)
    return found


def test_bad_task_ids_are_tool_errors_the_model_can_act_on(store: Store) -> None:
    calls = [
        (name, {"task_id": task_id})
        for name in ("query_video_status", "query_video_task", "wait_for_video", "cancel_video")
        for task_id in ("", "  ", "vt_doesnotexist")
    ]
    for message, (_, args) in zip(errors_of(store, calls, "alice"), calls, strict=True):
        assert "Error executing tool" not in message
        if args["task_id"].strip():
            assert message.startswith("not_found: no task with id 'vt_doesnotexist'")
            assert "list_videos" in message
        else:
            assert message.startswith("invalid_request: task_id is empty")


def test_another_keys_task_is_not_found(store: Store) -> None:
    async def submit(client: Client) -> None:
        started = structured(await client.call_tool("generate_video", {"timeline": long_render(6)}))
        ids.append(started["task_id"])

    ids: list[str] = []
    run(store, submit, "alice")
    task_id = ids[0]
    calls = [
        (name, {"task_id": task_id})
        for name in ("query_video_status", "query_video_task", "wait_for_video", "cancel_video")
    ]
    for message in errors_of(store, calls, "bob"):
        assert message.startswith(f"not_found: no task with id '{task_id}'"), message

    async def bob_looks(client: Client) -> None:
        listed = structured(await client.call_tool("list_videos", {"limit": 50}))
        assert task_id not in [v["task_id"] for v in listed["videos"]]
        with pytest.raises(MCPError, match="no task with id"):
            await client.read_resource(f"vidtask://tasks/{task_id}")

    run(store, bob_looks, "bob")

    async def alice_cancels(client: Client) -> None:
        assert structured(await client.call_tool("cancel_video", {"task_id": task_id}))

    run(store, alice_cancels, "alice")


def test_invalid_requests_name_the_field_to_fix(store: Store) -> None:
    calls: list[tuple[str, dict[str, Any]]] = [
        ("generate_video", {"timeline": {"output": {"width": 64, "height": 64}, "tracks": "x"}}),
        ("generate_video", {"timeline": tiny(), "prompt": "both"}),
        ("generate_video", {}),
        ("generate_video", {"prompt": "hi", "model": "no-such-model"}),
        ("generate_video", {"timeline": tiny(), "model": "slides"}),
        ("gen_video", {"question": "q", "questionImages": [" "]}),
    ]
    messages = errors_of(store, calls, "alice")
    assert messages[0].startswith("invalid_request: timeline.tracks")
    assert "Fix `timeline.tracks`" in messages[0]
    assert "not both" in messages[1]
    assert "nothing to make a video of" in messages[2]
    assert "unknown model 'no-such-model'" in messages[3] and "available models" in messages[3]
    assert "does not take a timeline" in messages[4]
    assert "questionImages[0]" in messages[5]
    assert not any("Error executing tool" in m for m in messages)


def test_wait_for_video_refuses_more_than_50_seconds(store: Store) -> None:
    [message] = errors_of(store, [("wait_for_video", {"task_id": "vt_x", "timeout": 51})], None)
    assert "timeout" in message and "50" in message


def test_missing_invalid_and_placeholder_keys_are_refused(store: Store) -> None:
    call: list[tuple[str, dict[str, Any]]] = [("list_videos", {})]
    [missing] = errors_of(store, call, None)
    assert missing.startswith("unauthorized: ") and "VIDTASK_API_KEY" in missing
    [placeholder] = errors_of(store, call, "YOUR_API_KEY")
    assert "placeholder YOUR_API_KEY" in placeholder and "vidtask keys create" in placeholder
    [invalid] = errors_of(store, call, "vtk_not_a_key")
    assert "not valid" in invalid


def test_without_keys_callers_are_anonymous_and_wait_returns_when_time_is_up(
    tmp_path: Path,
) -> None:
    settings = Settings(data_dir=tmp_path, workers=0, log_level="WARNING")
    # No key, no keys in the store: loopback-only anonymity.
    runtime = composition.mcp_runtime(settings)

    async def main() -> None:
        server = build_server(runtime.backend, "stdio", lifespan=runtime.running)
        async with Client(server) as client:
            started = structured(await client.call_tool("generate_video", {"timeline": tiny()}))
            waited = structured(
                await client.call_tool(
                    "wait_for_video", {"task_id": started["task_id"], "timeout": 0.3}
                )
            )
            assert waited["status"] == "queued" and waited["done"] is False
            assert "wait_for_video" in waited["next_step"]

    anyio.run(main)
    assert not runtime.workers  # workers=0: nothing started, nothing left running

"""The pure parts: host allow-list, tool arguments to task inputs, the seed 001 shape."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from tests.integration.timelines import tiny
from vidtask.client.models import Task
from vidtask.core import errors
from vidtask.core.routing import DEFAULT_ALIASES, ModelRouter
from vidtask.mcp_server import http, inputs, markdown, models
from vidtask.settings import Settings

ROUTER = ModelRouter(["slides", "timeline"], DEFAULT_ALIASES)
NO_PROMPT: dict[str, Any] = {
    "model": None,
    "prompt": None,
    "timeline": None,
    "question": None,
    "answer": None,
    "images": [],
    "width": 1280,
    "height": 720,
    "seconds": None,
    "quality": "standard",
}


def test_allowed_hosts_default_to_the_public_host_and_loopback() -> None:
    hosts = http.allowed_hosts(Settings(public_url="https://videos.example.com/base"))
    assert hosts[:2] == ["videos.example.com", "videos.example.com:*"]
    assert {"127.0.0.1:*", "localhost:*", "[::1]:*"} <= set(hosts)
    ipv6 = http.allowed_hosts(Settings(public_url="http://[::1]:8000"))
    assert ipv6[:2] == ["[::1]", "[::1]:*"] and len(ipv6) == len(set(ipv6))


def test_configured_hosts_replace_the_default_and_may_name_a_port() -> None:
    settings = Settings(mcp_allowed_hosts=["a.example", "b.example:8443"])
    assert http.allowed_hosts(settings) == ["a.example", "a.example:*", "b.example:8443"]
    security = http.transport_security(settings)
    assert security.enable_dns_rebinding_protection
    assert "https://b.example:8443" in security.allowed_origins
    off = http.transport_security(Settings(mcp_allowed_hosts=["*"]))
    assert not off.enable_dns_rebinding_protection


def test_a_timeline_goes_to_the_timeline_model_as_is() -> None:
    assert inputs.generation(ROUTER, **{**NO_PROMPT, "timeline": tiny()}) == ("timeline", tiny())


def test_a_prompt_becomes_the_slides_input_by_default() -> None:
    model, body = inputs.generation(ROUTER, **{**NO_PROMPT, "prompt": "Hi", "seconds": 3.0})
    assert model == "slides" and body["prompt"] == "Hi" and body["seconds"] == 3.0
    model, body = inputs.generation(ROUTER, **{**NO_PROMPT, "prompt": "Hi", "model": "timeline"})
    assert model == "timeline" and body["tracks"]


@pytest.mark.parametrize(
    ("changes", "param"),
    [
        ({}, "prompt"),
        ({"prompt": "  "}, "prompt"),
        ({"timeline": tiny(), "question": "q"}, "timeline"),
        ({"timeline": tiny(), "model": "sora-2"}, "model"),
        ({"prompt": "Hi", "model": "nope"}, "model"),
    ],
)
def test_unusable_arguments_name_the_parameter(changes: dict[str, Any], param: str) -> None:
    with pytest.raises(errors.InvalidRequest) as caught:
        inputs.generation(ROUTER, **{**NO_PROMPT, **changes})
    assert caught.value.param == param


def test_scenext_parameters_go_through_its_dialect() -> None:
    model, body = inputs.scenext_request(ROUTER, {"question": "Why?", "quality": "h"})
    assert model == "slides" and (body["width"], body["height"]) == (1920, 1080)


def task(status: str, **fields: Any) -> Task:
    now = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)
    return Task(
        id="vt_1",
        model="slides",
        status=status,
        stage=status,
        progress=0,
        version=1,
        created_at=now,
        updated_at=now,
        **fields,
    )


@pytest.mark.parametrize(
    ("status", "doubao"),
    [
        ("queued", "pending"),
        ("in_progress", "processing"),
        ("completed", "success"),
        ("failed", "failed"),
        ("cancelled", "failed"),
    ],
)
def test_query_video_task_uses_seed_001s_statuses(status: str, doubao: str) -> None:
    answer = models.doubao_answer(task(status))
    assert answer.data.status == doubao and answer.data.created_at == "2026-01-02T03:04:05Z"
    assert (answer.data.error_msg is not None) == (status == "cancelled")


def test_markdown_shows_errors_eta_and_preview_frames() -> None:
    running = models.video(
        task(
            "in_progress",
            eta_seconds=12.0,
            previews=[{"id": "1", "url": "http://x/p1.jpg"}],
        )
    )
    shown = markdown.video(running)
    assert "about 12 s left" in shown and "![Preview frame 1](http://x/p1.jpg)" in shown
    failed = models.video(task("failed", error={"code": "render_failed", "message": "boom"}))
    assert "Error `render_failed`: boom" in markdown.video(failed)
    assert models.video(task("somewhere_new")).status == "in_progress"

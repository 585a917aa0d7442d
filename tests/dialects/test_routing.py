"""Model routing: local names, exact aliases, patterns, and clear errors listing what exists."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from tests.dialects.conftest import GEN_MODEL
from vidtask.api.app import create_app
from vidtask.core import errors
from vidtask.core.routing import DEFAULT_ALIASES, ModelRouter
from vidtask.settings import Settings

ROUTER = ModelRouter(
    ["timeline", "slides"],
    {"sora-2": "slides", "doubao-seedance-*": "slides", "doubao-*": "timeline", "veo": "gone"},
)


@pytest.mark.parametrize(
    ("requested", "model"),
    [
        ("timeline", "timeline"),
        ("slides", "slides"),
        ("sora-2", "slides"),
        ("doubao-seedance-1-0-pro-250528", "slides"),  # the first matching pattern wins
        ("doubao-seaweed-241128", "timeline"),
        (" sora-2 ", "slides"),
    ],
)
def test_resolves(requested: str, model: str) -> None:
    assert ROUTER.resolve(requested) == model


def test_unknown_model_lists_models_and_aliases() -> None:
    with pytest.raises(errors.InvalidRequest) as caught:
        ROUTER.resolve("sora-9", param="model")
    assert caught.value.param == "model"
    message = caught.value.message
    assert message.startswith("model: unknown model 'sora-9'")
    assert "available models: slides, timeline" in message
    assert "sora-2 -> slides" in message and "veo" not in message


def test_alias_of_a_model_not_served() -> None:
    with pytest.raises(errors.InvalidRequest, match="alias of 'gone', which this server does not"):
        ROUTER.resolve("veo")


def test_default_aliases_cover_sdk_names() -> None:
    router = ModelRouter(["slides"], DEFAULT_ALIASES)
    for name in ("sora-2", "sora-2-pro", "sora-2-2025-10-06", "doubao-seedance-1-0-lite-t2v"):
        assert router.resolve(name) == "slides"
    with pytest.raises(errors.InvalidRequest):
        router.resolve("sora-9")


def test_every_dialect_names_the_available_models(client: TestClient) -> None:
    cases = [
        ("/v1/videos", {"prompt": "x", "model": "veo-3"}),
        (
            "/api/v3/contents/generations/tasks",
            {"model": "veo-3", "content": [{"type": "text", "text": "x"}]},
        ),
        ("/api/gen_video", {"question": "x", "model": "veo-3"}),
        ("/v1/tasks", {"model": "veo-3", "input": {}}),
    ]
    for path, body in cases:
        response = client.post(path, json=body)
        assert response.status_code == 400, (path, response.text)
        assert f"available models: {', '.join(sorted({'timeline', GEN_MODEL}))}" in response.text
        assert "sora-2 -> " in response.text


def test_native_api_resolves_an_alias(settings: Settings) -> None:
    """The native API resolves aliases too; the view shows the local model."""
    timeline = {
        "output": {"width": 64, "height": 64},
        "tracks": [
            {"clips": [{"asset": {"type": "color", "color": "red"}, "start": 0, "length": 1}]}
        ],
    }
    aliased = settings.model_copy(update={"model_aliases": {"house-style": "timeline"}})
    with TestClient(create_app(aliased, start_workers=False)) as client:
        response = client.post("/v1/tasks", json={"model": "house-style", "input": timeline})
        assert response.status_code == 201, response.text
        assert response.json()["model"] == "timeline"
        unknown = client.post("/v1/tasks", json={"model": "sora-2", "input": timeline})
        assert unknown.status_code == 400
        assert "aliases: house-style -> timeline" in unknown.json()["error"]["message"]


def test_models_lists_local_models_then_aliases(client: TestClient) -> None:
    models = client.get("/v1/models").json()["data"]
    local = [m["id"] for m in models if "alias_of" not in m]
    assert "timeline" in local and GEN_MODEL in local
    aliases = {m["id"]: m["alias_of"] for m in models if "alias_of" in m}
    assert aliases == {"sora-2": GEN_MODEL, "sora-2-*": GEN_MODEL, "doubao-seedance-*": GEN_MODEL}

"""The Veo (Gemini API) kind without I/O: the request it builds, how it reads an operation that
has no status word, its key header and errors; and which result URLs may get the key."""

from __future__ import annotations

import asyncio

import httpx
import pytest

from vidtask.core.upstream import UPSTREAM_WORDS, Phase
from vidtask.providers import KINDS
from vidtask.providers.base import Call, RelayInput, Trouble
from vidtask.providers.client import ProviderClient
from vidtask.settings import ProviderSettings

NAME = "models/veo-3.0-generate-001/operations/abc123"
BASE = "https://generativelanguage.googleapis.com/v1beta"


def test_veo_create_maps_prompt_ratio_resolution_and_duration() -> None:
    veo = KINDS["veo"]
    request = RelayInput("a cat", seconds=5, width=1920, height=1080)
    call = veo.create("veo-3.0-generate-001", request, None)
    assert (call.method, call.path) == ("POST", "/models/veo-3.0-generate-001:predictLongRunning")
    assert call.json == {
        "instances": [{"prompt": "a cat"}],
        "parameters": {"aspectRatio": "16:9", "resolution": "1080p", "durationSeconds": 4},
    }
    small = veo.create("veo-3.1-generate-preview", RelayInput("p", width=320, height=180), None)
    assert small.json == {"instances": [{"prompt": "p"}], "parameters": {"aspectRatio": "16:9"}}
    bare = veo.create("veo-3.1-generate-preview", RelayInput("p"), "https://cb.example/x")
    assert bare.json == {"instances": [{"prompt": "p"}]}  # no callback exists
    assert veo.refuses == {"seed", "first_frame", "last_frame", "reference_images"}
    assert not veo.can_cancel and not veo.reports_progress and not veo.calls_back


def test_veo_key_travels_in_its_own_header() -> None:
    assert KINDS["veo"].auth("AIza-secret") == {"x-goog-api-key": "AIza-secret"}


def test_veo_reads_running_done_filtered_and_error_operations() -> None:
    veo = KINDS["veo"]
    assert veo.created_id({"name": NAME}) == NAME
    assert veo.status(NAME) == Call("GET", f"/{NAME}")
    for body in ({"name": NAME}, {"name": NAME, "done": False, "metadata": {}}):
        running = veo.state("veo", NAME, body)
        assert (running.word, running.phase, running.video_url) == ("running", Phase.RUNNING, None)
    uri = f"{BASE}/files/abc:download?alt=media"
    samples = {"generatedSamples": [{"video": {"uri": uri}}]}
    done = veo.state(
        "veo", NAME, {"name": NAME, "done": True, "response": {"generateVideoResponse": samples}}
    )
    assert done.phase is Phase.SUCCEEDED and done.video_url == uri and done.video_needs_key
    filtered = veo.state(
        "veo",
        NAME,
        {
            "done": True,
            "response": {
                "generateVideoResponse": {
                    "raiMediaFilteredCount": 1,
                    "raiMediaFilteredReasons": ["the prompt may violate our policies"],
                }
            },
        },
    )
    assert (filtered.word, filtered.phase) == ("filtered", Phase.FAILED)
    assert filtered.error == "the prompt may violate our policies" and filtered.video_url is None
    error = veo.state("veo", NAME, {"done": True, "error": {"code": 13, "message": "internal"}})
    assert (error.word, error.phase, error.error) == ("error", Phase.FAILED, "code 13: internal")
    assert set(UPSTREAM_WORDS["veo"]) == {"running", "done", "filtered", "error"}
    assert veo.check() == Call("GET", "/models?pageSize=1")
    assert veo.cancel(NAME) is None


@pytest.mark.parametrize(
    ("status", "body", "trouble"),
    [
        (403, {"error": {"code": 403, "status": "PERMISSION_DENIED", "message": "m"}}, Trouble.KEY),
        (
            400,
            {
                "error": {
                    "code": 400,
                    "status": "INVALID_ARGUMENT",
                    "message": "API key not valid. Please pass a valid API key.",
                    "details": [{"reason": "API_KEY_INVALID"}],
                }
            },
            Trouble.KEY,
        ),
        (
            400,
            {"error": {"code": 400, "status": "INVALID_ARGUMENT", "message": "m"}},
            Trouble.INPUT,
        ),
        (429, {"error": {"code": 429, "status": "RESOURCE_EXHAUSTED"}}, Trouble.RETRY),
        (404, {"error": {"code": 404, "status": "NOT_FOUND"}}, Trouble.GONE),
        (503, {"error": {"code": 503, "status": "UNAVAILABLE"}}, Trouble.RETRY),
    ],
)
def test_veo_refusals(status: int, body: object, trouble: Trouble) -> None:
    refusal = KINDS["veo"].refusal(status, body)
    assert refusal.trouble is trouble and refusal.message.startswith(f"HTTP {status}")


def test_only_the_providers_own_host_gets_the_key_for_a_result(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("SERVES_KEY", "secret")
    settings = ProviderSettings(
        name="veo", kind="veo", base_url=BASE, api_key_env=["SERVES_KEY"], models={"m": "veo-3"}
    )

    async def check() -> None:
        async with httpx.AsyncClient() as http:
            client = ProviderClient(settings, KINDS["veo"], http)
            assert client.serves("/videos/v1/content")
            assert client.serves(f"{BASE}/files/abc:download?alt=media")
            assert client.serves("https://generativelanguage.googleapis.com/other/path")
            assert not client.serves("https://storage.googleapis.com/bucket/v.mp4")
            assert not client.serves("http://generativelanguage.googleapis.com/v1beta/files/a")
            assert not client.serves("https://generativelanguage.googleapis.com:8443/v1beta/f")
            with pytest.raises(ValueError, match="not on the provider's host"):
                await client.open_result("https://evil.example/v1beta/files/a:download")

    asyncio.run(check())

"""The engine seam the kinds plug into: how a key travels, a call's own headers, an error inside
a 200 answer, and input fields a kind refuses at submit."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import httpx
import pytest

from vidtask.backends.registry import relay_backends
from vidtask.core import errors
from vidtask.providers import KINDS
from vidtask.providers.base import Call, RelayInput
from vidtask.providers.client import ProviderClient, Refused
from vidtask.settings import ProviderSettings, Settings

SECRET = "sk-seam-secret-value"


def provider(monkeypatch: pytest.MonkeyPatch, kind: str, *, keys: int = 1) -> ProviderSettings:
    names = [f"SEAM_KEY_{n}" for n in range(keys)]
    for n, name in enumerate(names):
        monkeypatch.setenv(name, f"{SECRET}-{n}")
    return ProviderSettings(
        name="seam",
        kind=kind,
        base_url="http://upstream.test/api/v1",
        api_key_env=names,
        models={"m": "m-up"},
    )


def run(settings: ProviderSettings, answer: Any, call: Call) -> tuple[list[httpx.Request], Any]:
    seen: list[httpx.Request] = []

    def handle(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return answer(request) if callable(answer) else httpx.Response(200, json=answer)

    async def go() -> Any:
        async with httpx.AsyncClient(transport=httpx.MockTransport(handle)) as http:
            client = ProviderClient(settings, KINDS[settings.kind], http, tries=1)
            try:
                return await client.call(call)
            except (Refused, errors.UpstreamError) as exc:
                return exc

    return seen, asyncio.run(go())


def test_a_call_carries_its_own_headers_beside_the_key(monkeypatch: pytest.MonkeyPatch) -> None:
    settings = provider(monkeypatch, "dashscope")
    call = KINDS["dashscope"].create("wan2.2-t2v-plus", RelayInput("p"), None)
    seen, body = run(settings, {"output": {"task_id": "t-1"}}, call)
    assert body == {"output": {"task_id": "t-1"}}
    (request,) = seen
    assert request.headers["X-DashScope-Async"] == "enable"
    assert request.headers["Authorization"] == f"Bearer {SECRET}-0"
    assert json.loads(request.content)["input"] == {"prompt": "p"}


def test_an_error_in_a_200_answer_parks_the_key_and_tries_the_next(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    settings = provider(monkeypatch, "minimax", keys=2)

    def answer(request: httpx.Request) -> httpx.Response:
        if request.headers["Authorization"].endswith("-0"):
            return httpx.Response(
                200, json={"base_resp": {"status_code": 2049, "status_msg": "invalid api key"}}
            )
        return httpx.Response(200, json={"task_id": "7", "base_resp": {"status_code": 0}})

    seen, body = run(settings, answer, Call("POST", "/video_generation", json={}))
    assert body["task_id"] == "7" and len(seen) in (1, 2)


def test_an_input_error_in_a_200_answer_is_refused_without_the_key(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    settings = provider(monkeypatch, "minimax")
    envelope = {"base_resp": {"status_code": 1026, "status_msg": "input sensitive"}}
    _, refused = run(settings, envelope, Call("POST", "/video_generation", json={}))
    assert isinstance(refused, Refused) and "1026" in str(refused)
    assert SECRET not in str(refused)


def test_every_key_refused_in_200_answers_names_env_vars_not_keys(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    settings = provider(monkeypatch, "minimax")
    envelope = {"base_resp": {"status_code": 1004, "status_msg": "not authorized"}}
    _, problem = run(settings, envelope, Call("GET", "/query/video_generation?task_id=1"))
    assert isinstance(problem, errors.UpstreamError)
    assert "SEAM_KEY_0" in str(problem) and SECRET not in str(problem)


def test_check_counts_only_a_key_error_in_a_200_answer(monkeypatch: pytest.MonkeyPatch) -> None:
    settings = provider(monkeypatch, "minimax", keys=2)

    def answer(request: httpx.Request) -> httpx.Response:
        bad = request.headers["Authorization"].endswith("-1")
        code = 2049 if bad else 2013  # a bad key; else "no such task", which is fine
        return httpx.Response(200, json={"base_resp": {"status_code": code, "status_msg": "x"}})

    async def go() -> list[tuple[str, str | None]]:
        async with httpx.AsyncClient(transport=httpx.MockTransport(answer)) as http:
            return await ProviderClient(settings, KINDS["minimax"], http).check()

    (first, ok), (second, refused) = asyncio.run(go())
    assert (first, ok, second) == ("SEAM_KEY_0", None, "SEAM_KEY_1")
    assert refused is not None and "2049" in refused


def test_a_field_the_kind_cannot_take_is_refused_at_submit(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    settings = Settings(providers=[provider(monkeypatch, "minimax").model_dump(exclude={"keys"})])
    backend = relay_backends(settings)["m"]
    assert backend.validate({"prompt": "p", "seconds": 6}) == {"prompt": "p", "seconds": 6}
    with pytest.raises(errors.InvalidRequest, match=r"^seed: provider seam \(minimax\)"):
        backend.validate({"prompt": "p", "seed": 4})
    with pytest.raises(errors.InvalidRequest, match=r"^reference_images: "):
        backend.validate({"prompt": "p", "reference_images": ["https://i/1.png"]})

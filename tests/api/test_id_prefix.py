"""``GET /v1/tasks?id_prefix=``: the tasks whose id starts with a prefix, and a native 400 naming
``id_prefix`` for a malformed one; the SDKs' ``list_tasks(id_prefix=...)`` send it."""

from __future__ import annotations

import anyio
import httpx
import pytest
from fastapi.testclient import TestClient

from tests.api.conftest import color_timeline
from vidtask.client.aio import AsyncClient
from vidtask.client.sync import Client


def test_list_filters_by_id_prefix(client: TestClient) -> None:
    ids = [
        client.post("/v1/tasks", json={"input": color_timeline()}).json()["id"] for _ in range(3)
    ]
    for task_id in ids:
        found = client.get("/v1/tasks", params={"id_prefix": task_id[:12]})
        assert found.status_code == 200, found.text
        assert [t["id"] for t in found.json()["data"]] == [task_id]
    every = client.get("/v1/tasks", params={"id_prefix": "vt_", "order": "asc"}).json()
    assert [t["id"] for t in every["data"]] == ids
    assert client.get("/v1/tasks", params={"id_prefix": "VT_"}).json()["data"] == []
    page = client.get("/v1/tasks", params={"id_prefix": "vt_", "limit": 2}).json()
    assert page["has_more"] and len(page["data"]) == 2


@pytest.mark.parametrize("prefix", ["", "vt%", "vt_a b", "vt.", "é", "a" * 65])
def test_a_malformed_id_prefix_is_a_400_naming_it(client: TestClient, prefix: str) -> None:
    response = client.get("/v1/tasks", params={"id_prefix": prefix})
    assert response.status_code == 400, response.text
    error = response.json()["error"]
    assert error["code"] == "invalid_request" and error["param"] == "id_prefix", error


def test_the_sdks_send_id_prefix() -> None:
    seen: list[httpx.QueryParams] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request.url.params)
        return httpx.Response(200, json={"object": "list", "data": [], "has_more": False})

    with Client("http://vidtask.test", transport=httpx.MockTransport(handler)) as sync_client:
        assert list(sync_client.list_tasks(id_prefix="vt_ab")) == []
        assert list(sync_client.list_tasks()) == []

    async def listing() -> None:
        transport = httpx.MockTransport(handler)
        async with AsyncClient("http://vidtask.test", transport=transport) as async_client:
            assert [t async for t in async_client.list_tasks(id_prefix="vt_cd")] == []

    anyio.run(listing)
    assert [params.get("id_prefix") for params in seen] == ["vt_ab", None, "vt_cd"]

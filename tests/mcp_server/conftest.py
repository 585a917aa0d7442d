"""MCP clients for the tests: in memory, over stdio (a `vidtask mcp` subprocess) and over
streamable HTTP (a live `vidtask serve`)."""

from __future__ import annotations

import os
import shutil
import sys
import time
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import httpx2
import pytest
from mcp import Client, StdioServerParameters
from mcp.client.streamable_http import streamable_http_client
from mcp_types import CallToolResult, TextContent

from tests.integration.conftest import Server
from vidtask.service import keys
from vidtask.store.sqlite import SQLiteStore

PROJECT = Path(__file__).resolve().parents[2]


def new_key(data_dir: Path, name: str) -> str:
    """Create an API key in the store of ``data_dir``; returns its secret."""
    data_dir.mkdir(parents=True, exist_ok=True)
    _, secret = keys.new_key(SQLiteStore(data_dir / "vidtask.db"), name, time.time())
    return secret


def text(result: CallToolResult) -> str:
    block = result.content[0]
    assert isinstance(block, TextContent)
    return block.text


def structured(result: CallToolResult) -> dict[str, Any]:
    assert not result.is_error, text(result)
    assert isinstance(result.structured_content, dict)
    return result.structured_content


def stdio_params(env: dict[str, str], *args: str) -> StdioServerParameters:
    return StdioServerParameters(
        command=sys.executable,
        args=["-m", "vidtask", "mcp", *args],
        env={**os.environ, "VIDTASK_LOG_LEVEL": "WARNING", **env},
        cwd=str(PROJECT),
    )


@asynccontextmanager
async def http_client(url: str, headers: dict[str, str]) -> AsyncIterator[Client]:
    """An MCP client over streamable HTTP that sends ``headers`` with every request."""
    async with httpx2.AsyncClient(headers=headers, timeout=httpx2.Timeout(30, read=120)) as http:
        async with Client(streamable_http_client(f"{url}/mcp", http_client=http)) as client:
            yield client


class Live:
    """A live `vidtask serve` (subprocess, real workers) with two API keys."""

    def __init__(self, server: Server, alice: str, bob: str) -> None:
        self.server = server
        self.url = server.url
        self.alice = alice
        self.bob = bob


@pytest.fixture(scope="session")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Live]:
    base = tmp_path_factory.mktemp("mcp-live")
    assets = base / "assets"
    shutil.copytree(PROJECT / "examples" / "assets", assets)
    data = base / "data"
    alice, bob = new_key(data, "alice"), new_key(data, "bob")
    server = Server(data, assets).start()
    yield Live(server, alice, bob)
    server.stop()

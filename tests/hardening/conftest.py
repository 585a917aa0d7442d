"""The app in-process (no workers), and what every dialect's error body says."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any, Protocol

import pytest
from fastapi.testclient import TestClient

from vidtask.api.app import create_app
from vidtask.settings import Settings

CAPCUT = "/openapi/capcut-mate/v1"


@pytest.fixture
def client(tmp_path: Path, asset_root: Path) -> Iterator[TestClient]:
    settings = Settings(data_dir=tmp_path / "data", workers=0, asset_roots=[asset_root])
    with TestClient(create_app(settings, start_workers=False), raise_server_exceptions=False) as c:
        yield c


class Response(Protocol):
    """What the tests read of an answer (httpx's, or the in-process TestClient's)."""

    @property
    def status_code(self) -> int: ...

    @property
    def text(self) -> str: ...

    def json(self) -> Any: ...


def refusal(response: Response, status: int = 400) -> tuple[str, str | None]:
    """The message and param of a dialect's error body (``param`` is None where the dialect
    has none), after checking the status and that no trace leaked."""
    assert response.status_code == status, response.text
    assert "Traceback" not in response.text and "internal" not in response.text
    body: Any = response.json()
    error = body.get("error", body) if isinstance(body, dict) else {}
    assert isinstance(error, dict), body
    return str(error["message"]), error.get("param")


def timeline(src: str = "image.png", kind: str = "image", length: Any = 1.0) -> dict[str, Any]:
    return {
        "output": {"width": 64, "height": 64, "fps": 10},
        "tracks": [
            {"clips": [{"asset": {"type": kind, "src": src}, "start": 0, "length": length}]}
        ],
    }

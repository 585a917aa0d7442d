from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from vidtask.api.app import create_app
from vidtask.settings import Settings


@pytest.fixture
def settings(tmp_path: Path, asset_root: Path) -> Settings:
    return Settings(data_dir=tmp_path / "data", workers=0, asset_roots=[asset_root])


@pytest.fixture
def client(settings: Settings) -> Iterator[TestClient]:
    with TestClient(create_app(settings, start_workers=False), raise_server_exceptions=False) as c:
        yield c


def color_timeline(length: float = 1.0, **output: object) -> dict[str, Any]:
    return {
        "output": {"width": 320, "height": 180, "fps": 25, **output},
        "tracks": [
            {
                "clips": [
                    {"asset": {"type": "color", "color": "#ff0000"}, "start": 0, "length": length}
                ]
            }
        ],
    }

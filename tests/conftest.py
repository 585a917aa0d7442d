from __future__ import annotations

import shutil
from pathlib import Path

import pytest

pytest_plugins = ["tests.postgres", "tests.s3"]

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"


@pytest.fixture
def asset_root(tmp_path: Path) -> Path:
    """An asset root holding the example assets."""
    root = tmp_path / "assets"
    shutil.copytree(EXAMPLES / "assets", root)
    return root

"""The bundled examples the dashboard offers: each ``examples/*.json`` file is one, a name, a
line saying what it shows, and a ``POST /v1/tasks`` body. Checked when loaded, so a broken file
fails at once rather than in a browser."""

from __future__ import annotations

import functools
import json
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict

__all__ = ["FOLDER", "Example", "load"]

FOLDER = Path(__file__).parent / "examples"


class Example(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str
    description: str
    #: A native ``POST /v1/tasks`` body.
    request: dict[str, Any]


@functools.cache
def load(folder: Path = FOLDER) -> tuple[Example, ...]:
    """Every example in ``folder``, sorted by name (read once: they ship with the package)."""
    found = [
        Example.model_validate(json.loads(path.read_text(encoding="utf-8")))
        for path in folder.glob("*.json")
    ]
    return tuple(sorted(found, key=lambda example: example.name))

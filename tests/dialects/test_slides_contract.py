"""What the prompt-style dialects send the ``slides`` model is what it accepts: every parser's
output goes through the real backend's validation (runs once ``slides`` exists)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from vidtask.backends import registry
from vidtask.core import errors
from vidtask.core.routing import ModelRouter
from vidtask.dialects import ark, openai, scenext
from vidtask.settings import Settings

ROUTER = ModelRouter(["slides"], {"sora-2": "slides", "doubao-seedance-*": "slides"})
HASH = "0" * 64

REQUESTS: list[tuple[Any, dict[str, Any]]] = [
    (openai.parse_create, {"prompt": "A cat\n\nplays the piano", "size": "1280x720"}),
    (openai.parse_create, {"prompt": "x", "input_reference": "image.png", "seconds": "8"}),
    (
        ark.parse_create,
        {
            "model": "doubao-seedance-1-0-pro-250528",
            "content": [
                {"type": "text", "text": "A cat --rs 1080p --rt 9:16 --dur 5 --seed 7"},
                {"type": "image_url", "image_url": {"url": "image.png"}, "role": "first_frame"},
            ],
        },
    ),
    (ark.parse_create, {"model": "doubao-seedance-1", "content": [{"type": "text", "text": "x"}]}),
    (
        scenext.parse_create,
        {"question": "1+1?", "answer": "2.\n\nTwo.", "answerImages": ["image.png"], "quality": "h"},
    ),
]


@pytest.fixture
def slides_backend(tmp_path: Path, asset_root: Path) -> Any:
    backends = registry.build_backends(
        Settings(data_dir=tmp_path, workers=0, asset_roots=[asset_root])
    )
    if "slides" not in backends:
        pytest.skip("the slides model is not registered yet")
    return backends["slides"]


@pytest.mark.parametrize(("parse", "body"), REQUESTS)
def test_slides_accepts_what_the_dialects_send(
    parse: Any, body: dict[str, Any], slides_backend: Any
) -> None:
    spec = parse(body, router=ROUTER, idempotency_key=None, body_hash=HASH)
    assert spec.model == "slides"
    normalized = slides_backend.validate(spec.input)
    for field in ("width", "height", "fps", "quality", "opening_image", "images"):
        assert normalized.get(field) == spec.input[field] or spec.input[field] in (None, [])


def test_slides_refuses_what_a_dialect_cannot_mean(slides_backend: Any) -> None:
    spec = ark.parse_create(
        {
            "model": "doubao-seedance-1",
            "content": [{"type": "image_url", "image_url": {"url": "image.png"}}],
        },
        router=ROUTER,
        idempotency_key=None,
        body_hash=HASH,
    )
    with pytest.raises(errors.InvalidRequest) as caught:
        slides_backend.validate(spec.input)
    assert caught.value.param == "prompt"

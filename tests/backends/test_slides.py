"""The ``slides`` model: input validation, the cards and their pacing, and real renders."""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

import av
import numpy as np
import pytest
from PIL import Image

from vidtask.backends.base import RunContext
from vidtask.backends.slides import SlidesBackend
from vidtask.core import errors
from vidtask.render import slides
from vidtask.render.assets import AssetPolicy
from vidtask.render.schema import Limits

__all__: list[str] = []


@pytest.fixture()
def backend(policy: AssetPolicy, ffmpeg_exe: str) -> SlidesBackend:
    return SlidesBackend(policy=policy, limits=Limits(), ffmpeg_exe=ffmpeg_exe)


def refused(backend: SlidesBackend, data: dict[str, Any]) -> errors.InvalidRequest:
    with pytest.raises(errors.InvalidRequest) as info:
        backend.validate(data)
    return info.value


def test_text_is_required(backend: SlidesBackend) -> None:
    for data in ({}, {"prompt": "  \n "}, {"images": ["image.png"]}):
        err = refused(backend, data)
        assert err.param == "prompt"
        assert "give a prompt, or a question and/or an answer" in err.message


@pytest.mark.parametrize(
    ("data", "param"),
    [
        ({"prompt": "x", "images": ["image.png", "../etc/passwd"]}, "images[1]"),
        ({"prompt": "x", "opening_image": "file:///etc/passwd"}, "opening_image"),
        ({"prompt": "x", "width": 641}, "width"),
        ({"prompt": "x", "fps": 0}, "fps"),
        ({"prompt": "x", "quality": "ultra"}, "quality"),
        ({"prompt": "x", "seconds": 0}, "seconds"),
        ({"prompt": "x", "size": "1280x720"}, "size"),
        ({"question": 42}, "question"),
        ({"prompt": "x", "width": 8192}, "width"),
        ({"prompt": "x", "seconds": 7200}, "seconds"),
        ({"answer": "ok \U000f0001"}, "answer"),
    ],
)
def test_bad_fields_are_named(backend: SlidesBackend, data: dict[str, Any], param: str) -> None:
    assert refused(backend, data).param == param


def test_question_and_answer_make_title_and_body_cards() -> None:
    request = slides.parse_slides(
        {"question": "What is 2+2?", "answer": "It is four.\n\nFour is even.", "images": ["a"]}
    )
    deck = slides.cards(request)
    assert [(c.kind, c.text, c.image) for c in deck] == [
        ("title", "What is 2+2?", None),
        ("body", "It is four.", "a"),
        ("body", "Four is even.", None),
    ]


def test_prompt_paragraphs_long_text_and_extra_images() -> None:
    long = "This sentence is rather long and keeps going for a while. " * 12
    request = slides.parse_slides(
        {
            "prompt": f"Title line\n\n{long}\n\n短段落。",
            "images": ["a", "b", "c", "d"],
            "opening_image": "o",
        }  # fmt: skip
    )
    deck = slides.cards(request)
    assert deck[0].kind == "title" and deck[0].text == "Title line" and deck[0].image == "o"
    body = [c for c in deck if c.kind == "body"]
    assert len(body) >= 3 and body[-1].text == "短段落。"
    assert all(len(c.text) <= slides.CARD_UNITS for c in body)
    assert " ".join(c.text for c in body[:-1]) == long.strip()
    placed = [c.image for c in deck if c.image and c.kind != "title"]
    assert placed == ["a", "b", "c", "d"]  # in order; extras get their own image cards
    # Longer text stays up longer.
    assert max(c.seconds for c in body[:-1]) > body[-1].seconds


def test_seconds_sets_the_total_and_the_timeline_is_deterministic() -> None:
    data = {"prompt": "One\n\nTwo words\n\nThree words here", "seconds": 7}
    first = slides.slides_timeline(slides.parse_slides(data))
    assert first["output"]["duration"] == pytest.approx(7)
    assert slides.slides_timeline(slides.parse_slides(data)) == first
    seeded = slides.parse_slides({**data, "seed": 3})
    assert seeded.seed == 3 and slides.parse_slides(data).seed == slides.parse_slides(data).seed
    assert slides.slides_timeline(seeded)["output"]["background"] == slides.PALETTES[3][0]


def frame_at(video: Path, at: float, fps: int) -> Any:
    with av.open(str(video)) as container:
        for index, frame in enumerate(container.decode(video=0)):
            if index == round(at * fps):
                return frame.to_image()  # type: ignore[no-untyped-call]
    raise AssertionError(f"no frame at {at}")


def bright_pixels(image: Any, threshold: int = 200) -> int:
    return int((np.asarray(image).min(axis=2) > threshold).sum())


def green_pixels(image: Any) -> int:
    r, g, b = np.asarray(image).astype(int).transpose(2, 0, 1)
    return int(((g > 150) & (r < 100) & (b < 100)).sum())


@pytest.mark.slow
def test_render_question_answer_with_image(
    backend: SlidesBackend, recorder: Any, tmp_path: Path
) -> None:
    data = backend.validate(
        {"question": "Why?", "answer": "Because it is green.\n\n因为它是绿色的。",
         "images": ["image.png"], "width": 320, "height": 180, "fps": 5, "seed": 0,
         "narration": False}
    )  # fmt: skip
    result = backend.run(data, RunContext("t", 1, tmp_path, recorder, threading.Event()))
    request = slides.parse_slides(data)
    expected = sum(card.seconds for card in slides.cards(request))
    assert result.metadata["duration"] == pytest.approx(expected, abs=0.21)
    assert result.metadata["seed"] == 0 and result.metadata["has_audio"] is False
    assert (result.metadata["width"], result.metadata["height"]) == (320, 180)
    title = frame_at(result.video, 1.5, 5)
    assert bright_pixels(title) > 100  # light title text on the dark palette
    first_body = slides.cards(request)[0].seconds + 1.5
    body = frame_at(result.video, first_body, 5)
    assert green_pixels(body.crop((0, 0, 150, 180))) > 300  # the image, on the left half
    assert green_pixels(body.crop((170, 0, 320, 180))) == 0
    assert recorder.stages == ["fetching", "rendering", "saving"]
    assert result.thumbnail is not None and result.spritesheet is not None
    with Image.open(result.thumbnail) as thumbnail:
        assert thumbnail.width == 320


@pytest.mark.slow
def test_render_prompt_with_opening_image_and_seconds(
    backend: SlidesBackend, recorder: Any, tmp_path: Path
) -> None:
    data = backend.validate(
        {"prompt": "Hello there\n\nSecond card", "opening_image": "image.png", "seconds": 4,
         "width": 320, "height": 180, "fps": 5, "quality": "draft"}
    )  # fmt: skip
    result = backend.run(data, RunContext("t", 1, tmp_path, recorder, threading.Event()))
    assert result.metadata["duration"] == pytest.approx(4.0, abs=0.21)
    assert (result.metadata["width"], result.metadata["height"]) == (106, 60)  # draft: a third
    opening = frame_at(result.video, 1.0, 5)
    r, g, b = opening.getpixel((3, 30))
    assert g > r and g > b and g > 40  # the green image, dimmed under the title

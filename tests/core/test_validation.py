from __future__ import annotations

from typing import Any

import pytest
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from vidtask.core.validation import field_path, invalid_request


class Clip(BaseModel):
    model_config = ConfigDict(extra="forbid")
    length: float = Field(gt=0)


class Track(BaseModel):
    clips: list[Clip]


def test_field_path() -> None:
    assert field_path(("tracks", 0, "clips", 2, "length")) == "tracks[0].clips[2].length"
    assert field_path(("length",), "input") == "input.length"
    assert field_path(()) == ""


@pytest.mark.parametrize(
    ("data", "param", "reason"),
    [
        ({"clips": [{"length": 1}, {"length": 0}]}, "input.clips[1].length", "greater than 0"),
        ({"clips": [{"length": 1, "colour": "red"}]}, "input.clips[0].colour", "unknown field"),
        ({}, "input.clips", "is required"),
    ],
)
def test_invalid_request_names_the_path(data: dict[str, Any], param: str, reason: str) -> None:
    with pytest.raises(ValidationError) as info:
        Track.model_validate(data)
    exc = invalid_request(info.value, "input")
    assert exc.param == param
    assert exc.message.startswith(param + ": ") and reason in exc.message


def test_union_tags_are_left_out_of_paths() -> None:
    tags = {"color", "image"}
    assert field_path(("asset", "image", "src"), tags=tags) == "asset.src"
    assert field_path(("asset", "color", "color"), tags=tags) == "asset.color"

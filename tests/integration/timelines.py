"""Timelines the integration tests render."""

from __future__ import annotations

from typing import Any


def long_render(seconds: float = 40.0) -> dict[str, Any]:
    """A render that takes several seconds, so it can be killed or cancelled midway."""
    return {
        "output": {"width": 640, "height": 360, "fps": 30, "crf": 18},
        "tracks": [
            {
                "clips": [
                    {"asset": {"type": "image", "src": "image.png"}, "start": 0, "length": seconds}
                ]
            },
            {
                "clips": [
                    {
                        "asset": {"type": "video", "src": "video.mp4", "volume": 0},
                        "start": i * 3.0,
                        "length": 3.0,
                        "fit": "contain",
                        "scale": 0.5,
                        "opacity": 0.8,
                    }
                    for i in range(int(seconds // 3))
                ]
            },
        ],
    }


def tiny(color: str = "#336699") -> dict[str, Any]:
    return {
        "output": {"width": 64, "height": 64, "fps": 10},
        "tracks": [
            {"clips": [{"asset": {"type": "color", "color": color}, "start": 0, "length": 0.3}]}
        ],
    }

"""JianYing catalogue names (what capcut-mate workflows send) mapped to renderer features.

Only names with a faithful renderer equivalent are here; any other name is refused with the list
of supported ones, never swapped silently for something else. The renderer's own names
(``fade``, ``wipeleft``, ``slide_up``...) are accepted as well.
"""

from __future__ import annotations

from typing import get_args

from vidtask.core import errors
from vidtask.render import schema
from vidtask.render.motion import AnimationIn

__all__ = ["animation_in", "animation_out", "transition"]

TRANSITIONS: dict[str, str] = {
    "叠化": "dissolve",
    "淡入淡出": "fade",
    "叠加": "fade",
    "闪黑": "fadeblack",
    "闪白": "fadewhite",
    "黑白摇镜": "fadegrays",
    "向左擦除": "wipeleft",
    "向右擦除": "wiperight",
    "向上擦除": "wipeup",
    "向下擦除": "wipedown",
    "向左": "slideleft",
    "向右": "slideright",
    "向上": "slideup",
    "向下": "slidedown",
    "左移": "slideleft",
    "右移": "slideright",
    "上移": "slideup",
    "下移": "slidedown",
    "圆形遮罩": "circleopen",
    "马赛克": "pixelize",
    "横向模糊": "hblur",
    "推近": "zoomin",
    "百叶窗": "horzopen",
    "横向拉幕": "horzopen",
    "竖向拉幕": "vertopen",
}
_XFADE = frozenset(get_args(schema.TransitionType))

ANIMATIONS_IN: dict[str, str] = {
    "渐显": "fade",
    "向上滑动": "slide_up",
    "向下滑动": "slide_down",
    "向左滑动": "slide_left",
    "向右滑动": "slide_right",
    "弹入": "pop",
    "放大": "pop",
}
ANIMATIONS_OUT: dict[str, str] = {
    "渐隐": "fade",
    "向上滑动": "slide_up",
    "向下滑动": "slide_down",
    "向左滑动": "slide_left",
    "向右滑动": "slide_right",
    "弹出": "pop",
    "缩小": "pop",
}
_OURS = frozenset(get_args(AnimationIn)) - {"none"}


def transition(name: str, *, param: str) -> str:
    """The renderer transition for a JianYing (or renderer) transition name."""
    found = TRANSITIONS.get(name.strip()) or (name.strip() if name.strip() in _XFADE else None)
    if found is None:
        raise _unsupported(param, "transition", name, TRANSITIONS)
    return found


def animation_in(name: str, *, param: str) -> str:
    return _animation(name, ANIMATIONS_IN, param, "intro animation")


def animation_out(name: str, *, param: str) -> str:
    return _animation(name, ANIMATIONS_OUT, param, "outro animation")


def _animation(name: str, table: dict[str, str], param: str, what: str) -> str:
    found = table.get(name.strip()) or (name.strip() if name.strip() in _OURS else None)
    if found is None:
        raise _unsupported(param, what, name, table)
    return found


def _unsupported(param: str, what: str, name: str, table: dict[str, str]) -> errors.InvalidRequest:
    known = "、".join(table)
    return errors.InvalidRequest(
        f"{param}: the {what} {name!r} is not supported by the vidtask renderer; "
        f"supported: {known} (or the renderer's own names)",
        param=param,
    )

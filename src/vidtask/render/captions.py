"""SRT subtitles: parse the cues, then turn a ``captions`` clip into one text clip per cue.

The parser accepts what real files contain: a UTF-8 BOM, CRLF line ends, missing or wrong cue
numbers, ``.`` instead of ``,`` before the milliseconds, basic ``<i>``/``<b>``/``{\\an8}`` tags
(removed). A file without a single cue is an error naming the clip.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from vidtask.core import errors
from vidtask.render import schema

__all__ = ["Cue", "expand", "parse_srt"]

_TIME = r"(\d{1,3}):(\d{1,2}):(\d{1,2})[,.](\d{1,3})"
_ARROW = re.compile(rf"^\s*{_TIME}\s*-->\s*{_TIME}")
#: Where a tag may start: ``<i>``/``</i>``-style, ending at ``>``, or ``{\\an8}``-style, at ``}``.
_OPENS = re.compile(r"</?[a-zA-Z]|\{\\")
_STYLE_FIELDS = tuple(schema.TextStyle.model_fields)


@dataclass(frozen=True, slots=True)
class Cue:
    start: float
    end: float
    text: str


def _seconds(h: str, m: str, s: str, ms: str) -> float:
    return int(h) * 3600 + int(m) * 60 + int(s) + int(ms.ljust(3, "0")) / 1000


def _untag(line: str) -> str:
    """``line`` less its tags, in linear time. (A regex like ``</?[a-zA-Z][^>]*>`` scans to the
    end of the line from every unclosed ``<b``: quadratic, minutes for a hostile 1 MB cue.)"""
    last = {">": line.rfind(">"), "}": line.rfind("}")}
    kept: list[str] = []
    done = start = 0
    while (opening := _OPENS.search(line, start)) is not None:
        close = ">" if opening[0][0] == "<" else "}"
        if opening.end() > last[close]:  # never closed, so not a tag
            start = opening.start() + 1
            continue
        kept.append(line[done : opening.start()])
        done = start = line.index(close, opening.end()) + 1
    kept.append(line[done:])
    return "".join(kept)


def parse_srt(content: str, *, param: str) -> list[Cue]:
    """The cues of an SRT document, in file order."""
    cues: list[Cue] = []
    lines = content.lstrip("\ufeff").replace("\r\n", "\n").replace("\r", "\n").split("\n")
    i = 0
    while i < len(lines):
        match = _ARROW.match(lines[i])
        if match is None:
            i += 1
            continue
        start = _seconds(*match.groups()[:4])
        end = _seconds(*match.groups()[4:])
        i += 1
        body: list[str] = []
        while i < len(lines) and lines[i].strip():
            if _ARROW.match(lines[i]):
                break
            body.append(_untag(lines[i]).strip())
            i += 1
        text = "\n".join(line for line in body if line)
        if text and end > start:
            cues.append(Cue(start, end, text))
    if not cues:
        raise errors.InvalidRequest(f"{param}: no subtitle cues found (is it an SRT file?)",
                                    param=param)  # fmt: skip
    return cues


def expand(clip: schema.Clip, cues: list[Cue]) -> list[schema.Clip]:
    """Text clips for ``cues``, timed from the clip's start and cut at its length."""
    asset = clip.asset
    assert isinstance(asset, schema.CaptionsAsset)
    style = {name: getattr(asset, name) for name in _STYLE_FIELDS}
    end = clip.start + clip.length if clip.length is not None else None
    out = []
    for cue in cues:
        start = clip.start + cue.start
        stop = clip.start + cue.end if end is None else min(end, clip.start + cue.end)
        if stop - start < 0.01:
            continue
        length = stop - start
        fade_in = min(clip.fade_in, length / 2)
        fade_out = min(clip.fade_out, length / 2)
        animation = clip.animation
        if animation is not None:
            spent = animation.duration * ((animation.in_ != "none") + (animation.out != "none"))
            if spent > length:
                animation = animation.model_copy(update={"duration": length / 2 * 0.99})
        text = schema.TextAsset(type="text", text=cue.text, **style)
        out.append(
            clip.model_copy(
                update={
                    "asset": text,
                    "start": start,
                    "length": length,
                    "fade_in": fade_in,
                    "fade_out": fade_out,
                    "animation": animation,
                }
            )
        )
    return out

"""One visual clip as a chain of filters, from its source to a stream in output time.

Stages, each skipped when it has nothing to do:

1. source: stills (images, text PNGs, freeze frames) are decoded once; videos are retimed for
   ``speed`` and resampled to the output rate; colours are generated;
2. shape: crop, then scale (``fit=blur`` adds a small blurred copy, scaled up, behind);
3. for stills, the opacity is applied once and the frame is repeated with ``loop``;
4. Ken Burns: a per-frame sub-pixel zoom/pan (``perspective``), so slow moves do not judder;
5. timestamps moved to the clip's start (``settb``/``setpts``), so overlay shows it exactly
   during [start, start + length);
6. transform: keyframed scale/rotation and the ``pop`` animation, on a transparent canvas big
   enough for the largest pose;
7. alpha: fades, fade-style animations, keyframed opacity.

The clip's position becomes overlay coordinates: numbers, or expressions of time for keyframed
``x``/``y`` and slide animations.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from vidtask.core import errors
from vidtask.render import layout, schema
from vidtask.render.graph import Graph
from vidtask.render.motion import KenBurns, Keyframe, Keyframes, curve, ease, num
from vidtask.render.probe import MediaInfo
from vidtask.render.text import RenderedText

__all__ = ["Placed", "VisualBuilder", "VisualItem", "color_arg", "pixel_format"]

#: How far a slide animation travels, as a fraction of the frame.
SLIDE_DISTANCE = 0.08
#: The pop animation grows from this size, overshoots slightly, and settles at 1.
POP_FROM = 0.6
POP_OVERSHOOT = 1.06


#: Seconds since the clip's first frame inside ``perspective``, whose frame counter starts at 1.
_FRAME_TIME = "((in-1)/{fps})"


@dataclass(frozen=True, slots=True)
class VisualItem:
    path: str
    clip: schema.Clip
    start: float
    length: float
    info: MediaInfo | None = None
    text: RenderedText | None = None


@dataclass(frozen=True, slots=True)
class Placed:
    """A finished clip stream and where to overlay it."""

    label: str
    x: str
    y: str
    width: int
    height: int
    #: True when x/y are expressions of time (overlay must evaluate them per frame).
    moving: bool
    #: The stream carries an alpha channel (yuva420p); opaque clips stay yuv420p, cheaper to
    #: process and copied rather than blended by overlay.
    alpha: bool
    start: float
    end: float
    #: A 4:4:4 copy of the stream, when asked for.
    full_label: str = ""

    def covers(self, canvas: tuple[int, int], total: float) -> bool:
        """Opaque, still, at the origin, frame-sized and on screen the whole time."""
        return (
            not self.alpha
            and not self.moving
            and (self.x, self.y) == ("0", "0")
            and (self.width, self.height) == canvas
            and self.start <= 0
            and self.end >= total
        )


def _decoder_threads(info: MediaInfo, draft: bool) -> int:
    """One decoding thread keeps up with a 1080p source (the encoder is the bottleneck) and
    holds the fewest frames; bigger sources get two, and drafts (small frames, a fast encoder:
    decoding is what they wait for) get two as well."""
    return 2 if draft or info.width * info.height > 1920 * 1088 else 1


def pixel_format(alpha: bool, full_chroma: bool = False) -> str:
    return ("yuva" if alpha else "yuv") + ("444p" if full_chroma else "420p")


def color_arg(color: str) -> str:
    r, g, b, a = schema.rgba(color)
    return f"0x{r:02x}{g:02x}{b:02x}@{num(a / 255)}"


def _even(value: float) -> int:
    return max(2, math.ceil(value / 2) * 2)


class VisualBuilder:
    def __init__(
        self, graph: Graph, canvas: tuple[int, int], fps: int, *, draft: bool = False
    ) -> None:
        self.graph = graph
        self.canvas = canvas
        self.fps = fps
        self.draft = draft

    def _chain(self, source: str, filters: list[str], prefix: str = "v") -> str:
        label = self.graph.label(prefix)
        body = ",".join(f for f in filters if f) or "null"
        self.graph.add(f"{source}{body}[{label}]")
        return label

    # -- stages ------------------------------------------------------------------------------

    def _shape(
        self, source: str, size: tuple[int, int], p: layout.Placement, filters: list[str]
    ) -> str:
        """Crop and scale ``source`` (a pad like ``[3:v]`` of ``size`` pixels, plus ``filters``
        before shaping)."""
        crop = f"crop={p.crop.width}:{p.crop.height}:{p.crop.x}:{p.crop.y}" if p.crop else ""
        if p.blur is None:
            kept = (p.crop.width, p.crop.height) if p.crop else size
            # A scale to the same size still copies every frame (~2 ms at 1080p).
            scale = f"scale={p.width}:{p.height}" if kept != (p.width, p.height) else ""
            return self._chain(source, [*filters, crop, scale, "setsar=1"])
        sharp, soft = self.graph.label("s"), self.graph.label("b")
        split = ",".join(f for f in [*filters, "split"] if f)
        self.graph.add(f"{source}{split}[{sharp}][{soft}]")
        cover, inner = p.blur.cover_crop, p.blur.inner
        small = (_even(p.width / 8), _even(p.height / 8))
        back = self._chain(
            f"[{soft}]",
            [
                f"crop={cover.width}:{cover.height}:{cover.x}:{cover.y}",
                f"scale={small[0]}:{small[1]}:flags=area",
                "boxblur=4:2",
                f"scale={p.width}:{p.height}:flags=bilinear",
                "setsar=1",
            ],
        )
        front = self._chain(f"[{sharp}]", [crop, f"scale={inner.width}:{inner.height}", "setsar=1"])
        return self._chain(f"[{back}][{front}]", [f"overlay={inner.x}:{inner.y}"])

    def _ken_burns(self, kb: KenBurns | None, length: float) -> str:
        if kb is None:
            return ""
        u = f"clip({_FRAME_TIME.format(fps=self.fps)}/{num(length)},0,1)"
        e = ease(kb.easing, u)
        s = f"({num(kb.start.scale)}+{num(kb.end.scale - kb.start.scale)}*{e})"

        def edge(dim: str, pan0: float, pan1: float, sign: str) -> str:
            half = f"{dim}/{s}/2"
            center = f"clip({dim}/2+({num(pan0)}+{num(pan1 - pan0)}*{e})*{dim},{half},{dim}-{half})"
            return f"'{center}{sign}{half}'"

        left = edge("W", kb.start.x, kb.end.x, "-")
        right = edge("W", kb.start.x, kb.end.x, "+")
        top = edge("H", kb.start.y, kb.end.y, "-")
        bottom = edge("H", kb.start.y, kb.end.y, "+")
        return (
            f"perspective=x0={left}:y0={top}:x1={right}:y1={top}:x2={left}:y2={bottom}"
            f":x3={right}:y3={bottom}:sense=source:eval=frame:interpolation=linear"
        )

    def _scale_curve(self, clip: schema.Clip, length: float) -> tuple[str, float] | None:
        """Scale over time from keyframes and the pop animation (expression of ``in``), with
        its largest value; None when the clip never changes size."""
        t = _FRAME_TIME.format(fps=self.fps)
        parts: list[str] = []
        peak = 1.0
        frames = clip.keyframes.scale if clip.keyframes else None
        if frames:
            parts.append(f"({curve(frames, t)})")
            peak = max(f.value for f in frames)
        anim = clip.animation
        if anim is not None and "pop" in (anim.in_, anim.out):
            d = num(anim.duration)
            if anim.in_ == "pop":
                grow = [Keyframe(time=0, value=POP_FROM, easing="ease_out"),
                        Keyframe(time=anim.duration * 0.7, value=POP_OVERSHOOT,
                                 easing="ease_in_out"),
                        Keyframe(time=anim.duration, value=1.0)]  # fmt: skip
                parts.append(f"({curve(grow, t)})")
            if anim.out == "pop":
                u = f"clip(({t}-{num(length)}+{d})/{d},0,1)"
                parts.append(f"(1-{num(1 - POP_FROM)}*{ease('ease_in', u)})")
            peak *= POP_OVERSHOOT
        if not parts:
            return None
        return "*".join(parts), peak

    def _transform(
        self, clip: schema.Clip, length: float, size: tuple[int, int]
    ) -> tuple[list[str], tuple[int, int]]:
        """Filters that scale/rotate the clip over time, and the canvas size they produce."""
        scaled = self._scale_curve(clip, length)
        rotation = clip.keyframes.rotation if clip.keyframes else None
        if scaled is None and not rotation:
            return [], size
        s, peak = scaled if scaled is not None else ("1", 1.0)
        s = f"max({s},0.001)"
        w, h = size
        reach = math.hypot(w, h) if rotation else 0.0
        cw = _even(peak * (reach or w) + 4)
        ch = _even(peak * (reach or h) + 4)
        t = _FRAME_TIME.format(fps=self.fps)
        r = f"({curve(rotation, t)})*PI/180" if rotation else "0"
        corners = []
        for dx, dy in (("-W/2", "-H/2"), ("W/2", "-H/2"), ("-W/2", "H/2"), ("W/2", "H/2")):
            if rotation:
                x = f"'W/2+{s}*(({dx})*cos({r})-({dy})*sin({r}))'"
                y = f"'H/2+{s}*(({dx})*sin({r})+({dy})*cos({r}))'"
            else:
                x, y = f"'W/2+{s}*({dx})'", f"'H/2+{s}*({dy})'"
            corners.append((x, y))
        points = ":".join(f"x{i}={x}:y{i}={y}" for i, (x, y) in enumerate(corners))
        return (
            [
                f"pad={cw}:{ch}:{(cw - w) // 2}:{(ch - h) // 2}:color=black@0",
                f"perspective={points}:sense=destination:eval=frame:interpolation=linear",
            ],
            (cw, ch),
        )

    def _alpha(self, clip: schema.Clip, start: float, length: float) -> list[str]:
        filters = []
        anim = clip.animation
        fade_in = clip.fade_in
        fade_out = clip.fade_out
        if anim is not None:
            # Every animation fades as it moves; a pure "fade" is nothing else.
            if anim.in_ != "none":
                fade_in = max(fade_in, anim.duration)
            if anim.out != "none":
                fade_out = max(fade_out, anim.duration)
        if fade_in > 0:
            filters.append(f"fade=t=in:st={num(start)}:d={num(fade_in)}:alpha=1")
        if fade_out > 0:
            st = start + length - fade_out
            filters.append(f"fade=t=out:st={num(st)}:d={num(fade_out)}:alpha=1")
        frames = clip.keyframes.opacity if clip.keyframes else None
        if frames:
            level = curve(frames, f"(T-{num(start)})")
            filters.append(
                f"geq=lum='lum(X,Y)':cb='cb(X,Y)':cr='cr(X,Y)':a='alpha(X,Y)*clip({level},0,1)'"
            )
        return filters

    def _motion(self, clip: schema.Clip, start: float, length: float, axis: str) -> str:
        """Offset along ``axis`` ("x"/"y") over time, in pixels (expression of overlay's t)."""
        size = self.canvas[0] if axis == "x" else self.canvas[1]
        t = f"(t-{num(start)})"
        parts = []
        keyframes: Keyframes | None = clip.keyframes
        frames = getattr(keyframes, axis) if keyframes else None
        if frames:
            parts.append(f"({curve(frames, t)})*{size}")
        anim = clip.animation
        if anim is not None:
            d = num(anim.duration)
            travel = num(SLIDE_DISTANCE * size)
            coming = {"x": {"slide_left": "", "slide_right": "-"},
                      "y": {"slide_up": "", "slide_down": "-"}}[axis]  # fmt: skip
            if anim.in_ in coming:
                u = f"clip({t}/{d},0,1)"
                parts.append(f"{coming[anim.in_]}{travel}*(1-{ease('ease_out', u)})")
            if anim.out in coming:
                u = f"clip(({t}-{num(length)}+{d})/{d},0,1)"
                sign = "-" if coming[anim.out] == "" else ""
                parts.append(f"{sign}{travel}*{ease('ease_in', u)}")
        return "+".join(parts)

    @staticmethod
    def _needs_alpha(item: VisualItem) -> bool:
        clip, asset = item.clip, item.clip.asset
        if isinstance(asset, schema.TextAsset):
            return True
        if isinstance(asset, schema.ColorAsset) and schema.rgba(asset.color)[3] < 255:
            return True
        if item.info is not None and item.info.alpha:
            return True
        if clip.opacity < 1 or clip.fade_in > 0 or clip.fade_out > 0:
            return True
        animation = clip.animation
        if animation is not None and (animation.in_ != "none" or animation.out != "none"):
            return True
        frames = clip.keyframes
        return frames is not None and any((frames.scale, frames.opacity, frames.rotation))

    @staticmethod
    def unchanging(item: VisualItem) -> bool:
        """The clip shows one picture the whole time (fades aside): every frame it sends is a
        reference to that one picture."""
        clip, asset = item.clip, item.clip.asset
        if clip.ken_burns is not None or clip.keyframes is not None or clip.animation is not None:
            return False
        if isinstance(asset, schema.TextAsset | schema.ColorAsset):
            return True
        if isinstance(asset, schema.VideoAsset):
            return asset.freeze
        return item.info is not None and item.info.is_image

    # -- sources -------------------------------------------------------------------------------

    def build(self, item: VisualItem, *, full_chroma_copy: bool = False) -> Placed:
        """The clip's chain. ``full_chroma_copy`` adds a 4:4:4 copy of an `unchanging` clip
        for ``xfade`` (see `Compiler.add_layer`)."""
        assert not full_chroma_copy or self.unchanging(item)
        clip, start, length, fps = item.clip, item.start, item.length, self.fps
        asset = clip.asset
        frames = max(1, round(length * fps))
        still = True
        opacity = clip.opacity
        alpha = self._needs_alpha(item)
        sources: list[str] = []
        if isinstance(asset, schema.TextAsset):
            assert item.text is not None
            size = (item.text.width, item.text.height)
            x, y = layout.position_xy(clip, self.canvas, size)
            k = self.graph.input(item.text.path, threads=1)
            sources.append(self._chain(f"[{k}:v]", ["trim=end_frame=1"]))
        elif isinstance(asset, schema.ColorAsset):
            p = layout.place(clip, self.canvas, self.canvas)
            size, (x, y), still = (p.width, p.height), (p.x, p.y), False
            color = (f"color=c={color_arg(asset.color)}:s={p.width}x{p.height}:r={fps}"
                     f":d={num(frames / fps)}")  # fmt: skip
            # The source draws in any format: a copy is a second source, not a conversion.
            sources += [self._chain("", [color]) for _ in range(1 + full_chroma_copy)]
        else:
            info = item.info
            assert info is not None and isinstance(asset, schema.ImageAsset | schema.VideoAsset)
            picture = (info.width, info.height)
            p = layout.place(clip, picture, self.canvas)
            size, (x, y) = (p.width, p.height), (p.x, p.y)
            if isinstance(asset, schema.VideoAsset) and not asset.freeze:
                k = self.graph.input(
                    info.path,
                    trim=asset.trim,
                    length=length * asset.speed,
                    threads=_decoder_threads(info, self.draft),
                    fast=self.draft,
                )
                retime = f"setpts=(PTS-STARTPTS)/{num(asset.speed)}" if asset.speed != 1 else ""
                sources.append(
                    self._shape(
                        f"[{k}:v]", picture, p, [retime, f"fps={fps}", f"trim=end_frame={frames}"]
                    )
                )
                still = False
            elif isinstance(asset, schema.ImageAsset) and not info.is_image:
                # An animation (GIF, APNG, WebP): play it in a loop for the clip's length.
                k = self.graph.input(
                    info.path, length=length, loop=True, threads=_decoder_threads(info, self.draft)
                )
                sources.append(
                    self._shape(f"[{k}:v]", picture, p, [f"fps={fps}", f"trim=end_frame={frames}"])
                )
                still = False
            else:
                trim = asset.trim if isinstance(asset, schema.VideoAsset) else 0.0
                video = isinstance(asset, schema.VideoAsset)
                # One frame is decoded: one thread, so no per-thread frame copies are kept.
                k = self.graph.input(info.path, trim=trim, length=1.0 if video else None, threads=1)
                sources.append(self._shape(f"[{k}:v]", picture, p, ["trim=end_frame=1"]))
        if full_chroma_copy and len(sources) == 1:
            # One decoded picture, split before it is converted and repeated.
            copies = [self.graph.label("s"), self.graph.label("s")]
            self.graph.add(f"[{sources[0]}]split[{copies[0]}][{copies[1]}]")
            sources = copies
        transform, canvas = self._transform(clip, length, size)

        def finish(source: str, pixels: str) -> str:
            filters: list[str] = []
            if still:
                if opacity < 1:
                    filters += ["format=rgba", f"colorchannelmixer=aa={num(opacity)}"]
                filters += [f"format={pixels}", f"loop=loop={frames - 1}:size=1:start=0"]
            else:
                filters.append(f"format={pixels}")
                if opacity < 1:
                    filters.append(f"lut=a=val*{num(opacity)}")
            filters.append(self._ken_burns(clip.ken_burns, length))
            if still:
                filters += ["settb=AVTB", f"setpts=N/({fps}*TB)+{num(start)}/TB"]
            else:
                filters += ["settb=AVTB", f"setpts=PTS-STARTPTS+{num(start)}/TB"]
            filters += transform
            filters += self._alpha(clip, start, length)
            return self._chain(f"[{source}]", filters)

        label = finish(sources[0], pixel_format(alpha))
        full_label = finish(sources[1], pixel_format(alpha, True)) if full_chroma_copy else ""
        x -= (canvas[0] - size[0]) // 2
        y -= (canvas[1] - size[1]) // 2
        dx, dy = self._motion(clip, start, length, "x"), self._motion(clip, start, length, "y")
        return Placed(
            label=label,
            x=f"{x}+{dx}" if dx else str(x),
            y=f"{y}+{dy}" if dy else str(y),
            width=canvas[0],
            height=canvas[1],
            moving=bool(dx or dy),
            alpha=alpha,
            start=start,
            end=start + length,
            full_label=full_label,
        )

    def full_frame(
        self, placed: Placed, path: str, alpha: bool, frames: int, *, full_chroma: bool = False
    ) -> str:
        """``placed`` as a canvas-sized stream at the origin of exactly ``frames`` frames (a
        short source holds its last frame), with an alpha channel if ``alpha`` (every stream
        that ``xfade`` blends and ``concat`` joins must have the same format)."""
        if placed.moving:
            raise errors.InvalidRequest(
                f"{path}: a clip joined to another by a transition cannot move (x/y keyframes "
                "or slide animations); put the movement on another track",
                param=f"{path}.transition",
            )
        fw, fh = self.canvas
        x, y, w, h = int(placed.x), int(placed.y), placed.width, placed.height
        filters = [f"fps={self.fps}"]
        if alpha and not placed.alpha:
            filters.append(f"format={pixel_format(True, full_chroma)}")
        if (x, y, w, h) != (0, 0, fw, fh):
            left, top = max(0, x), max(0, y)
            right, bottom = min(fw, x + w), min(fh, y + h)
            if right - left < 2 or bottom - top < 2:  # entirely off screen
                filters += ["crop=2:2:0:0", "lut=a=0", f"pad={fw}:{fh}:0:0:color=black@0"]
            else:
                if (left, top, right, bottom) != (x, y, x + w, y + h):
                    filters.append(f"crop={right - left}:{bottom - top}:{left - x}:{top - y}")
                filters.append(f"pad={fw}:{fh}:{left}:{top}:color=black@0")
        filters += ["tpad=stop=-1:stop_mode=clone", f"trim=end_frame={frames}"]
        return self._chain(f"[{placed.label}]", filters)

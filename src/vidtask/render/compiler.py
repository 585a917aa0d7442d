"""Compile a timeline into ONE ffmpeg command with ONE filter_complex graph.

Visual clips are overlaid on a background colour in layer order (later tracks on top). Every
chain ends with timestamps in output time (settb=AVTB, then setpts to ``start``), so overlay's
frame sync shows each clip exactly in [start, start + length). Stills are decoded once and
repeated with ``loop``; audio is resampled to 48 kHz stereo, delayed to ``start`` and mixed.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from vidtask.core import errors
from vidtask.render import layout, schema
from vidtask.render.probe import MediaInfo
from vidtask.render.stills import StillPlan, plan_stills
from vidtask.render.text import RenderedText

__all__ = ["Command", "compile_timeline", "ffmpeg_color", "resolve_length"]

log = logging.getLogger(__name__)

#: Above this the graph goes to a file: one argv string is capped at 128 KiB on Linux.
_INLINE_GRAPH_MAX = 64_000


@dataclass(frozen=True, slots=True)
class Command:
    args: list[str]
    #: Output duration in seconds (a whole number of frames).
    duration: float
    warnings: list[str] = field(default_factory=list)
    #: The frames the same command writes for the cover, thumbnail, sprite sheet and previews.
    stills: StillPlan | None = None


def _n(value: float) -> str:
    text = f"{value:.6f}".rstrip("0").rstrip(".")
    return text if text not in ("", "-0") else "0"


def ffmpeg_color(color: str) -> str:
    r, g, b, a = schema.rgba(color)
    return f"0x{r:02x}{g:02x}{b:02x}@{_n(a / 255)}"


def resolve_length(path: str, clip: schema.Clip, info: MediaInfo | None) -> float:
    """The clip's length; for video/audio without one, the rest of the source after trim."""
    if clip.length is not None:
        return clip.length
    asset = clip.asset
    if info is None or not isinstance(asset, schema.VideoAsset | schema.AudioAsset):
        raise errors.InvalidRequest(f"{path}.length: is required", param=f"{path}.length")
    rest = info.duration - asset.trim
    if rest <= 0:
        raise errors.InvalidRequest(
            f"{path}.asset.trim: {_n(asset.trim)} s is past the end of the "
            f"{_n(info.duration)} s source",
            param=f"{path}.asset.trim",
        )
    return rest


class _Builder:
    def __init__(self, timeline: schema.Timeline) -> None:
        self.out = timeline.output
        self.frame = (self.out.width, self.out.height)
        self.inputs: list[str] = []
        self.count = 0
        self.chains: list[str] = []
        self.visual: list[tuple[str, int, int]] = []  # label, x, y
        self.audio: list[str] = []
        self.warnings: list[str] = []

    def input(self, path: Path, *, trim: float = 0.0, length: float | None = None) -> int:
        if trim > 0:
            self.inputs += ["-ss", _n(trim)]
        if length is not None:
            self.inputs += ["-t", _n(length)]
        self.inputs += ["-i", str(path)]
        self.count += 1
        return self.count - 1

    def _alpha(self, clip: schema.Clip, start: float, length: float) -> str:
        fades = []
        if clip.fade_in > 0:
            fades.append(f"fade=t=in:st={_n(start)}:d={_n(clip.fade_in)}:alpha=1")
        if clip.fade_out > 0:
            st = start + length - clip.fade_out
            fades.append(f"fade=t=out:st={_n(st)}:d={_n(clip.fade_out)}:alpha=1")
        return "".join("," + f for f in fades)

    def _shape(self, placement: layout.Placement) -> str:
        crop = f"crop={placement.crop[0]}:{placement.crop[1]}," if placement.crop else ""
        return f"{crop}scale={placement.width}:{placement.height},setsar=1"

    def still(
        self, i: int, clip: schema.Clip, source: str, shape: str, start: float, length: float
    ) -> str:
        frames = max(1, round(length * self.out.fps))
        opacity = f",colorchannelmixer=aa={_n(clip.opacity)}" if clip.opacity < 1 else ""
        return (
            f"{source}trim=end_frame=1,{shape},format=rgba{opacity},format=yuva420p,"
            f"loop=loop={frames - 1}:size=1:start=0,settb=AVTB,"
            f"setpts=N/({self.out.fps}*TB)+{_n(start)}/TB{self._alpha(clip, start, length)}"
            f"[v{i}]"
        )

    def add_visual(
        self,
        i: int,
        path: str,
        clip: schema.Clip,
        length: float,
        info: MediaInfo | None,
        text: RenderedText | None,
    ) -> None:
        asset, fps, start = clip.asset, self.out.fps, clip.start
        if isinstance(asset, schema.TextAsset):
            assert text is not None
            xy = layout.position_xy(clip, self.frame, (text.width, text.height))
            chain = self.still(i, clip, f"[{self.input(text.path)}:v]", "null", start, length)
        elif isinstance(asset, schema.ColorAsset):
            p = layout.place(clip, self.frame, self.frame)
            frames = max(1, round(length * fps))
            opacity = f",lut=a=val*{_n(clip.opacity)}" if clip.opacity < 1 else ""
            xy = (p.x, p.y)
            chain = (
                f"color=c={ffmpeg_color(asset.color)}:s={p.width}x{p.height}:r={fps}"
                f":d={_n(frames / fps)},format=yuva420p{opacity},settb=AVTB,"
                f"setpts=PTS-STARTPTS+{_n(start)}/TB{self._alpha(clip, start, length)}[v{i}]"
            )
        elif isinstance(asset, schema.ImageAsset):
            assert info is not None
            p = layout.place(clip, (info.width, info.height), self.frame)
            xy = (p.x, p.y)
            chain = self.still(
                i, clip, f"[{self.input(info.path)}:v]", self._shape(p), start, length
            )
        elif isinstance(asset, schema.VideoAsset):
            assert info is not None
            p = layout.place(clip, (info.width, info.height), self.frame)
            xy = (p.x, p.y)
            k = self.input(info.path, trim=asset.trim, length=length)
            frames = max(1, round(length * fps))
            opacity = f",lut=a=val*{_n(clip.opacity)}" if clip.opacity < 1 else ""
            chain = (
                f"[{k}:v]fps={fps},trim=end_frame={frames},{self._shape(p)},"
                f"format=yuva420p{opacity},settb=AVTB,setpts=PTS-STARTPTS+{_n(start)}/TB"
                f"{self._alpha(clip, start, length)}[v{i}]"
            )
            if info.has_audio and asset.volume > 0:
                self.add_audio(i, k, clip, asset.volume, length)
            if info.duration - asset.trim < length - 1 / fps:
                self.warnings.append(
                    f"{path}: the source has only {_n(info.duration - asset.trim)} s after trim; "
                    f"the clip ends early"
                )
        else:
            raise AssertionError(asset)
        self.chains.append(chain)
        self.visual.append((f"v{i}", *xy))

    def add_audio(self, i: int, k: int, clip: schema.Clip, volume: float, length: float) -> None:
        fades = ""
        if clip.fade_in > 0:
            fades += f",afade=t=in:st=0:d={_n(clip.fade_in)}"
        if clip.fade_out > 0:
            fades += f",afade=t=out:st={_n(length - clip.fade_out)}:d={_n(clip.fade_out)}"
        delay = round(clip.start * 1000)
        self.chains.append(
            f"[{k}:a]asetpts=PTS-STARTPTS,aresample=48000,"
            f"aformat=sample_fmts=fltp:channel_layouts=stereo,atrim=duration={_n(length)},"
            f"volume={_n(volume)}{fades},adelay=delays={delay}:all=1[a{i}]"
        )
        self.audio.append(f"a{i}")

    def finish(self, total: float, stills: bool) -> str:
        out = self.out
        base = f"color=c={ffmpeg_color(out.background)}:s={out.width}x{out.height}:r={out.fps}"
        chains = [f"{base}:d={_n(total)},format=yuv420p[base]", *self.chains]
        below = "base"
        for n, (label, x, y) in enumerate(self.visual):
            chains.append(f"[{below}][{label}]overlay=x={x}:y={y}:eof_action=pass[o{n}]")
            below = f"o{n}"
        split = ",split[vout][still_in]" if stills else "[vout]"
        chains.append(f"[{below}]format=yuv420p{split}")
        if self.audio:
            # normalize=0 keeps each clip's volume as requested; the limiter catches overs.
            mixed = "".join(f"[{a}]" for a in self.audio)
            chains.append(
                f"{mixed}amix=inputs={len(self.audio)}:duration=longest:dropout_transition=0"
                f":normalize=0,alimiter=limit=0.98:level=0:latency=1,"
                f"apad=whole_dur={_n(total)},atrim=end={_n(total)}[aout]"
            )
        return ";\n".join(chains)


def compile_timeline(
    timeline: schema.Timeline,
    *,
    media: Mapping[str, MediaInfo],
    texts: Mapping[str, RenderedText],
    output: Path,
    ffmpeg_exe: str,
    max_duration_s: float,
    stills: bool = True,
) -> Command:
    """Build the ffmpeg command. ``media`` is keyed by asset src, ``texts`` by clip path.

    With ``stills``, the same command also writes the cover, thumbnail, sprite sheet and
    preview frames next to ``output`` (see `vidtask.render.stills`)."""
    builder = _Builder(timeline)
    fps = timeline.output.fps
    end = 0.0
    for i, (path, clip) in enumerate(timeline.clips()):
        asset = clip.asset
        info = media.get(asset.src) if isinstance(asset, _MEDIA) else None
        length = resolve_length(path, clip, info)
        if clip.fade_in + clip.fade_out > length:
            raise errors.InvalidRequest(
                f"{path}.fade_out: fade_in + fade_out must not exceed the clip's "
                f"{_n(length)} s length",
                param=f"{path}.fade_out",
            )
        end = max(end, clip.start + length)
        if end > max_duration_s:
            raise errors.InvalidRequest(
                f"{path}: the video would be {_n(end)} s long, over the "
                f"{_n(max_duration_s)} s limit",
                param=f"{path}.length",
            )
        if isinstance(asset, schema.AudioAsset):
            assert info is not None
            if asset.volume > 0:
                k = builder.input(info.path, trim=asset.trim, length=length)
                builder.add_audio(i, k, clip, asset.volume, length)
        else:
            builder.add_visual(i, path, clip, length, info, texts.get(path))
    frames = max(1, round(end * fps))
    total = frames / fps
    graph = builder.finish(total, stills)
    plan: StillPlan | None = None
    if stills:
        out = timeline.output
        plan = plan_stills(
            output.parent, frames=frames, fps=fps, previews=out.previews, cover_at=out.cover_at
        )
        graph = ";\n".join([graph, plan.chain("still_in")])
    if len(graph) > _INLINE_GRAPH_MAX:
        script = output.with_name("filter_graph.txt")
        script.write_text(graph, encoding="utf-8")
        graph_args = ["-/filter_complex", str(script)]
    else:
        graph_args = ["-filter_complex", graph]
    maps = ["-map", "[vout]"]
    if builder.audio:
        maps += ["-map", "[aout]", "-c:a", "aac", "-b:a", "192k", "-ar", "48000"]
    args = [
        ffmpeg_exe, "-hide_banner", "-nostdin", "-loglevel", "error",
        "-progress", "pipe:1", "-nostats",
        *builder.inputs,
        *graph_args,
        *maps,
        "-c:v", "libx264", "-preset", "veryfast", "-crf", str(timeline.output.crf),
        "-pix_fmt", "yuv420p", "-r", str(fps),
        "-movflags", "+faststart", "-t", _n(total), "-y", str(output),
        *(plan.args() if plan else []),
    ]  # fmt: skip
    log.debug("compiled %d inputs, graph of %d chars", builder.count, len(graph))
    return Command(args=args, duration=total, warnings=builder.warnings, stills=plan)


_MEDIA = (schema.ImageAsset, schema.VideoAsset, schema.AudioAsset)

"""Compile a timeline into ONE ffmpeg command with ONE filter_complex graph.

Visual clips are overlaid on a background colour in layer order (later tracks on top; within a
track, runs of clips joined by transitions are blended with ``xfade`` first). Every clip chain
ends with timestamps in output time, so overlay's frame sync shows each clip exactly in
[start, start + length) (see `vidtask.render.visual`). Audio is mixed by `vidtask.render.audio`.
The same command writes the frames the cover, thumbnail, sprite sheet and previews are made of
(`vidtask.render.stills`).
"""

from __future__ import annotations

import logging
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path

from vidtask.core import errors
from vidtask.render import audio, encoding, schema, transitions
from vidtask.render.graph import Graph
from vidtask.render.motion import num
from vidtask.render.probe import MediaInfo
from vidtask.render.stills import StillPlan, plan_stills
from vidtask.render.text import RenderedText
from vidtask.render.visual import Placed, VisualBuilder, VisualItem, color_arg, pixel_format

__all__ = ["Command", "Entry", "compile_timeline", "entries", "output_encoding", "resolve_length"]

log = logging.getLogger(__name__)

#: Above this the graph goes to a file: one argv string is capped at 128 KiB on Linux.
_INLINE_GRAPH_MAX = 64_000
_MEDIA = (schema.ImageAsset, schema.VideoAsset, schema.AudioAsset)


@dataclass(frozen=True, slots=True)
class Command:
    args: list[str]
    #: Output duration in seconds (a whole number of frames).
    duration: float
    output: Path
    encoding: encoding.Encoding
    warnings: list[str] = field(default_factory=list)
    #: The frames the same command writes for the cover, thumbnail, sprite sheet and previews.
    stills: StillPlan | None = None


@dataclass(frozen=True, slots=True)
class Entry:
    """A clip to render, with its field path (for errors) and its track (its layer)."""

    path: str
    track: int
    clip: schema.Clip
    #: False for text clips made from captions: cues may overlap and never join transitions.
    exclusive: bool = True


def entries(timeline: schema.Timeline) -> list[Entry]:
    """Every clip of the timeline except ``captions`` clips (which expand into text clips)."""
    return [
        Entry(f"tracks[{t}].clips[{c}]", t, clip)
        for t, track in enumerate(timeline.tracks)
        for c, clip in enumerate(track.clips)
        if not isinstance(clip.asset, schema.CaptionsAsset)
    ]


#: Encoder threads: enough for speed, few enough that x264's per-thread frames stay small.
ENCODER_THREADS = max(1, min(os.cpu_count() or 2, 4))


def output_encoding(out: schema.Output) -> encoding.Encoding:
    """The encoder settings and render size of a timeline's output."""
    return encoding.encoding_for(
        out.format,
        out.quality,
        width=out.width,
        height=out.height,
        fps=out.fps,
        crf=out.crf,
        threads=ENCODER_THREADS,
    )


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
            f"{path}.asset.trim: {num(asset.trim)} s is past the end of the "
            f"{num(info.duration)} s source",
            param=f"{path}.asset.trim",
        )
    speed = asset.speed if isinstance(asset, schema.VideoAsset) else 1.0
    return rest / speed


def _check_fit(path: str, clip: schema.Clip, length: float) -> None:
    if clip.fade_in + clip.fade_out > length:
        raise errors.InvalidRequest(
            f"{path}.fade_out: fade_in + fade_out must not exceed the clip's {num(length)} s "
            "length",
            param=f"{path}.fade_out",
        )
    if clip.keyframes is not None and clip.keyframes.last_time() > length + 1e-6:
        raise errors.InvalidRequest(
            f"{path}.keyframes: a keyframe lies after the end of the {num(length)} s clip",
            param=f"{path}.keyframes",
        )


class _Compiler:
    def __init__(
        self,
        timeline: schema.Timeline,
        enc: encoding.Encoding,
        media: Mapping[str, MediaInfo],
        texts: Mapping[str, RenderedText],
    ) -> None:
        self.out = timeline.output
        self.enc = enc
        self.fps = enc.fps
        self.media = media
        self.texts = texts
        self.graph = Graph()
        draft = timeline.output.quality == "draft"
        self.visuals = VisualBuilder(self.graph, (enc.width, enc.height), self.fps, draft=draft)
        self.layers: list[Placed] = []
        self.sounds: list[audio.AudioClip] = []
        self.warnings: list[str] = []

    def info(self, clip: schema.Clip) -> MediaInfo | None:
        return self.media.get(clip.asset.src) if isinstance(clip.asset, _MEDIA) else None

    def add_audio(self, entry: Entry, length: float) -> None:
        asset = entry.clip.asset
        info = self.info(entry.clip)
        assert isinstance(asset, schema.AudioAsset) and info is not None
        if asset.volume <= 0:
            return
        k = self.graph.input(info.path, trim=asset.trim, length=length, loop=asset.loop, threads=1)
        clip = entry.clip
        self.sounds.append(
            audio.AudioClip(
                k, clip.start, length, asset.volume, clip.fade_in, clip.fade_out, 1.0, asset.role
            )  # fmt: skip
        )

    def item(self, span: transitions.Span) -> VisualItem:
        clip = span.clip
        return VisualItem(
            span.path, clip, span.start, span.length, self.info(clip), self.texts.get(span.path)
        )

    def add_visual(self, span: transitions.Span, *, full_chroma_copy: bool = False) -> Placed:
        clip = span.clip
        info = self.info(clip)
        first_input = self.graph.count
        placed = self.visuals.build(self.item(span), full_chroma_copy=full_chroma_copy)
        asset = clip.asset
        if isinstance(asset, schema.VideoAsset):
            assert info is not None
            if info.has_audio and asset.volume > 0 and not asset.mute and not asset.freeze:
                self.sounds.append(
                    audio.AudioClip(first_input, span.start, span.length, asset.volume,
                                    clip.fade_in, clip.fade_out, asset.speed, asset.role)
                )  # fmt: skip
            available = (info.duration - asset.trim) / asset.speed
            if not asset.freeze and available < span.length - 1 / self.fps:
                self.warnings.append(
                    f"{span.path}: the source has only {num(available)} s after trim; "
                    "the clip ends early"
                )
        return placed

    def add_layer(self, layer: transitions.Layer) -> None:
        if not layer.joins:
            self.layers.append(self.add_visual(layer.members[0]))
            return
        first = layer.members[0]
        canvas = (self.enc.width, self.enc.height)
        # xfade works in 4:4:4 only: for 4:2:0 streams ffmpeg adds three converters to every
        # transition, each holding a full frame until the render ends (~20 MB per transition
        # at 1080p). A picture that never changes gets a 4:4:4 copy, converted once, for the
        # transitions; the blend is converted back, the bodies are not touched.
        full = all(self.visuals.unchanging(self.item(m)) for m in layer.members)
        placed = [self.add_visual(m, full_chroma_copy=full) for m in layer.members]
        alpha = any(p.alpha or (p.x, p.y, p.width, p.height) != ("0", "0", *canvas) for p in placed)
        # Frame numbers on the output's grid: rounding each length and overlap by itself
        # would drift from it (at 15 fps a 0.5 s crossfade is 7.5 frames).
        edges = [(round(m.start * self.fps), round(m.end * self.fps)) for m in layer.members]
        frames = [max(1, end - begin) for begin, end in edges]
        overlaps = [max(1, edges[i][1] - edges[i + 1][0]) for i in range(len(layer.joins))]
        streams = [
            self.visuals.full_frame(p, m.path, alpha, n)
            for p, m, n in zip(placed, layer.members, frames, strict=True)
        ]
        copies = [
            self.visuals.full_frame(
                replace(p, label=p.full_label), m.path, alpha, n, full_chroma=True
            )
            for p, m, n in zip(placed, layer.members, frames, strict=True)
            if full
        ]
        joined = self._join(
            streams, copies or None, frames, overlaps, layer.joins, first.start, alpha
        )
        self.layers.append(
            Placed(joined, "0", "0", *canvas, False, alpha, first.start, layer.members[-1].end)
        )

    def _join(
        self,
        streams: list[str],
        blends: list[str] | None,
        frames: list[int],
        overlaps: list[int],
        joins: list[transitions.Join],
        start: float,
        alpha: bool,
    ) -> str:
        """Cut each clip into head, body and tail, blend tail and next head (``overlaps[i]``
        frames) with ``xfade``, and concatenate the pieces. xfade processes every frame it is
        given, so it only gets the frames of the transitions; the bodies pass through
        ``concat`` untouched. Heads and tails come from ``blends`` (4:4:4 copies) if given,
        and the blends are converted back to ``streams``' format."""
        heads: list[str] = []
        tails: list[str] = []
        bodies: list[str | None] = []
        for i, count in enumerate(frames):
            head = overlaps[i - 1] if i else 0
            tail = overlaps[i] if i < len(joins) else 0
            windows = {name: (a, b) for name, a, b in (
                ("head", 0, head), ("body", head, count - tail), ("tail", count - tail, count)
            ) if b > a}  # fmt: skip
            cuts = self._cut(streams[i], (blends or streams)[i], windows)
            if "head" in cuts:
                heads.append(cuts["head"])
            if "tail" in cuts:
                tails.append(cuts["tail"])
            bodies.append(cuts.get("body"))
        blended = [self.graph.label("x") for _ in joins]
        for i, label in enumerate(blended):
            self.graph.add(
                f"[{tails[i]}][{heads[i]}]xfade=transition={joins[i].type}"
                f":duration={num(overlaps[i] / self.fps)}:offset=0[{label}]"
            )
        if blends:
            blended = self._convert_back(blended, overlaps, pixel_format(alpha))
        out: list[str] = []
        for i, body in enumerate(bodies):
            if body is not None:
                out.append(body)
            if i < len(joins):
                out.append(blended[i])
        joined = self.graph.label("j")
        self.graph.add(
            "".join(f"[{label}]" for label in out)
            + f"concat=n={len(out)}:v=1:a=0,settb=AVTB,setpts=PTS+{num(start)}/TB[{joined}]"
        )
        return joined

    def _convert_back(self, blended: list[str], overlaps: list[int], pixels: str) -> list[str]:
        """``blended`` converted to ``pixels`` by one converter: ffmpeg's converters keep
        frames until the render ends, one per transition would add up. The blends are played
        one after the other and cut apart again."""
        if len(blended) == 1:
            label = self.graph.label("x")
            self.graph.add(f"[{blended[0]}]format={pixels}[{label}]")
            return [label]
        pads = [self.graph.label("s") for _ in blended]
        self.graph.add(
            "".join(f"[{label}]" for label in blended)
            + f"concat=n={len(blended)}:v=1:a=0,format={pixels},split={len(pads)}"
            + "".join(f"[{pad}]" for pad in pads)
        )
        converted: list[str] = []
        first = 0
        for pad, count in zip(pads, overlaps, strict=True):
            label = self.graph.label("x")
            self.graph.add(
                f"[{pad}]trim=start_frame={first}:end_frame={first + count},"
                f"setpts=PTS-STARTPTS[{label}]"
            )
            converted.append(label)
            first += count
        return converted

    def _cut(self, stream: str, blend: str, windows: dict[str, tuple[int, int]]) -> dict[str, str]:
        """The windows' frames: the body from ``stream``, head and tail from ``blend``."""
        wanted: dict[str, list[str]] = {stream: [], blend: []}
        for name in windows:
            wanted[blend if name != "body" else stream].append(name)
        cuts: dict[str, str] = {}
        for source, names in wanted.items():
            if not names:
                self.graph.add(f"[{source}]nullsink")  # all transition, no body
                continue
            pads = [source]
            if len(names) > 1:
                pads = [self.graph.label("s") for _ in names]
                self.graph.add(f"[{source}]split={len(names)}" + "".join(f"[{x}]" for x in pads))
            for name, pad in zip(names, pads, strict=True):
                a, b = windows[name]
                cuts[name] = self.graph.label(name[0])
                self.graph.add(
                    f"[{pad}]trim=start_frame={a}:end_frame={b},setpts=PTS-STARTPTS[{cuts[name]}]"
                )
        return cuts

    def finish(self, total: float, stills: bool) -> str | None:
        """Overlay every layer on the background; return the mixed audio's label, if any."""
        canvas = (self.enc.width, self.enc.height)
        layers = self.layers
        if layers and layers[0].covers(canvas, total - 0.5 / self.fps):
            # The bottom layer hides the background all the time: it is the background.
            below, layers = layers[0].label, layers[1:]
        else:
            below = self.graph.label("base")
            self.graph.add(
                f"color=c={color_arg(self.out.background)}:s={canvas[0]}x{canvas[1]}"
                f":r={self.fps}:d={num(total)},format=yuv420p[{below}]"
            )
        for placed in layers:
            above = self.graph.label("o")
            if placed.moving:
                where = f"x='{placed.x}':y='{placed.y}':eval=frame"
            else:
                where = f"x={placed.x}:y={placed.y}"
            self.graph.add(f"[{below}][{placed.label}]overlay={where}:eof_action=pass[{above}]")
            below = above
        final = f"[{below}]format=yuv420p"
        target = "vout"
        if self.enc.video_filter:
            target = "vpre"
        if stills:
            self.graph.add(f"{final},split[{target}][still_in]")
        else:
            self.graph.add(f"{final}[{target}]")
        if self.enc.video_filter:
            self.graph.add(f"[vpre]{self.enc.video_filter}[vout]")
        if not self.enc.has_audio:
            return None
        return audio.mix(self.graph, self.sounds, total)


def compile_timeline(
    timeline: schema.Timeline,
    *,
    media: Mapping[str, MediaInfo],
    texts: Mapping[str, RenderedText],
    workdir: Path,
    ffmpeg_exe: str,
    max_duration_s: float,
    clips: Sequence[Entry] | None = None,
    stills: bool = True,
) -> Command:
    """Build the ffmpeg command. ``media`` is keyed by asset src, ``texts`` by clip path.

    ``clips`` defaults to `entries` (the pipeline passes captions already expanded). With
    ``stills``, the same command also writes the frames for the cover, thumbnail, sprite sheet
    and previews."""
    enc = output_encoding(timeline.output)
    compiler = _Compiler(timeline, enc, media, texts)
    fps = enc.fps
    chosen = sorted(entries(timeline) if clips is None else clips, key=lambda e: e.track)
    end = 0.0
    tracks: dict[int, list[tuple[Entry, transitions.Span]]] = {}
    for entry in chosen:
        clip = entry.clip
        length = resolve_length(entry.path, clip, compiler.info(clip))
        _check_fit(entry.path, clip, length)
        end = max(end, clip.start + length)
        if end > max_duration_s and timeline.output.duration is None:
            raise errors.InvalidRequest(
                f"{entry.path}: the video would be {num(end)} s long, over the "
                f"{num(max_duration_s)} s limit",
                param=f"{entry.path}.length",
            )
        if isinstance(clip.asset, schema.AudioAsset):
            compiler.add_audio(entry, length)
        else:
            span = transitions.Span(entry.path, clip, clip.start, length)
            tracks.setdefault(entry.track, []).append((entry, span))
    for track in sorted(tracks):
        exclusive = [span for entry, span in tracks[track] if entry.exclusive]
        layers = transitions.plan_track(exclusive, fps)
        layers += [transitions.Layer([s]) for e, s in tracks[track] if not e.exclusive]
        for layer in layers:
            compiler.add_layer(layer)
    total_s = timeline.output.duration or end
    frames = max(1, round(total_s * fps))
    total = frames / fps
    aout = compiler.finish(total, stills)
    plan: StillPlan | None = None
    if stills:
        out = timeline.output
        plan = plan_stills(workdir, frames=frames, fps=fps, previews=out.previews,
                           cover_at=out.cover_at)  # fmt: skip
        compiler.graph.add(plan.chain("still_in"))
    output = workdir / enc.file_name
    graph_args: list[str] = []
    for n, graph in enumerate(compiler.graph.texts()):
        if len(graph) > _INLINE_GRAPH_MAX:
            script = workdir / ("filter_graph.txt" if n == 0 else f"filter_graph_{n}.txt")
            script.write_text(graph, encoding="utf-8")
            graph_args += ["-/filter_complex", str(script)]
        else:
            graph_args += ["-filter_complex", graph]
    maps = ["-map", "[vout]"]
    if aout is not None:
        maps += ["-map", f"[{aout}]", *enc.audio_args]
    args = [
        ffmpeg_exe, "-hide_banner", "-nostdin", "-loglevel", "error",
        "-progress", "pipe:1", "-nostats",
        *compiler.graph.inputs,
        *graph_args,
        *maps,
        *enc.video_args,
        "-t", num(total), "-y", str(output),
        *(plan.args() if plan else []),
    ]  # fmt: skip
    log.debug("compiled %d inputs, %d filter graphs", compiler.graph.count, len(graph_args) // 2)
    return Command(args, total, output, enc, compiler.warnings, plan)

"""Cover, thumbnail, sprite sheet and preview frames, cut from the rendered frames inside the same
ffmpeg run.

The output is split once; one branch keeps only the frames some still needs (``select`` on the
frame number, frame 0 always among them) and writes them as numbered full-size JPEGs, each renamed
into place when complete. Nothing decodes the video a second time, previews can be published
while the render is still running, and because this extra output receives frame 0 at once it does
not hold back ffmpeg's progress reports (ffmpeg prints none until every output has started).
Pillow then derives the thumbnail and the sprite sheet from those frames.
"""

from __future__ import annotations

import math
import os
import re
from dataclasses import dataclass
from pathlib import Path

from PIL import Image

from vidtask.core import errors

__all__ = [
    "SPRITE_FRAMES",
    "THUMBNAIL_WIDTH",
    "StillFiles",
    "StillPlan",
    "plan_stills",
    "preview_frames",
    "sprite_frames",
]

THUMBNAIL_WIDTH = 320
SPRITE_TILE_WIDTH = 160
SPRITE_FRAMES = 25
SPRITE_COLUMNS = 5
_QUALITY = 85
_FRAME_NAME = re.compile(r"frame_(\d+)\.jpg")


@dataclass(frozen=True, slots=True)
class StillFiles:
    cover: Path
    thumbnail: Path
    spritesheet: Path
    previews: list[Path]


@dataclass(frozen=True, slots=True)
class StillPlan:
    workdir: Path
    #: Every selected frame number, ascending; the n-th JPEG written is ``frames[n - 1]``.
    frames: list[int]
    cover_frame: int
    preview_frames: list[int]
    sprite_frames: list[int]
    fps: int
    #: The video's frame count.
    total: int

    @property
    def frames_dir(self) -> Path:
        return self.workdir / "frames"

    @property
    def previews_dir(self) -> Path:
        return self.workdir / "previews"

    def chain(self, label: str) -> str:
        """The filter chain that keeps the needed frames of ``label``.

        Each kept frame is stamped with the time of the next one (the last with the end).
        ffmpeg pulls the graph through its output that is furthest behind; with the frames'
        own times, that would be this one between two kept frames, and every frame made
        meanwhile would wait, in memory, at the video's output. The JPEGs are numbered in
        order, so their times matter nowhere else."""
        wanted = "+".join(f"eq(n,{n})" for n in self.frames)
        following = [*self.frames[1:], self.total]
        stamps = "+".join(f"eq(N,{k})*{n}" for k, n in enumerate(following))
        return f"[{label}]select='{wanted}',setpts='({stamps})/({self.fps}*TB)'[stills]"

    def args(self) -> list[str]:
        """ffmpeg output options for the frame JPEGs, appended after the video's output."""
        pattern = str(self.frames_dir / "frame_%d.jpg")
        return [
            "-map", "[stills]", "-c:v", "mjpeg", "-q:v", "2", "-threads", "1",
            # The encoder's time base is 1/fps: left to its default (1/25), two adjacent frames
            # of a 30 fps video can round to the same timestamp, which it refuses.
            "-enc_time_base", f"1/{self.fps}", "-fps_mode", "passthrough",
            "-atomic_writing", "1", "-f", "image2", pattern,
        ]  # fmt: skip

    def written(self) -> dict[int, Path]:
        """Frame number -> JPEG, for the frames ffmpeg has finished writing."""
        if not self.frames_dir.is_dir():
            return {}
        found: dict[int, Path] = {}
        for path in self.frames_dir.iterdir():
            match = _FRAME_NAME.fullmatch(path.name)
            if match and 1 <= int(match.group(1)) <= len(self.frames):
                found[self.frames[int(match.group(1)) - 1]] = path
        return found

    def ready_previews(self) -> list[Path]:
        """``preview_<k>.jpg`` for each preview whose frame is written, in order, stopping at
        the first one that is not (they are written in frame order)."""
        written = self.written()
        ready = []
        self.previews_dir.mkdir(parents=True, exist_ok=True)
        for k, frame in enumerate(self.preview_frames, start=1):
            source = written.get(frame)
            if source is None:
                break
            dest = self.previews_dir / f"preview_{k}.jpg"
            if not dest.exists():
                os.link(source, dest)
            ready.append(dest)
        return ready

    def finish(self) -> StillFiles:
        """Cover, thumbnail and sprite sheet from the written frames; after ffmpeg is done."""
        written = self.written()
        missing = [n for n in self.frames if n not in written]
        if missing:
            raise errors.RenderFailed(f"ffmpeg did not write frame {missing[0]} for the stills")
        cover = self.workdir / "cover.jpg"
        os.link(written[self.cover_frame], cover)
        thumbnail = self.workdir / "thumbnail.jpg"
        with Image.open(cover) as image:
            width = min(THUMBNAIL_WIDTH, image.width)
            size = (width, max(1, round(image.height * width / image.width)))
            image.draft("RGB", size)  # let the JPEG decoder downscale by 2/4/8 for free
            image.convert("RGB").resize(size, Image.Resampling.LANCZOS).save(
                thumbnail, "JPEG", quality=_QUALITY
            )
        spritesheet = self.workdir / "spritesheet.jpg"
        _sprite_sheet([written[n] for n in self.sprite_frames], spritesheet)
        return StillFiles(cover, thumbnail, spritesheet, self.ready_previews())


def _sprite_sheet(frames: list[Path], dest: Path) -> None:
    columns = min(SPRITE_COLUMNS, len(frames))
    rows = math.ceil(len(frames) / columns)
    sheet: Image.Image | None = None
    tile = (0, 0)
    for i, path in enumerate(frames):
        with Image.open(path) as image:
            if sheet is None:
                width = min(SPRITE_TILE_WIDTH, image.width)
                tile = (width, max(1, round(image.height * width / image.width)))
                sheet = Image.new("RGB", (tile[0] * columns, tile[1] * rows))
            image.draft("RGB", tile)
            small = image.convert("RGB").resize(tile, Image.Resampling.BILINEAR)
            sheet.paste(small, ((i % columns) * tile[0], (i // columns) * tile[1]))
    assert sheet is not None
    sheet.save(dest, "JPEG", quality=_QUALITY)


def _frame(at: float, fps: int, frames: int) -> int:
    return min(frames - 1, max(0, round(at * fps)))


def preview_frames(frames: int, count: int) -> list[int]:
    """``count`` evenly spaced frame numbers strictly inside the video (fewer if it is short)."""
    return sorted({min(frames - 1, frames * (i + 1) // (count + 1)) for i in range(count)})


def sprite_frames(frames: int, count: int = SPRITE_FRAMES) -> list[int]:
    """Up to ``count`` frame numbers, one from the middle of each equal slice of the video."""
    return sorted({min(frames - 1, (2 * i + 1) * frames // (2 * count)) for i in range(count)})


def plan_stills(
    workdir: Path, *, frames: int, fps: int, previews: int, cover_at: float | None
) -> StillPlan:
    """Which frames to keep. ``frames`` is the output's frame count; ``cover_at`` (seconds)
    defaults to 25% of the duration."""
    cover = _frame(frames / fps * 0.25 if cover_at is None else cover_at, fps, frames)
    wanted_previews = preview_frames(frames, previews)
    sprites = sprite_frames(frames)
    selected = sorted({0, cover, *wanted_previews, *sprites})
    return StillPlan(workdir, selected, cover, wanted_previews, sprites, fps, frames)

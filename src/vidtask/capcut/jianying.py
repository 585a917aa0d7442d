"""JianYing/CapCut draft folders (``draft_content.json`` plus materials, as written by the
``pyJianYingDraft`` package) turned into a vidtask timeline.

Supported: video (and photo), audio and text tracks; time ranges; speed; volume; clip
transforms (position, uniform scale, alpha, rotation); audio fades; transitions with a renderer
equivalent; keyframes of position, scale, rotation and alpha. Everything else (effect, filter and
sticker tracks, masks, flips, reversed clips, unknown transitions...) is listed in the returned
warnings, never dropped silently. Encrypted drafts (JianYing 6+) are refused.
"""

from __future__ import annotations

import io
import json
import os
import re
import shutil
import zipfile
import zlib
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Any

from vidtask.capcut import names
from vidtask.capcut.draft import US, DraftContent
from vidtask.capcut.params import font_pixels
from vidtask.core import errors

__all__ = ["DRAFT_FILES", "Imported", "extract_zip", "find_draft_file", "import_folder"]

DRAFT_FILES = ("draft_content.json", "draft_info.json")
_PLACEHOLDER = re.compile(r"^##_draftpath_placeholder_[^#]*_##[/\\]?")
_SUPPORTED_TRACKS = frozenset({"video", "audio", "text"})


@dataclass
class Imported:
    timeline: dict[str, Any]
    warnings: list[str] = field(default_factory=list)
    width: int = 0
    height: int = 0


def extract_zip(data: bytes, dest: Path, *, max_bytes: int, max_files: int = 10_000) -> Path:
    """Unpack an uploaded draft safely into ``dest``: no absolute paths, no ``..``, no links,
    at most ``max_files`` entries and ``max_bytes`` unpacked; returns the draft folder, which
    `import_folder` accepts. On any failure nothing is left behind (``dest`` is removed, if
    this call made it)."""
    made = not dest.exists()
    try:
        folder = _unpack(data, dest, max_bytes=max_bytes, max_files=max_files)
        import_folder(folder)  # a draft that cannot be imported must not stay on disk
    except BaseException:
        if made:
            shutil.rmtree(dest, ignore_errors=True)
        raise
    return folder


def _unpack(data: bytes, dest: Path, *, max_bytes: int, max_files: int) -> Path:
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
    except zipfile.BadZipFile:
        raise errors.InvalidRequest("file: is not a zip archive", param="file") from None
    members = archive.infolist()
    if len(members) > max_files:
        raise errors.InvalidRequest(f"file: more than {max_files} entries", param="file")
    total = 0
    for member in members:
        name = member.filename.replace("\\", "/")
        parts = PurePosixPath(name).parts
        if name.startswith("/") or ".." in parts or (parts and ":" in parts[0]):
            raise errors.InvalidRequest(f"file: unsafe path {member.filename!r}", param="file")
        if (member.external_attr >> 16) & 0o170000 == 0o120000:
            raise errors.InvalidRequest(f"file: {member.filename!r} is a link", param="file")
        total += member.file_size
        if total > max_bytes:
            raise errors.PayloadTooLarge(
                f"file: unpacks to more than {max_bytes} bytes", param="file"
            )
    dest.mkdir(parents=True, exist_ok=True)
    for member in members:
        target = dest.joinpath(*PurePosixPath(member.filename.replace("\\", "/")).parts)
        if member.is_dir():
            target.mkdir(parents=True, exist_ok=True)
            continue
        target.parent.mkdir(parents=True, exist_ok=True)
        written = 0
        try:
            with archive.open(member) as src, target.open("wb") as out:
                # Count what is really inflated: a forged header must not beat the limit.
                while chunk := src.read(1 << 20):
                    written += len(chunk)
                    if written > member.file_size:
                        raise errors.InvalidRequest(
                            f"file: {member.filename!r} is corrupt", param="file"
                        )
                    out.write(chunk)
        except (zipfile.BadZipFile, zlib.error, EOFError) as exc:  # a bad CRC, a cut stream
            raise errors.InvalidRequest(
                f"file: {member.filename!r} is corrupt ({exc})", param="file"
            ) from None
    return find_draft_file(dest).parent


def find_draft_file(folder: Path) -> Path:
    """The draft's JSON: in ``folder`` or one level down (zips often hold the folder)."""
    for candidate in (folder, *sorted(p for p in folder.iterdir() if p.is_dir())):
        for name in DRAFT_FILES:
            if (candidate / name).is_file():
                return candidate / name
    raise errors.InvalidRequest(
        f"no {' or '.join(DRAFT_FILES)} found in the draft folder", param="file"
    )


def import_folder(folder: Path) -> Imported:
    path = find_draft_file(folder)
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (ValueError, UnicodeDecodeError):
        raise errors.InvalidRequest(
            f"{path.name}: is not readable JSON; JianYing 6 and later encrypt drafts, which "
            "cannot be imported (save it with pyJianYingDraft or an older JianYing)",
            param="file",
        ) from None
    if not isinstance(data, dict) or not isinstance(data.get("tracks"), list):
        raise errors.InvalidRequest(f"{path.name}: has no tracks", param="file")
    return _Importer(data, path.parent).run()


class _Importer:
    def __init__(self, data: dict[str, Any], folder: Path) -> None:
        self.data = data
        self.folder = folder
        self.warnings: list[str] = []
        materials = data.get("materials") or {}
        self.materials: dict[str, tuple[str, dict[str, Any]]] = {
            str(m.get("id")): (kind, m)
            for kind, items in materials.items()
            if isinstance(items, list)
            for m in items
            if isinstance(m, dict) and "id" in m
        }
        canvas = data.get("canvas_config") or {}
        self.width = _even(int(canvas.get("width") or 1920))
        self.height = _even(int(canvas.get("height") or 1080))
        self.draft = DraftContent(width=self.width, height=self.height)

    def warn(self, message: str) -> None:
        if message not in self.warnings:
            self.warnings.append(message)

    def run(self) -> Imported:
        layers: dict[str, list[dict[str, Any]]] = {"video": [], "text": [], "audio": []}
        for t, track in enumerate(self.data["tracks"]):
            kind = str(track.get("type"))
            segments = [s for s in track.get("segments") or [] if isinstance(s, dict)]
            if kind not in _SUPPORTED_TRACKS:
                if segments:
                    self.warn(f"tracks[{t}]: {kind} tracks are not supported ({len(segments)} "
                              "segments not rendered)")  # fmt: skip
                continue
            clips = self._track(t, kind, sorted(segments, key=_start))
            if clips:
                layers[kind].append({"clips": clips})
        tracks = layers["video"] + layers["text"] + layers["audio"]
        if not tracks:
            raise errors.InvalidRequest(
                "the draft has no video, audio or text segments", param="file"
            )
        fps = int(self.data.get("fps") or 30)
        output = {"width": self.width, "height": self.height, "fps": max(1, min(60, fps))}
        return Imported(
            {"output": output, "tracks": tracks}, self.warnings, self.width, self.height
        )

    def _track(self, t: int, kind: str, segments: list[dict[str, Any]]) -> list[dict[str, Any]]:
        clips: list[dict[str, Any]] = []
        pending: dict[str, Any] | None = None
        for s, segment in enumerate(segments):
            where = f"tracks[{t}].segments[{s}]"
            clip = self._clip(where, kind, segment)
            if clip is None:
                pending = None
                continue
            if pending is not None and clips and _touches(clips[-1], clip):
                clip["transition"] = pending
            elif pending is not None:
                self.warn(f"{where}: the previous segment's transition has no adjacent segment")
            pending = self._transition(where, segment) if kind != "audio" else None
            clips.append(clip)
        return clips

    def _refs(self, segment: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
        return [
            self.materials[r]
            for r in segment.get("extra_material_refs") or []
            if r in self.materials
        ]

    def _transition(self, where: str, segment: dict[str, Any]) -> dict[str, Any] | None:
        for kind, material in self._refs(segment):
            if kind != "transitions":
                continue
            name = str(material.get("name", ""))
            try:
                xfade = names.transition(name, param=where)
            except errors.InvalidRequest:
                self.warn(
                    f"{where}: transition {name!r} has no renderer equivalent; rendered as fade"
                )
                xfade = "fade"
            duration = min(10.0, max(0.04, int(material.get("duration") or 500_000) / US))
            return {"type": xfade, "duration": duration}
        return None

    def _clip(self, where: str, kind: str, segment: dict[str, Any]) -> dict[str, Any] | None:
        target = segment.get("target_timerange") or {}
        start, length = int(target.get("start", 0)), int(target.get("duration", 0))
        if length <= 0:
            self.warn(f"{where}: empty time range, skipped")
            return None
        kind_material = self.materials.get(str(segment.get("material_id")))
        if kind_material is None:
            self.warn(f"{where}: its material is missing from the draft, skipped")
            return None
        material_kind, material = kind_material
        for flag in ("reverse",):
            if segment.get(flag):
                self.warn(f"{where}: reversed playback is not supported (played forwards)")
        clip: dict[str, Any] = {"start": start / US, "length": length / US}
        if kind == "text":
            clip["asset"] = self._text(where, material)
        elif kind == "audio":
            clip["asset"] = self._audio(where, segment, material)
        else:
            clip["asset"] = self._video(where, segment, material)
            clip["fit"] = "contain"
        for kind_ref, extra in self._refs(segment):
            if kind_ref == "audio_fades":
                fade_in = int(extra.get("fade_in_duration") or 0) / US
                fade_out = int(extra.get("fade_out_duration") or 0) / US
                if kind == "audio":
                    clip["fade_in"], clip["fade_out"] = fade_in, fade_out
                else:
                    self.warn(f"{where}: sound fades on video segments are not supported")
            elif kind_ref in ("material_animations",):
                self.warn(f"{where}: JianYing animations are not supported")
            elif kind_ref not in ("speeds", "transitions", "sound_channel_mappings",
                                  "vocal_separations", "canvases", "placeholder_infos",
                                  "material_colors", "beats"):  # fmt: skip
                self.warn(f"{where}: {kind_ref} are not supported")
        if kind != "audio":
            self._transform(where, segment, clip)
        return clip

    def _source(self, where: str, material: dict[str, Any]) -> str:
        raw = str(material.get("path") or "")
        relative = _PLACEHOLDER.sub("", raw).replace("\\", "/")
        # The folder's own copy first (a zip carries its materials), then the path as written.
        candidates = [self.folder / relative] if relative and not os.path.isabs(relative) else []
        name = PurePosixPath(relative).name
        if name:
            candidates += sorted(self.folder.rglob(name))
        root = self.folder.resolve()
        for candidate in candidates:
            real = candidate.resolve()
            if real.is_relative_to(root) and real.is_file():
                return str(real)
        if os.path.isabs(relative):
            # Not looked at here: the asset guard decides at submit, and it answers the same
            # whether or not a file exists outside the asset roots (nothing to probe with).
            return relative
        raise errors.InvalidRequest(
            f"{where}: material {raw!r} is not in the draft folder", param="file"
        )

    def _video(
        self, where: str, segment: dict[str, Any], material: dict[str, Any]
    ) -> dict[str, Any]:
        src = self._source(where, material)
        if material.get("type") == "photo":
            return {"type": "image", "src": src}
        source = segment.get("source_timerange") or {}
        asset: dict[str, Any] = {
            "type": "video",
            "src": src,
            "trim": int(source.get("start", 0)) / US,
        }
        speed = float(segment.get("speed") or 1.0)
        if speed != 1.0:
            if not 0.25 <= speed <= 4:
                self.warn(f"{where}: speed {speed:g} is outside 0.25-4; clamped")
                speed = min(4.0, max(0.25, speed))
            asset["speed"] = speed
        asset["volume"] = self._volume(where, segment)
        return asset

    def _audio(
        self, where: str, segment: dict[str, Any], material: dict[str, Any]
    ) -> dict[str, Any]:
        source = segment.get("source_timerange") or {}
        speed = float(segment.get("speed") or 1.0)
        if speed != 1.0:
            self.warn(f"{where}: audio speed {speed:g} is not supported (played at 1x)")
        return {
            "type": "audio",
            "src": self._source(where, material),
            "trim": int(source.get("start", 0)) / US,
            "volume": self._volume(where, segment),
        }

    def _volume(self, where: str, segment: dict[str, Any]) -> float:
        volume = float(segment.get("volume", 1.0))
        if volume > 4:
            self.warn(f"{where}: volume {volume:g} above 4 is lowered to 4")
        return max(0.0, min(4.0, volume))

    def _text(self, where: str, material: dict[str, Any]) -> dict[str, Any]:
        text, style = "", {}
        try:
            content = json.loads(str(material.get("content") or "{}"))
            text = str(content.get("text", ""))
            styles = content.get("styles") or [{}]
            style = styles[0] if isinstance(styles[0], dict) else {}
            if len(styles) > 1:
                self.warn(f"{where}: only the first text style range is rendered")
        except ValueError:
            text = str(material.get("content") or "")
        if not text.strip():
            raise errors.InvalidRequest(f"{where}: the text segment is empty", param="file")
        asset: dict[str, Any] = {
            "type": "text",
            "text": text,
            "font_size": font_pixels(float(style.get("size") or 15), self.draft),
            "align": ("left", "center", "right")[int(material.get("alignment") or 0) % 3],
            "bold": bool(style.get("bold")),
        }
        solid = ((style.get("fill") or {}).get("content") or {}).get("solid") or {}
        if isinstance(solid.get("color"), list) and len(solid["color"]) == 3:
            asset["color"] = _hex(solid["color"])
        strokes = style.get("strokes") or []
        if strokes and isinstance(strokes[0], dict):
            color = ((strokes[0].get("content") or {}).get("solid") or {}).get("color")
            if isinstance(color, list) and len(color) == 3:
                asset["stroke"] = {"color": _hex(color)}
        for flag in ("italic", "underline"):
            if style.get(flag):
                self.warn(f"{where}: {flag} text is not supported")
        return asset

    def _transform(self, where: str, segment: dict[str, Any], clip: dict[str, Any]) -> None:
        transform = segment.get("clip") or {}
        scale = transform.get("scale") or {}
        sx, sy = float(scale.get("x", 1.0)), float(scale.get("y", 1.0))
        if abs(sx - sy) > 1e-6:
            self.warn(f"{where}: non-uniform scale {sx:g}x{sy:g} rendered as {sx:g}")
        position = transform.get("transform") or {}
        # JianYing positions are in half-canvas units with y pointing up.
        x, y = float(position.get("x", 0.0)) / 2, -float(position.get("y", 0.0)) / 2
        flip = transform.get("flip") or {}
        if flip.get("horizontal") or flip.get("vertical"):
            self.warn(f"{where}: flips are not supported")
        clip["scale"] = max(0.01, min(10.0, sx))
        clip["opacity"] = max(0.0, min(1.0, float(transform.get("alpha", 1.0))))
        if x or y:
            clip["offset"] = {"x": max(-10.0, min(10.0, x)), "y": max(-10.0, min(10.0, y))}
        keyframes = self._keyframes(where, segment, clip)
        rotation = float(transform.get("rotation") or 0.0)
        if rotation and "rotation" not in keyframes:
            keyframes["rotation"] = [{"time": 0.0, "value": rotation}]
        if keyframes:
            clip["keyframes"] = keyframes

    def _keyframes(
        self, where: str, segment: dict[str, Any], clip: dict[str, Any]
    ) -> dict[str, Any]:
        found: dict[str, Any] = {}
        length = clip["length"]
        base = clip.get("offset", {"x": 0.0, "y": 0.0})
        for group in segment.get("common_keyframes") or []:
            prop = str(group.get("property_type"))
            ours = _KEYFRAMES.get(prop)
            if ours is None:
                self.warn(f"{where}: {prop} keyframes are not supported")
                continue
            points: dict[float, float] = {}
            for frame in group.get("keyframe_list") or []:
                time = int(frame.get("time_offset", 0)) / US
                values = frame.get("values") or [0.0]
                if time > length:
                    self.warn(f"{where}: a {prop} keyframe after the segment's end is ignored")
                    continue
                value = float(values[0])
                if ours == "x":
                    value = value / 2 - base["x"]
                elif ours == "y":
                    value = -value / 2 - base["y"]
                points[round(time, 6)] = value
            if not points:
                continue
            if ours == "scale":
                clip["scale"] = 1.0
            elif ours == "opacity":
                clip["opacity"] = 1.0
            found[ours] = [{"time": t, "value": v} for t, v in sorted(points.items())]
        if "scale_y" in found:
            if found.get("scale") != found["scale_y"]:
                self.warn(f"{where}: KFTypeScaleY keyframes differ from X; X is used")
            del found["scale_y"]
        return found


_KEYFRAMES = {
    "KFTypePositionX": "x",
    "KFTypePositionY": "y",
    "KFTypeScaleX": "scale",
    "UNIFORM_SCALE": "scale",
    "KFTypeScaleY": "scale_y",
    "KFTypeRotation": "rotation",
    "KFTypeAlpha": "opacity",
}


def _start(segment: dict[str, Any]) -> int:
    return int((segment.get("target_timerange") or {}).get("start", 0))


def _touches(before: dict[str, Any], after: dict[str, Any]) -> bool:
    return bool(abs(before["start"] + before["length"] - after["start"]) < 0.002)


def _even(value: int) -> int:
    return max(16, min(4096, value - value % 2))


def _hex(rgb: list[Any]) -> str:
    return "#" + "".join(f"{max(0, min(255, round(float(c) * 255))):02x}" for c in rgb)

"""The audio half of the filter graph: every sound placed on the timeline, then one mix.

Each clip is resampled to 48 kHz stereo float, sped up or slowed down with ``atempo`` (which keeps
the pitch), trimmed, faded and delayed to its start. Music is lowered under narration with
``sidechaincompress`` (keyed by the voice bus), everything is summed without normalisation so
volumes mean what they say, and a limiter keeps the sum from clipping.
"""

from __future__ import annotations

from dataclasses import dataclass

from vidtask.render.graph import Graph
from vidtask.render.motion import num

__all__ = ["AudioClip", "atempo_chain", "mix"]

# Ducking: -34 dBFS threshold, 6:1, quick attack, slow release, so music dips ~10-15 dB under
# speech and comes back between sentences without pumping.
_DUCK = "sidechaincompress=threshold=0.02:ratio=6:attack=20:release=400:makeup=1"


@dataclass(frozen=True, slots=True)
class AudioClip:
    #: Graph input index whose first audio stream is used.
    input: int
    start: float
    length: float
    volume: float
    fade_in: float
    fade_out: float
    speed: float
    role: str


def atempo_chain(speed: float) -> str:
    """``atempo`` filters whose product is ``speed`` (each stays within 0.5-2 for quality)."""
    factors: list[float] = []
    rest = speed
    while rest > 2.0:
        factors.append(2.0)
        rest /= 2.0
    while rest < 0.5:
        factors.append(0.5)
        rest /= 0.5
    if abs(rest - 1.0) > 1e-9 or not factors:
        factors.append(rest)
    return ",".join(f"atempo={num(f)}" for f in factors if abs(f - 1.0) > 1e-9)


def _clip_chain(graph: Graph, clip: AudioClip) -> str:
    label = graph.label("a")
    tempo = atempo_chain(clip.speed)
    fades = ""
    if clip.fade_in > 0:
        fades += f",afade=t=in:st=0:d={num(clip.fade_in)}"
    if clip.fade_out > 0:
        fades += f",afade=t=out:st={num(clip.length - clip.fade_out)}:d={num(clip.fade_out)}"
    delay = round(clip.start * 1000)
    graph.add(
        f"[{clip.input}:a]asetpts=PTS-STARTPTS,aresample=48000,"
        f"aformat=sample_fmts=fltp:channel_layouts=stereo{',' + tempo if tempo else ''},"
        f"atrim=duration={num(clip.length)},volume={num(clip.volume)}{fades},"
        f"adelay=delays={delay}:all=1[{label}]",
        audio=True,
    )
    return label


def _bus(graph: Graph, labels: list[str], total: float) -> str:
    """Sum ``labels`` into one stream exactly ``total`` seconds long."""
    out = graph.label("bus")
    inputs = "".join(f"[{label}]" for label in labels)
    graph.add(
        f"{inputs}amix=inputs={len(labels)}:duration=longest:dropout_transition=0:normalize=0,"
        f"apad=whole_dur={num(total)},atrim=end={num(total)}[{out}]",
        audio=True,
    )
    return out


def mix(graph: Graph, clips: list[AudioClip], total: float) -> str | None:
    """Add the audio chains; return the label of the final mix, or None when silent."""
    if not clips:
        return None
    by_role: dict[str, list[str]] = {"sound": [], "music": [], "voice": []}
    for clip in clips:
        by_role[clip.role].append(_clip_chain(graph, clip))
    parts = [_bus(graph, by_role["sound"], total)] if by_role["sound"] else []
    if by_role["voice"]:
        voice = _bus(graph, by_role["voice"], total)
        if by_role["music"]:
            key, spoken, ducked = graph.label("key"), graph.label("said"), graph.label("duck")
            graph.add(f"[{voice}]asplit[{key}][{spoken}]", audio=True)
            music = _bus(graph, by_role["music"], total)
            graph.add(f"[{music}][{key}]{_DUCK}[{ducked}]", audio=True)
            parts += [ducked, spoken]
        else:
            parts.append(voice)
    elif by_role["music"]:
        parts.append(_bus(graph, by_role["music"], total))
    out = "aout"
    inputs = "".join(f"[{label}]" for label in parts)
    graph.add(
        f"{inputs}amix=inputs={len(parts)}:duration=longest:dropout_transition=0:normalize=0,"
        f"alimiter=limit=0.98:level=0:latency=1,atrim=end={num(total)}[{out}]",
        audio=True,
    )
    return out

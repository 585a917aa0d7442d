"""An FFmpeg command under construction: its inputs and the chains of its filter graphs."""

from __future__ import annotations

from pathlib import Path

from vidtask.render.motion import num

__all__ = ["Graph"]


class Graph:
    def __init__(self) -> None:
        self.inputs: list[str] = []
        self.chains: list[str] = []
        self.audio_chains: list[str] = []
        self.count = 0
        self._labels = 0

    def input(
        self,
        path: Path,
        *,
        trim: float = 0.0,
        length: float | None = None,
        loop: bool = False,
        threads: int | None = None,
        fast: bool = False,
    ) -> int:
        """Add an input file; returns its index. ``loop`` repeats it endlessly (``length`` then
        bounds it); ``threads`` caps the decoder's threads (each holds frames in memory);
        ``fast`` skips the H.264/HEVC deblocking filter (invisible in a small draft)."""
        if threads is not None:
            self.inputs += ["-threads", str(threads)]
        if fast:
            self.inputs += ["-skip_loop_filter", "all", "-flags2", "+fast"]
        if loop:
            self.inputs += ["-stream_loop", "-1"]
        if trim > 0:
            self.inputs += ["-ss", num(trim)]
        if length is not None:
            self.inputs += ["-t", num(length)]
        self.inputs += ["-i", str(path)]
        self.count += 1
        return self.count - 1

    def label(self, prefix: str) -> str:
        """A fresh label such as ``v12``."""
        self._labels += 1
        return f"{prefix}{self._labels}"

    def add(self, chain: str, *, audio: bool = False) -> None:
        (self.audio_chains if audio else self.chains).append(chain)

    def texts(self) -> list[str]:
        """The video graph and the audio graph, if any. ffmpeg runs each graph in a thread of
        its own: the audio is mixed alongside the video, not in turns with it."""
        return [";\n".join(chains) for chains in (self.chains, self.audio_chains) if chains]

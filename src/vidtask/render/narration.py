"""Spoken narration for text-to-video, from espeak-ng when it is installed.

espeak-ng is a small, offline speech synthesiser packaged by every Linux distribution
(``apt install espeak-ng``). Without it, narration is simply skipped and videos stay silent.
The voice follows the script of the text: Mandarin for Han characters, Japanese for kana, Korean
for Hangul, English otherwise.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import wave
from pathlib import Path

from vidtask.core import errors
from vidtask.parentdeath import die_with_parent

__all__ = ["DEFAULT_WPM", "MAX_WPM", "speak", "synthesizer", "voice_for"]

DEFAULT_WPM = 165
MAX_WPM = 330
_TIMEOUT_S = 120.0


def synthesizer() -> str | None:
    """Path of the espeak-ng program, or None when it is not installed."""
    return shutil.which("espeak-ng")


def voice_for(text: str) -> str:
    """An espeak-ng voice for the dominant script of ``text``."""
    counts = {"cmn": 0, "ja": 0, "ko": 0}
    for ch in text:
        code = ord(ch)
        if 0x3040 <= code <= 0x30FF:
            counts["ja"] += 1
        elif 0xAC00 <= code <= 0xD7AF or 0x1100 <= code <= 0x11FF:
            counts["ko"] += 1
        elif 0x4E00 <= code <= 0x9FFF or 0x3400 <= code <= 0x4DBF:
            counts["cmn"] += 1
    if counts["ja"]:  # Japanese mixes kana with kanji
        return "ja"
    best = max(counts, key=lambda name: counts[name])
    return best if counts[best] else "en"


def speak(program: str, text: str, dest: Path, *, wpm: int = DEFAULT_WPM) -> float:
    """Write ``text`` spoken as a WAV file at ``dest``; return its duration in seconds."""
    dest.parent.mkdir(parents=True, exist_ok=True)
    args = [program, "-v", voice_for(text), "-s", str(wpm), "-w", str(dest), "--", text]
    try:
        subprocess.run(
            args,
            stdin=subprocess.DEVNULL,
            capture_output=True,
            timeout=_TIMEOUT_S,
            check=True,
            preexec_fn=die_with_parent(os.getpid()),
        )
        with wave.open(str(dest), "rb") as audio:
            return audio.getnframes() / float(audio.getframerate())
    except subprocess.TimeoutExpired:
        raise errors.RenderFailed("espeak-ng took too long to speak the narration") from None
    except (subprocess.CalledProcessError, OSError, wave.Error, EOFError) as exc:
        raise errors.RenderFailed(f"espeak-ng could not speak the narration: {exc}") from None

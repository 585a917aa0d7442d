"""A slides request with a huge unbreakable answer must not hold the API process.

Validation lays the text out into cards; that work is counted here in character widths read,
never timed, and must grow linearly with the text. A real server under a burst of such requests
keeps answering ``/healthz`` and stops on SIGTERM. The cards are the same as before the linear
rewrite: it is checked against the first version on random text and pinned on realistic text.
"""

from __future__ import annotations

import random
import signal
import subprocess
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest

from tests.integration.conftest import Server
from vidtask.backends.slides import SlidesBackend
from vidtask.core import errors
from vidtask.render import slides
from vidtask.render.assets import AssetPolicy
from vidtask.render.schema import Limits

__all__: list[str] = []

#: The longest answer a request may carry (`slides.SlidesInput`).
LONGEST = 20_000


def _mixed(n: int) -> str:
    return ("Latin words, 漢字かな混じり 한국어 문장, and not one sentence end " * n)[:n]


WORST: dict[str, Callable[[int], str]] = {
    "no spaces": lambda n: "a" * n,
    "CJK": lambda n: "漢" * n,
    "mixed scripts": _mixed,
    "mixed scripts, no spaces": lambda n: ("abc漢字한국어" * n)[:n],
    "spaces only between": lambda n: "a" + " " * (n - 2) + "b",
    "tiny sentences": lambda n: "a." * (n // 2),
}


@pytest.fixture
def widths_read(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """Counts every character width the slides layout reads (``[count]``)."""
    count = [0]
    width = slides._width

    def counting(ch: str) -> int:
        count[0] += 1
        return width(ch)

    monkeypatch.setattr(slides, "_width", counting)
    return count


@pytest.mark.parametrize("make", WORST.values(), ids=WORST.keys())
def test_validation_reads_each_character_a_few_times(
    make: Callable[[int], str], widths_read: list[int]
) -> None:
    backend = SlidesBackend(policy=AssetPolicy(), limits=Limits())
    work = {}
    for n in (LONGEST // 2, LONGEST):
        widths_read[0] = 0
        backend.validate({"question": "Why?", "answer": make(n)})
        work[n] = widths_read[0]
    assert 0 < work[LONGEST] <= 8 * LONGEST  # about 3 to 5 a character; cubic before
    assert work[LONGEST] <= 2.2 * work[LONGEST // 2]


def test_a_long_title_is_refused_after_linear_work(widths_read: list[int]) -> None:
    """The first paragraph is the title card, never split: the timeline's text limit refuses
    it, after reading each character once or twice."""
    backend = SlidesBackend(policy=AssetPolicy(), limits=Limits())
    with pytest.raises(errors.InvalidRequest, match="at most 2000 characters"):
        backend.validate({"prompt": "a" * LONGEST})
    assert widths_read[0] <= 3 * LONGEST


def _split_reference(paragraph: str) -> list[str]:
    """`slides._split` as first written: it re-measures the rest of a long sentence for every
    character it backs off (cubic), so it is only run on short text here. One fix since: the
    card before a long sentence is no longer put after its first piece."""
    units, card = slides._units, slides.CARD_UNITS
    if units(paragraph) <= card:
        return [paragraph]
    pieces: list[str] = []
    current = ""
    for sentence in (s for s in slides._SENTENCE_END.split(paragraph) if s):
        while units(sentence) > card:
            if current:
                pieces.append(current)
                current = ""
            cut = len(sentence)
            while units(sentence[:cut]) > card:
                cut = sentence.rfind(" ", 0, cut - 1) if " " in sentence[: cut - 1] else cut - 1
            pieces.append(sentence[:cut].strip())
            sentence = sentence[cut:].strip()
        spaced = current and sentence[:1].isascii()
        joined = f"{current} {sentence}".strip() if spaced else current + sentence
        if current and units(joined) > card:
            pieces.append(current)
            current = sentence
        else:
            current = joined
    if current:
        pieces.append(current)
    return pieces


@pytest.mark.parametrize("card", [3, 7, 12, 20])
def test_cards_split_as_the_first_version_did(monkeypatch: pytest.MonkeyPatch, card: int) -> None:
    """Small cards make short random text exercise every path: runs of spaces of either
    parity, wide characters, other whitespace, sentence ends of both kinds."""
    monkeypatch.setattr(slides, "CARD_UNITS", card)
    rng = random.Random(card)
    alphabet = ["a", "bc", " ", " ", "  ", "漢", "한", ".", "。", "!", "\t", "\u3000", "；", "é"]
    for _ in range(3000):
        text = "".join(rng.choice(alphabet) for _ in range(rng.randint(1, 60)))
        for paragraph in slides._paragraphs(text):
            assert slides._split(paragraph) == _split_reference(paragraph), repr(paragraph)


SENTENCE = "This sentence is rather long and keeps going for a while."
WORDS = [f"word{i}" for i in range(80)]
CHINESE = "这是一个很长的中文句子，用来测试自动换行" * 10
KOREAN = ("한국어 문장은 띄어쓰기로 줄을 바꿉니다 " * 12).split()


def test_text_keeps_its_order_around_a_long_sentence() -> None:
    """A sentence longer than a card used to have its first piece put before the card of the
    sentences ahead of it."""
    paragraph = f"Short intro. {'x' * 400} Short end."
    assert slides._split(paragraph) == ["Short intro.", "x" * 280, "x" * 120 + " Short end."]


@pytest.mark.parametrize(
    ("paragraph", "pieces"),
    [
        (" ".join([SENTENCE] * 12), [" ".join([SENTENCE] * 4)] * 3),
        (" ".join(WORDS), [" ".join(WORDS[:41]), " ".join(WORDS[41:])]),
        (CHINESE, [CHINESE[:140], CHINESE[140:]]),
        (
            "我们今天讨论视频生成。" * 30,
            ["我们今天讨论视频生成。" * 12] * 2 + ["我们今天讨论视频生成。" * 6],
        ),
        (" ".join(KOREAN), [" ".join(KOREAN[:36]), " ".join(KOREAN[36:])]),
    ],
    ids=["sentences", "run-on", "chinese", "chinese sentences", "korean"],
)
def test_realistic_cards_are_pinned(paragraph: str, pieces: list[str]) -> None:
    assert slides._split(paragraph) == pieces


def _post(url: str, n: int) -> int:
    body = {"model": "slides", "input": {"question": "Why?", "answer": chr(97 + n) * LONGEST}}
    return httpx.post(f"{url}/v1/tasks", json=body, timeout=60).status_code


@pytest.mark.slow
def test_a_burst_of_huge_answers_leaves_the_server_responsive(
    tmp_path: Path, asset_root: Path
) -> None:
    """The API alone (no workers): validation is what these requests cost it."""
    server = Server(tmp_path / "data", asset_root, VIDTASK_WORKERS="0").start()
    assert server.proc is not None
    try:
        with ThreadPoolExecutor(12) as pool:
            posts = [pool.submit(_post, server.url, n) for n in range(12)]
            checks = 0
            while checks < 3 or not all(post.done() for post in posts):
                # A liveness bound, not a benchmark: it took 20 s while validation was cubic.
                assert httpx.get(f"{server.url}/healthz", timeout=5).status_code == 200
                checks += 1
                time.sleep(0.05)
            assert [post.result() for post in posts] == [201] * 12
            # SIGTERM while another burst is being validated still stops the server.
            more = [pool.submit(_post, server.url, n) for n in range(12)]
            time.sleep(0.1)
            server.proc.send_signal(signal.SIGTERM)
            try:
                server.proc.wait(30)
            except subprocess.TimeoutExpired:
                pytest.fail("the server did not stop within 30 s of SIGTERM")
            for post in more:
                post.exception()  # refused or cut off by the shutdown; either is fine
    finally:
        server.stop()

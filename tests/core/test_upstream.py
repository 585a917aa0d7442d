from __future__ import annotations

import pytest

from vidtask.core import errors
from vidtask.core.upstream import UPSTREAM_WORDS, Phase, phase_of

#: Kinds whose documented words hold no failure: it is read from another field (fal: a
#: ``COMPLETED`` status that carries an ``error``), and their unit tests cover it.
FAILURE_BESIDE_THE_WORD = frozenset({"fal"})
#: Kinds that name no queue: a Gemini API operation (Veo) is only done or not, and a Scenext
#: task is IN_PROGRESS from the start.
NO_QUEUE = frozenset({"veo", "scenext"})


@pytest.mark.parametrize("kind", sorted(UPSTREAM_WORDS))
def test_every_kind_has_a_start_a_success_and_a_failure(kind: str) -> None:
    phases = set(UPSTREAM_WORDS[kind].values())
    assert {Phase.RUNNING, Phase.SUCCEEDED} <= phases
    assert Phase.QUEUED in phases or kind in NO_QUEUE
    assert Phase.FAILED in phases or kind in FAILURE_BESIDE_THE_WORD


def test_words_map_by_kind() -> None:
    assert phase_of("ark", "seedance", "running") is Phase.RUNNING
    assert phase_of("ark", "seedance", "expired") is Phase.EXPIRED
    assert phase_of("openai_videos", "litellm", "in_progress") is Phase.RUNNING
    assert phase_of("newapi", "relay", "unknown") is Phase.LOST
    assert not Phase.LOST.finished and Phase.EXPIRED.finished


@pytest.mark.parametrize(
    ("kind", "word"),
    [("ark", "processing"), ("openai_videos", "succeeded"), ("newapi", "SUCCESS"), ("ark", None)],
)
def test_an_unknown_word_fails_closed_naming_provider_and_word(kind: str, word: object) -> None:
    with pytest.raises(errors.UpstreamError) as info:
        phase_of(kind, "my-provider", word)
    assert "'my-provider'" in info.value.message and repr(word) in info.value.message

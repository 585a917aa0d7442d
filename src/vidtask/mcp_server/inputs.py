"""Tool arguments to a task's model and input, the way the REST dialects build them.

Pure: the model router comes from the backend, so a remote server's models and aliases are
honoured too.
"""

from __future__ import annotations

from typing import Any

from vidtask.core import errors
from vidtask.core.routing import ModelRouter
from vidtask.dialects import scenext
from vidtask.dialects.generation import Generation, Quality, model_input
from vidtask.service.tasks import request_hash

__all__ = ["generation", "scenext_request"]


def generation(
    router: ModelRouter,
    *,
    model: str | None,
    prompt: str | None,
    timeline: dict[str, Any] | None,
    question: str | None,
    answer: str | None,
    images: list[str],
    width: int,
    height: int,
    seconds: float | None,
    quality: Quality,
) -> tuple[str, dict[str, Any]]:
    """``generate_video``: a timeline is the ``timeline`` model's input as is; a prompt or a
    question/answer becomes the input of the model asked for (``slides`` by default)."""
    if timeline is not None:
        if prompt or question or answer:
            raise errors.InvalidRequest(
                "give either a timeline, or a prompt and/or question/answer, not both",
                param="timeline",
            )
        requested = model or "timeline"
        if router.resolve(requested) != "timeline":
            raise errors.InvalidRequest(
                f"model: {requested!r} does not take a timeline; leave model out or use 'timeline'",
                param="model",
            )
        return requested, timeline
    if not (prompt or "").strip() and not (question or "").strip():
        raise errors.InvalidRequest(
            "nothing to make a video of: give a prompt, a question (and its answer) or a timeline",
            param="prompt",
        )
    requested = model or "slides"
    request = Generation(
        prompt=prompt,
        question=question,
        answer=answer,
        images=tuple(images),
        width=width,
        height=height,
        seconds=seconds,
        quality=quality,
    )
    return requested, model_input(router.resolve(requested), request)


def scenext_request(router: ModelRouter, body: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    """``gen_video``: Scenext's parameters (seed 000), parsed by its dialect."""
    spec = scenext.parse_create(
        body, router=router, idempotency_key=None, body_hash=request_hash(body)
    )
    return spec.model, spec.input

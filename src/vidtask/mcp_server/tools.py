"""The MCP tools and the task resource, on any `Backend`.

Each tool answers with structured content (a pydantic model from `models`) and the same thing
as Markdown. Failures the caller can fix (no key, unknown task, invalid timeline) come back as
tool errors (``isError``) whose text says what to do, never as protocol errors.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Awaitable, Callable
from typing import Annotated, Any, Literal

from mcp.server.mcpserver import Context, MCPServer
from mcp.server.mcpserver.exceptions import ResourceError, ResourceNotFoundError
from mcp_types import CallToolResult, TextContent, ToolAnnotations
from pydantic import BaseModel, Field

from vidtask.client.models import Task
from vidtask.core import errors
from vidtask.dialects.generation import Quality
from vidtask.mcp_server import inputs, markdown, models
from vidtask.mcp_server.backend import Backend, Videos

__all__ = ["MAX_WAIT_S", "register"]

log = logging.getLogger(__name__)

#: Longest wait_for_video: under the 60 s tool timeout of common hosts.
MAX_WAIT_S = 50.0

Transport = Literal["http", "stdio"]
TaskId = Annotated[str, Field(description="The task_id that generate_video or gen_video returned.")]
StatusName = Literal["queued", "in_progress", "completed", "failed", "cancelled"]

_QUERY = ToolAnnotations(read_only_hint=True, idempotent_hint=True, open_world_hint=False)
_CREATE = ToolAnnotations(
    read_only_hint=False, destructive_hint=False, idempotent_hint=False, open_world_hint=False
)
_CANCEL = ToolAnnotations(
    read_only_hint=False, destructive_hint=True, idempotent_hint=True, open_world_hint=False
)

_KEY_HINT: dict[Transport, str] = {
    "http": "Send a vidtask API key with every request: `Authorization: Bearer <key>` or "
    "`X-API-Key: <key>` in this MCP server's headers.",
    "stdio": "Set VIDTASK_API_KEY in the env of this MCP server (`vidtask mcp`).",
}


def register(server: MCPServer[Any], backend: Backend, transport: Transport) -> None:
    """Add the tools and the ``vidtask://tasks/{task_id}`` resource to ``server``."""

    async def call(
        ctx: Context, action: Callable[[Videos], Awaitable[CallToolResult]]
    ) -> CallToolResult:
        try:
            return await action(await backend.videos(ctx.headers))
        except errors.VidtaskError as exc:
            return _failure(exc, transport)
        except OSError as exc:  # a file the call names cannot be used: say so, not a bare error
            log.warning("MCP tool call failed", exc_info=exc)
            why = exc.strerror or exc.__class__.__name__
            return _failure(errors.VidtaskError(f"a file could not be used ({why})"), transport)

    @server.tool(title="Generate a video", annotations=_CREATE)
    async def generate_video(
        ctx: Context,
        prompt: Annotated[
            str | None, Field(description="What the video should say or show.")
        ] = None,
        timeline: Annotated[
            dict[str, Any] | None,
            Field(
                description="A vidtask JSON timeline (tracks of clips and an output), "
                "rendered as is by the timeline model."
            ),
        ] = None,
        question: Annotated[str | None, Field(description="A question to explain.")] = None,
        answer: Annotated[str | None, Field(description="The answer to the question.")] = None,
        images: Annotated[
            list[str], Field(description="Image URLs to show.", max_length=20)
        ] = [],  # never mutated
        model: Annotated[
            str | None,
            Field(
                description="Model or alias (see list_models). Default: timeline for a "
                "timeline, else slides."
            ),
        ] = None,
        width: Annotated[int, Field(ge=16, le=4096)] = 1280,
        height: Annotated[int, Field(ge=16, le=4096)] = 720,
        seconds: Annotated[float | None, Field(gt=0, le=600)] = None,
        quality: Quality = "standard",
    ) -> Annotated[CallToolResult, models.Video]:
        """Start rendering a video from a prompt, a question and answer, or a JSON timeline.
        Returns at once with a task_id; follow it with wait_for_video (up to 50 s per call,
        with progress) or query_video_status until done is true."""

        async def act(videos: Videos) -> CallToolResult:
            model_name, body = inputs.generation(
                await videos.router(),
                model=model,
                prompt=prompt,
                timeline=timeline,
                question=question,
                answer=answer,
                images=images,
                width=width,
                height=height,
                seconds=seconds,
                quality=quality,
            )
            try:
                task = await videos.submit(model_name, body)
            except errors.InvalidRequest as exc:
                raise _renamed(exc, "input", "timeline" if timeline is not None else "input")
            return _video(task, videos, title="Started video task")

        return await call(ctx, act)

    @server.tool(title="Generate an explainer video (Scenext)", annotations=_CREATE)
    async def gen_video(
        ctx: Context,
        question: Annotated[str, Field(min_length=1, max_length=20_000)],
        answer: Annotated[str | None, Field(max_length=20_000)] = None,
        questionImages: Annotated[list[str], Field(max_length=20)] = [],
        answerImages: Annotated[list[str], Field(max_length=20)] = [],
        quality: Annotated[
            Literal["h", "m", "l"], Field(description="h 1080p, m 720p, l 480p.")
        ] = "m",
        model: Annotated[str, Field(min_length=1, max_length=200)] = "slides",
    ) -> Annotated[CallToolResult, models.Video]:
        """Scenext's gen_video: an explainer video of a question and its answer, with
        images. Returns a task_id; follow it with wait_for_video or query_video_status."""

        async def act(videos: Videos) -> CallToolResult:
            body = {
                "question": question,
                "answer": answer,
                "questionImages": questionImages,
                "answerImages": answerImages,
                "quality": quality,
                "model": model,
            }
            model_name, task_input = inputs.scenext_request(await videos.router(), body)
            try:
                task = await videos.submit(model_name, task_input)
            except errors.InvalidRequest as exc:
                raise _renamed(exc, "input.", "")
            return _video(task, videos, title="Started video task")

        return await call(ctx, act)

    @server.tool(title="Video status", annotations=_QUERY)
    async def query_video_status(
        ctx: Context, task_id: TaskId
    ) -> Annotated[CallToolResult, models.Video]:
        """Check a video task: status, progress, stage, ETA and, once completed, the video
        and cover URLs. Show video links to the user as [text](url) and images as
        ![text](url)."""

        async def act(videos: Videos) -> CallToolResult:
            return _video(await videos.get(_task_id(task_id)), videos)

        return await call(ctx, act)

    @server.tool(title="Video task (Doubao shape)", annotations=_QUERY)
    async def query_video_task(
        ctx: Context, task_id: TaskId
    ) -> Annotated[CallToolResult, models.DoubaoAnswer]:
        """Check a video task, answered as {code, msg, data: {task_id, status, video_url,
        cover_url, error_msg, created_at, finished_at}}; status is pending, processing,
        success or failed."""

        async def act(videos: Videos) -> CallToolResult:
            answer = models.doubao_answer(await videos.get(_task_id(task_id)))
            return _result(answer, markdown.doubao(answer))

        return await call(ctx, act)

    @server.tool(title="Wait for a video", annotations=_QUERY)
    async def wait_for_video(
        ctx: Context,
        task_id: TaskId,
        timeout: Annotated[
            float, Field(gt=0, le=MAX_WAIT_S, description="Seconds to wait at most (≤ 50).")
        ] = 45.0,
    ) -> Annotated[CallToolResult, models.Video]:
        """Wait until a video task is done, at most `timeout` seconds, sending progress
        notifications meanwhile. Returns early when it finishes; if done is still false,
        call it again."""

        async def act(videos: Videos) -> CallToolResult:
            reported = -1.0

            async def on_change(task: Task) -> None:
                nonlocal reported
                if task.progress > reported:  # progress notifications must increase
                    reported = task.progress
                    message = f"{task.status}: {task.stage} {task.progress:.0f}%"
                    await ctx.report_progress(task.progress, 100.0, message)

            task = await videos.wait(_task_id(task_id), timeout, on_change)
            return _video(task, videos)

        return await call(ctx, act)

    @server.tool(title="Cancel a video", annotations=_CANCEL)
    async def cancel_video(
        ctx: Context, task_id: TaskId
    ) -> Annotated[CallToolResult, models.Video]:
        """Cancel a queued or rendering video task. A task that already finished stays as
        it is."""

        async def act(videos: Videos) -> CallToolResult:
            return _video(
                await videos.cancel(_task_id(task_id)), videos, title="Cancelling video task"
            )

        return await call(ctx, act)

    @server.tool(title="List videos", annotations=_QUERY)
    async def list_videos(
        ctx: Context,
        status: Annotated[
            list[StatusName], Field(description="Only tasks in these statuses.")
        ] = [],
        limit: Annotated[int, Field(ge=1, le=50)] = 10,
    ) -> Annotated[CallToolResult, models.VideoList]:
        """The video tasks of this API key, newest first."""

        async def act(videos: Videos) -> CallToolResult:
            found, more = await videos.list_tasks(list(status), limit)
            listing = models.VideoList(
                videos=[models.video(t, videos.video_file(t)) for t in found], has_more=more
            )
            return _result(listing, markdown.video_list(listing))

        return await call(ctx, act)

    @server.tool(title="List models", annotations=_QUERY)
    async def list_models(ctx: Context) -> Annotated[CallToolResult, models.ModelList]:
        """The models generate_video accepts, and the aliases (e.g. sora-2) they answer to."""

        async def act(videos: Videos) -> CallToolResult:
            listing = models.ModelList(models=await videos.models())
            return _result(listing, markdown.model_list(listing))

        return await call(ctx, act)

    @server.resource(
        "vidtask://tasks/{task_id}",
        name="task",
        title="Video task",
        description="A video task of this API key, as the native API's JSON.",
        mime_type="application/json",
    )
    async def task_resource(task_id: str, ctx: Context) -> str:
        try:
            videos = await backend.videos(ctx.headers)
            task = await videos.get(_task_id(task_id))
        except errors.NotFound as exc:
            raise ResourceNotFoundError(exc.message) from exc
        except errors.VidtaskError as exc:
            raise ResourceError(_message(exc, transport)) from exc
        return json.dumps(task.model_dump(mode="json"), ensure_ascii=False)


def _task_id(task_id: str) -> str:
    if not task_id.strip():
        raise errors.InvalidRequest(
            "task_id is empty: pass the task_id that generate_video returned (list_videos "
            "shows them)",
            param="task_id",
        )
    return task_id.strip()


def _renamed(exc: errors.InvalidRequest, prefix: str, to: str) -> errors.InvalidRequest:
    """The service names fields ``input.…``; the tool's caller knows them by its own names."""
    if exc.param is None or not exc.param.startswith(prefix):
        return exc
    param = to + exc.param[len(prefix) :]
    message = exc.message.replace(exc.param, param, 1)
    renamed = errors.InvalidRequest(message, param=param)
    renamed.__cause__ = exc
    return renamed


def _video(task: Task, videos: Videos, *, title: str = "Video task") -> CallToolResult:
    view = models.video(task, videos.video_file(task))
    return _result(view, markdown.video(view, title=title))


def _result(model: BaseModel, text: str) -> CallToolResult:
    return CallToolResult(
        content=[TextContent(type="text", text=text)],
        structured_content=model.model_dump(mode="json"),
    )


def _failure(exc: errors.VidtaskError, transport: Transport) -> CallToolResult:
    log.info("MCP tool call refused: %s", exc.code, extra={"param": exc.param})
    return CallToolResult(
        content=[TextContent(type="text", text=_message(exc, transport))], is_error=True
    )


def _message(exc: errors.VidtaskError, transport: Transport) -> str:
    text = f"{exc.code}: {exc.message.rstrip('.')}."
    if isinstance(exc, errors.Unauthorized):
        text += " " + _KEY_HINT[transport]
    elif isinstance(exc, errors.NotFound) and exc.param == "task_id":
        text += (
            " Tasks of other API keys are not visible. Check the task_id; list_videos shows "
            "the tasks of this key."
        )
    elif isinstance(exc, errors.InvalidRequest) and exc.param:
        text += f" Fix `{exc.param}` and call the tool again."
    return text

"""The capcut-mate drop-in under ``/openapi/capcut-mate/v1`` (issue 8): durable drafts built with
capcut-mate's calls, rendered through the normal task path, and JianYing draft import.

Answers are ``{"code": 0, "message": "success", ...}``; errors ``{"code": <n>, "message"}`` with
the HTTP status of the error; ``gen_video_status`` answers exactly as seed 004.
"""

from __future__ import annotations

import functools
import os
import shutil
import threading
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import anyio
from fastapi import Request
from starlette.datastructures import UploadFile
from starlette.responses import JSONResponse, Response

from vidtask.capcut import compile as compiler
from vidtask.capcut import helpers, jianying, params
from vidtask.capcut.draft import DraftContent, Track, new_draft_id
from vidtask.core import errors
from vidtask.core.task import ACTIVE, Task, TaskSpec
from vidtask.dialects import capcut_mate
from vidtask.render import assets, probe
from vidtask.store.base import TaskFilter
from vidtask.store.drafts import DraftRecord
from vidtask.web import uploads
from vidtask.web.body import read_json
from vidtask.web.dialect import Dialect
from vidtask.web.state import AppState, state

__all__ = ["DIALECT"]

TIP_URL = "https://github.com/vidtask/vidtask/blob/main/docs/capcut-mate.md"
SUBMITTED = "视频生成任务已提交，请使用draft_url查询进度"
#: Attempts of one add_* against concurrent edits of the same draft.
_EDIT_ATTEMPTS = 50

DIALECT = Dialect(
    name="capcut_mate",
    prefixes=(capcut_mate.PREFIX + "/",),
    error_view=capcut_mate.error_view,
    error_view_at=capcut_mate.error_view_at,
    status_view=capcut_mate.draft_status_view,
    challenge=False,
    tags=["capcut-mate"],
    route_prefix=capcut_mate.PREFIX,
)
router = DIALECT.router


def draft_url(app: AppState, draft_id: str) -> str:
    return f"{app.settings.base_url}{capcut_mate.PREFIX}/get_draft?draft_id={draft_id}"


def draft_id_of(url: str) -> str:
    """The ``draft_id`` of a draft_url (any host: the URL may have been built behind a proxy),
    or a bare id."""
    value = url.strip()
    if "draft_id=" in value:
        ids = parse_qs(urlsplit(value).query).get("draft_id") or [""]
        value = ids[0]
    if not 20 <= len(value) <= 32 or not value.isalnum():
        raise errors.InvalidRequest(
            "draft_url: must be the draft_url returned by create_draft (…/get_draft?draft_id=…)",
            param="draft_url",
        )
    return value


def _not_found() -> errors.NotFound:
    return errors.NotFound(
        "draft_url: no such draft (it does not exist or belongs to another API key)",
        param="draft_url",
    )


async def _load(app: AppState, owner: str, url: str) -> DraftRecord:
    record = await app.drafts.get(draft_id_of(url), owner)
    if record is None:
        raise _not_found()
    return record


async def _edit(
    app: AppState, owner: str, url: str, change: Callable[[DraftContent], Any]
) -> tuple[Any, DraftRecord]:
    """Read, change, compare-and-swap; again if another call changed the draft meanwhile."""
    for _ in range(_EDIT_ATTEMPTS):
        record = await _load(app, owner, url)
        content = DraftContent.model_validate(record.content)
        if content.imported_timeline is not None:
            raise errors.InvalidRequest(
                "draft_url: an imported JianYing draft cannot be edited", param="draft_url"
            )
        result = change(content)
        updated = await app.drafts.update(
            record.id, owner, version=record.version, content=content.model_dump(mode="json")
        )
        if updated is not None:
            return result, updated
    raise errors.Conflict("draft_url: the draft is being changed by many calls at once; retry")


async def _check_sources(app: AppState, track: Track, field: str, url_field: str) -> None:
    policy = app.tasks.asset_policy
    for i, segment in enumerate(track.segments):
        if segment.src is not None:
            await anyio.to_thread.run_sync(
                functools.partial(
                    assets.check_source, segment.src, policy, param=f"{field}[{i}].{url_field}"
                )
            )


def _segments(track: Track) -> dict[str, Any]:
    return {
        "track_id": track.id,
        "segment_ids": [s.id for s in track.segments],
        "segment_infos": [{"id": s.id, "start": s.start, "end": s.end} for s in track.segments],
    }


# --- drafts ---------------------------------------------------------------------------------


@router.post("/create_draft")
async def create_draft(request: Request) -> Response:
    app = state(request)
    owner = await app.auth.owner(request)
    body = await request.body()
    size = params.parse(params.CreateDraft, await read_json(request) if body.strip() else {})
    now = time.time()
    content = DraftContent(width=size.width, height=size.height)
    record = DraftRecord(new_draft_id(), owner, content.model_dump(mode="json"), now, now)
    await app.drafts.create(record)
    return JSONResponse(capcut_mate.ok(draft_url=draft_url(app, record.id), tip_url=TIP_URL))


async def _add(
    request: Request,
    model: type[params.M],
    build: Callable[[Any, DraftContent], Track],
    field: str,
    url_field: str,
) -> tuple[AppState, Track, DraftRecord]:
    app = state(request)
    owner = await app.auth.owner(request)
    body = params.parse(model, await read_json(request))
    record = await _load(app, owner, body.draft_url)  # type: ignore[attr-defined]
    # Validate against the draft as read (sizes never change), check the sources once, then
    # append under compare-and-swap.
    track = build(body, DraftContent.model_validate(record.content))
    await _check_sources(app, track, field, url_field)

    def append(content: DraftContent) -> None:
        content.tracks.append(track)

    _, updated = await _edit(app, owner, body.draft_url, append)  # type: ignore[attr-defined]
    return app, track, updated


@router.post("/add_videos")
async def add_videos(request: Request) -> Response:
    app, track, record = await _add(
        request, params.AddVideos, params.video_track, "video_infos", "video_url"
    )
    ids = [s.material_id for s in track.segments]
    return JSONResponse(
        capcut_mate.ok(draft_url=draft_url(app, record.id), video_ids=ids, **_segments(track))
    )


@router.post("/add_images")
async def add_images(request: Request) -> Response:
    app, track, record = await _add(
        request, params.AddImages, params.image_track, "image_infos", "image_url"
    )
    ids = [s.material_id for s in track.segments]
    return JSONResponse(
        capcut_mate.ok(draft_url=draft_url(app, record.id), image_ids=ids, **_segments(track))
    )


@router.post("/add_audios")
async def add_audios(request: Request) -> Response:
    app, track, record = await _add(
        request, params.AddAudios, params.audio_track, "audio_infos", "audio_url"
    )
    ids = [s.material_id for s in track.segments]
    return JSONResponse(
        capcut_mate.ok(draft_url=draft_url(app, record.id), track_id=track.id, audio_ids=ids)
    )


@router.post("/add_captions")
async def add_captions(request: Request) -> Response:
    app, track, record = await _add(
        request, params.AddCaptions, params.caption_track, "captions", "text"
    )
    ids = [s.material_id for s in track.segments]
    return JSONResponse(
        capcut_mate.ok(draft_url=draft_url(app, record.id), text_ids=ids, **_segments(track))
    )


@router.post("/add_keyframes")
async def add_keyframes(request: Request) -> Response:
    app = state(request)
    owner = await app.auth.owner(request)
    body = params.parse(params.AddKeyframes, await read_json(request))
    (added, touched), record = await _edit(
        app, owner, body.draft_url, lambda content: params.keyframes(body, content)
    )
    return JSONResponse(
        capcut_mate.ok(
            draft_url=draft_url(app, record.id), keyframes_added=added, affected_segments=touched
        )
    )


#: JianYing catalogue features without a renderer equivalent: refused, never ignored.
_REFUSED = {
    "add_effects": "video effects (JianYing's 特效 catalogue)",
    "add_filters": "filters (JianYing's 滤镜 catalogue)",
    "add_masks": "masks (JianYing's 蒙版)",
    "add_sticker": "stickers (JianYing's 贴纸 catalogue)",
}


def _refusal(name: str) -> Callable[[Request], Awaitable[Response]]:
    async def refuse(request: Request) -> Response:
        app = state(request)
        owner = await app.auth.owner(request)
        body = await read_json(request)
        if isinstance(body, dict) and "draft_url" in body:
            await _load(app, owner, str(body["draft_url"]))
        raise errors.InvalidRequest(
            f"{name}: {_REFUSED[name]} are not supported by the vidtask renderer, which renders "
            "without JianYing; remove this step (or use add_keyframes, transitions and "
            "animations, which are supported)",
            param=name,
        )

    return refuse


for _name in _REFUSED:
    router.add_api_route(f"/{_name}", _refusal(_name), methods=["POST"], name=_name)


@router.post("/save_draft")
async def save_draft(request: Request) -> Response:
    # Every add_* is already durable; saving only confirms the draft exists.
    app = state(request)
    body = params.parse(params.DraftRef, await read_json(request))
    record = await _load(app, await app.auth.owner(request), body.draft_url)
    return JSONResponse(capcut_mate.ok(draft_url=draft_url(app, record.id)))


@router.get("/get_draft")
async def get_draft(request: Request) -> Response:
    app = state(request)
    owner = await app.auth.owner(request)
    draft_id = request.query_params.get("draft_id", "")
    if not 20 <= len(draft_id) <= 32:
        raise errors.InvalidRequest("draft_id: must be 20-32 characters", param="draft_id")
    record = await _load(app, owner, draft_id)
    content = DraftContent.model_validate(record.content)
    draft = content.model_dump(mode="json", exclude={"imported_timeline"})
    draft["duration"] = content.duration_us
    return JSONResponse(
        capcut_mate.ok(files=[], draft_id=record.id, task_id=record.task_id, draft=draft)
    )


# --- rendering ------------------------------------------------------------------------------


async def _task(app: AppState, owner: str, task_id: str | None) -> Task | None:
    if task_id is None:
        return None
    return await app.tasks.find(owner, task_id)


async def render(app: AppState, owner: str, record: DraftRecord) -> Task:
    """The draft's running render, or a new one (after a finished one)."""
    running = await _task(app, owner, record.task_id)
    if running is not None and not running.terminal:
        return running
    content = DraftContent.model_validate(record.content)
    compiled = compiler.compile_draft(content)
    spec = TaskSpec(
        model="timeline",
        input=compiled.timeline,
        external_ref={
            "capcut_draft_id": record.id,
            "draft_url": draft_url(app, record.id),
            "warnings": list(content.warnings),
        },
    )
    try:
        task, _ = await app.tasks.submit(owner, spec)
    except errors.InvalidRequest as exc:
        raise compiler.rename_error(exc, compiled.origins) from exc
    if await app.drafts.set_task(record.id, owner, expected=record.task_id, task_id=task.id):
        return task
    # A concurrent gen_video won: withdraw ours and answer with the draft's render.
    await app.tasks.cancel(owner, task.id)
    latest = await _load(app, owner, record.id)
    current = await _task(app, owner, latest.task_id)
    return current or task


@router.post("/gen_video")
async def gen_video(request: Request) -> Response:
    app = state(request)
    owner = await app.auth.owner(request)
    body = params.parse(params.DraftRef, await read_json(request))
    record = await _load(app, owner, body.draft_url)
    task = await render(app, owner, record)
    return JSONResponse({"code": 0, "message": SUBMITTED, "task_id": task.id})


@router.post("/gen_video_status")
async def gen_video_status(request: Request) -> Response:
    app = state(request)
    owner = await app.auth.owner(request)
    body = params.parse(params.DraftRef, await read_json(request))
    record = await _load(app, owner, body.draft_url)
    task = await _task(app, owner, record.task_id)
    if task is None:
        raise errors.NotFound("指定的草稿URL没有对应的视频生成任务", param="draft_url")
    view = capcut_mate.status_view(task, app.tasks.links(task), body.draft_url)
    return JSONResponse(view)


@router.get("/gen_video_active_count")
async def gen_video_active_count(request: Request) -> Response:
    app = state(request)
    owner = await app.auth.owner(request)
    query = TaskFilter(statuses=tuple(ACTIVE), model="timeline")
    count = await app.tasks.count_tasks(owner, query)
    return JSONResponse(capcut_mate.ok(count=count))


# --- JianYing import ------------------------------------------------------------------------


def _allowed_folder(app: AppState, raw: str) -> Path:
    if "\x00" in raw or ".." in Path(raw).parts:
        raise errors.InvalidRequest("path: '..' is not allowed", param="path")
    try:
        real = Path(os.path.realpath(raw))
        roots = [Path(os.path.realpath(r)) for r in app.settings.effective_asset_roots]
        inside = any(real.is_relative_to(root) for root in roots)
        is_folder = inside and real.is_dir()
    except OSError as exc:  # a name too long for the system, say
        raise errors.InvalidRequest(
            f"path: cannot be used ({exc.strerror})", param="path"
        ) from None
    if not inside:
        raise errors.InvalidRequest(
            "path: must be a folder under the server's asset roots (VIDTASK_ASSET_ROOTS)",
            param="path",
        )
    if not is_folder:
        raise errors.InvalidRequest("path: is not a folder", param="path")
    return real


@router.post("/import_jianying")
async def import_jianying(request: Request) -> Response:
    """A JianYing draft folder (a zip upload in ``file``, or ``{"path": ...}`` under an asset
    root) becomes a draft and is rendered at once; what cannot be rendered is in ``warnings``."""
    app = state(request)
    owner = await app.auth.owner(request)
    draft_id = new_draft_id()
    dest: Path | None = None
    if request.headers.get("content-type", "").lower().startswith("multipart/form-data"):
        async with request.form() as form:
            upload = form.get("file")
            if not isinstance(upload, UploadFile):
                raise errors.InvalidRequest("file: upload the draft folder as a zip", param="file")
            data = await upload.read()
        dest = app.tasks.inputs.staging / "jianying" / draft_id
        folder = await anyio.to_thread.run_sync(
            functools.partial(
                jianying.extract_zip, data, dest, max_bytes=app.settings.max_asset_bytes
            )
        )
    else:
        body = await read_json(request)
        if not isinstance(body, dict) or not isinstance(body.get("path"), str):
            raise errors.InvalidRequest(
                "path: give the draft folder's path, or upload a zip as multipart field file",
                param="path",
            )
        folder = _allowed_folder(app, body["path"])
    try:
        imported = await anyio.to_thread.run_sync(jianying.import_folder, folder)
        timeline = imported.timeline
        if dest is not None:  # the unpacked files become inputs (in the bucket, if any)
            kept = await uploads.keep_folder(app.tasks.inputs, dest, f"jianying/{draft_id}")
            timeline = _renamed_sources(timeline, kept)
        now = time.time()
        content = DraftContent(
            width=imported.width,
            height=imported.height,
            imported_timeline=timeline,
            warnings=imported.warnings,
        )
        record = DraftRecord(draft_id, owner, content.model_dump(mode="json"), now, now)
        await app.drafts.create(record)
        task = await render(app, owner, record)
    except BaseException:
        if dest is not None:  # an unpacked zip that did not become a task is garbage
            await anyio.to_thread.run_sync(functools.partial(shutil.rmtree, dest, True))
        raise
    return JSONResponse(
        capcut_mate.ok(
            draft_url=draft_url(app, draft_id),
            task_id=task.id,
            warnings=imported.warnings,
        )
    )


# --- helpers for Coze/n8n workflows ---------------------------------------------------------


def _helper(name: str, model: type[params.M], reshape: Callable[[Any], dict[str, Any]]) -> None:
    async def run(request: Request) -> Response:
        await state(request).auth.owner(request)
        body = params.parse(model, await read_json(request))
        return JSONResponse(capcut_mate.ok(**reshape(body)))

    router.add_api_route(f"/{name}", run, methods=["POST"], name=name)


_helper("timelines", helpers.Timelines, helpers.timelines)
_helper("imgs_infos", helpers.ImgsInfos, helpers.imgs_infos)
_helper("video_infos", helpers.VideoInfos, helpers.video_infos)
_helper("audio_infos", helpers.AudioInfos, helpers.audio_infos)
_helper("caption_infos", helpers.CaptionInfos, helpers.caption_infos)
_helper("str_to_list", helpers.StrToList, helpers.str_to_list)


@router.post("/audio_timelines")
async def audio_timelines(request: Request) -> Response:
    """Durations are probed from the files (fetched with the asset guard)."""
    app = state(request)
    await app.auth.owner(request)
    body = params.parse(helpers.AudioTimelines, await read_json(request))
    durations = []
    scratch = app.settings.scratch_dir / ("audio_timelines_" + new_draft_id())
    try:
        for i, link in enumerate(body.links):
            param = f"links[{i}]"
            await anyio.to_thread.run_sync(
                functools.partial(assets.check_source, link, app.tasks.asset_policy, param=param)
            )
            path = await anyio.to_thread.run_sync(
                assets.fetch, link, app.tasks.asset_policy, scratch, threading.Event()
            )
            info = await anyio.to_thread.run_sync(probe.probe, path)
            if not info.has_audio or info.duration <= 0:
                raise errors.InvalidRequest(f"{param}: has no sound to measure", param=param)
            durations.append(round(info.duration * 1_000_000))
    finally:
        await anyio.to_thread.run_sync(_remove_tree, scratch)
    return JSONResponse(capcut_mate.ok(**helpers.audio_timelines(durations)))


def _renamed_sources(value: Any, sources: dict[str, str]) -> Any:
    """``value`` (an imported timeline) with each string that names a kept file replaced by
    that input's ``src``."""
    if isinstance(value, str):
        return sources.get(value, value)
    if isinstance(value, list):
        return [_renamed_sources(item, sources) for item in value]
    if isinstance(value, dict):
        return {key: _renamed_sources(item, sources) for key, item in value.items()}
    return value


def _remove_tree(path: Path) -> None:
    shutil.rmtree(path, ignore_errors=True)

"""Volcengine Ark / BytePlus ModelArk: Seedance video generation tasks.

Written from the public API documentation (the BytePlus English pages; the Volcengine Chinese
pages carry the same IDs under https://www.volcengine.com/docs/82379/<id>):

- Create a task: https://docs.byteplus.com/en/docs/ModelArk/1520757 (body fields, value ranges,
  strict validation of body parameters, ``callback_url``, ``return_last_frame``,
  ``execution_expires_after``, task IDs kept 7 days)
- Retrieve a task: https://docs.byteplus.com/en/docs/ModelArk/1521309 (task object, statuses)
- List tasks: https://docs.byteplus.com/en/docs/ModelArk/1521675 (``page_num``, ``page_size``,
  ``filter.*``; the last 7 days)
- Cancel or delete a task: https://docs.byteplus.com/en/docs/ModelArk/1521720
- Error codes: https://www.volcengine.com/docs/82379/1299023 (common codes: the
  ``{"error": {code, message, param, type}}`` envelope, 401 ``AuthenticationError``, 403
  ``AccountOverdueError``, 429 ``TooManyRequests`` codes) and
  https://www.volcengine.com/docs/82379/1099476

What the pages leave open, and what this simulator does there, is listed under "Where the docs
are silent" in ``docs/providers.md`` (Ark section).
"""

from __future__ import annotations

import random
import re
import string
import time
from collections.abc import Iterable, Mapping
from typing import Any, Unpack

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from tests.simulators.base import JSONObject, SimTask, Simulator, SimulatorOptions, json_body
from tests.simulators.script import Op, Phase, Refusal

__all__ = ["ArkSimulator"]

_DAY = 24 * 3600

_FIELDS = frozenset(
    {
        *("model", "content", "callback_url", "return_last_frame", "service_tier"),
        *("execution_expires_after", "generate_audio", "draft", "safety_identifier", "priority"),
        *("resolution", "ratio", "duration", "frames", "seed", "camera_fixed", "watermark"),
        *("output_format", "tools"),
    }
)
_RESOLUTIONS = ("480p", "720p", "1080p", "4k")
_RATIOS = ("16:9", "4:3", "1:1", "3:4", "9:16", "21:9", "adaptive")
# The 16:9 frame size of each resolution (create page, "width and height pixel values").
_PIXELS = {"480p": 864 * 496, "720p": 1280 * 720, "1080p": 1920 * 1080, "4k": 3840 * 2160}
_IMAGE_ROLES = ("first_frame", "last_frame", "reference_image")
_LIST_STATUSES = ("queued", "running", "cancelled", "succeeded", "failed")
# Legacy parameters appended to the prompt (create page, "Parameter input methods").
_FLAG = re.compile(r"--(rs|rt|dur|seed|cf|wm)\s+(\S+)")
_FLAG_FIELDS = {
    "rs": "resolution",
    "rt": "ratio",
    "dur": "duration",
    "seed": "seed",
    "cf": "camera_fixed",
    "wm": "watermark",
}

_REFUSALS: Mapping[Refusal, tuple[int, str, str]] = {
    Refusal.INVALID: (400, "BadRequest", "InvalidParameter"),
    Refusal.UNAUTHORIZED: (401, "Unauthorized", "AuthenticationError"),
    Refusal.QUOTA: (403, "Forbidden", "AccountOverdueError"),
    Refusal.RATE_LIMITED: (429, "TooManyRequests", "RateLimitExceeded.EndpointRPMExceeded"),
    Refusal.SERVER_ERROR: (500, "InternalServiceError", "InternalServiceError"),
    Refusal.NOT_FOUND: (404, "NotFound", "ResourceNotFound"),
    Refusal.CONFLICT: (400, "BadRequest", "InvalidParameter"),
}


class _Invalid(Exception):
    def __init__(self, param: str, message: str, code: str = "InvalidParameter") -> None:
        super().__init__(message)
        self.param = param
        self.code = code


class ArkSimulator(Simulator):
    """Seedance tasks under ``/api/v3/contents/generations/tasks``.

    ``models``: the model and endpoint IDs that exist (others answer 404
    ``InvalidEndpointOrModel.NotFound``); None accepts any."""

    name = "ark"
    api_root = "/api/v3"
    words = {
        Phase.QUEUED: "queued",
        Phase.RUNNING: "running",
        Phase.SUCCEEDED: "succeeded",
        Phase.FAILED: "failed",
        Phase.EXPIRED: "expired",
        Phase.CANCELLED: "cancelled",
    }
    # "cancelled" is not among the callback statuses the create page lists; only succeeded and
    # failed callbacks are retried (three times, when no confirmation came within 5 s).
    callback_phases = frozenset(
        {Phase.QUEUED, Phase.RUNNING, Phase.SUCCEEDED, Phase.FAILED, Phase.EXPIRED}
    )
    callback_retries = {Phase.SUCCEEDED: 3, Phase.FAILED: 3}
    url_lifetime_s = _DAY  # result URLs last 24 h (retrieve page)

    def __init__(
        self, *, models: Iterable[str] | None = None, **options: Unpack[SimulatorOptions]
    ) -> None:
        self.models = None if models is None else frozenset(models)
        super().__init__(**options)

    def routes(self) -> list[BaseRoute]:
        tasks = self.api_root + "/contents/generations/tasks"
        return [
            Route(tasks, self._create, methods=["POST"]),
            Route(tasks, self._list, methods=["GET"]),
            Route(tasks + "/{task_id}", self._get, methods=["GET"]),
            Route(tasks + "/{task_id}", self._delete, methods=["DELETE"]),
        ]

    def deadline(self, task: SimTask) -> float | None:
        expires_after: int = task.request["execution_expires_after"]
        return float(expires_after)

    def gone(self, task: SimTask) -> bool:
        now = self.now()
        if now - task.created_at >= 7 * _DAY:  # task IDs are kept 7 days
            return True
        # "Cancelled status is automatically deleted after 24h" (retrieve page)
        return task.phase is Phase.CANCELLED and now - task.updated_at >= _DAY

    def refuse(
        self,
        refusal: Refusal,
        message: str,
        *,
        param: str | None = None,
        code: str | None = None,
        status: int | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> Response:
        default_status, kind, default_code = _REFUSALS[refusal]
        request_id = f"{time.strftime('%Y%m%d%H%M%S')}{random.getrandbits(64):016x}"
        error = {
            "code": code or default_code,
            "message": f"{message}. Request id: {request_id}",
            "param": param or "",
            "type": kind,
        }
        return JSONResponse({"error": error}, status or default_status, dict(headers or {}))

    def view(self, task: SimTask, word: str) -> JSONObject:
        asked = task.request
        body: JSONObject = {
            "id": task.id,
            "model": task.model,
            "status": word,
            "error": None,
            "created_at": int(task.created_at),
            "updated_at": int(task.updated_at),
            "seed": asked["seed"],
            "resolution": asked["resolution"],
            "ratio": asked["ratio"],
            "duration": asked["duration"],
            "framespersecond": 24,
            "service_tier": asked["service_tier"],
            "execution_expires_after": asked["execution_expires_after"],
            "generate_audio": asked["generate_audio"],
            "draft": asked["draft"],
            "priority": asked["priority"],
        }
        if "frames" in asked:
            body["frames"] = asked["frames"]
        if "safety_identifier" in asked:
            body["safety_identifier"] = asked["safety_identifier"]
        if task.phase is Phase.SUCCEEDED:
            content = {"video_url": self.file_url(task, "video.mp4")}
            if asked["return_last_frame"]:
                content["last_frame_url"] = self.file_url(task, "last_frame.png")
            body["content"] = content
            tokens = _PIXELS[asked["resolution"]] * 24 * asked["duration"] // 1024
            body["usage"] = {"completion_tokens": tokens, "total_tokens": tokens}
        elif task.phase is Phase.FAILED:
            body["error"] = {
                "code": str(task.script.error_code or "OutputVideoSensitiveContentDetected"),
                "message": task.script.error_message
                or "The output video may contain sensitive information (simulated failure)",
            }
        return body

    # -- routes --------------------------------------------------------------------------------

    async def _create(self, request: Request) -> Response:
        key = await self.gate(request, Op.CREATE)
        if isinstance(key, Response):
            return key
        try:
            asked, prompt = _parse(await json_body(request))
        except _Invalid as exc:
            return self.refuse(Refusal.INVALID, str(exc), param=exc.param, code=exc.code)
        model: str = asked["model"]
        if self.models is not None and model not in self.models:
            return self.refuse(
                Refusal.NOT_FOUND,
                f"The model or endpoint {model} does not exist or you do not have access to it",
                param="model",
                code="InvalidEndpointOrModel.NotFound",
            )
        task = self.new_task(
            task_id=self._new_id(),
            key=key,
            prompt=prompt,
            model=model,
            request=asked,
            callback_url=asked.get("callback_url"),
        )
        return await self.created(task, {"id": task.id})

    async def _get(self, request: Request) -> Response:
        return await self.answer_status(request, request.path_params["task_id"])

    async def _list(self, request: Request) -> Response:
        key = await self.gate(request, Op.LIST)
        if isinstance(key, Response):
            return key
        query = request.query_params
        pages: dict[str, int] = {}
        for name, default in (("page_num", 1), ("page_size", 10)):
            raw = query.get(name)
            value = default if raw is None else int(raw) if raw.isdigit() else 0
            if not 1 <= value <= 500:
                return self.refuse(Refusal.INVALID, f"{name} must be in [1, 500]", param=name)
            pages[name] = value
        status = query.get("filter.status")
        if status is not None and status not in _LIST_STATUSES:
            return self.refuse(Refusal.INVALID, "unknown filter.status", param="filter.status")
        wanted_ids = set(query.getlist("filter.task_ids"))
        chosen = []
        for task_id in list(self.tasks):
            task = self.lookup(task_id)
            if task is None:
                continue
            if status is not None and self.words[task.phase] != status:
                continue
            if wanted_ids and task.id not in wanted_ids:
                continue
            if query.get("filter.model") not in (None, task.model):
                continue
            if query.get("filter.service_tier") not in (None, task.request["service_tier"]):
                continue
            chosen.append(task)
        chosen.sort(key=lambda task: task.created_at, reverse=True)
        start = (pages["page_num"] - 1) * pages["page_size"]
        page = chosen[start : start + pages["page_size"]]
        return JSONResponse({"items": [self.read(task) for task in page], "total": len(chosen)})

    async def _delete(self, request: Request) -> Response:
        key = await self.gate(request, Op.DELETE)
        if isinstance(key, Response):
            return key
        task = self.lookup(request.path_params["task_id"])
        if task is None:
            return self.not_found(request.path_params["task_id"])
        if task.phase is Phase.QUEUED:
            self.cancel(task)
        elif task.phase in (Phase.RUNNING, Phase.CANCELLED):
            return self.refuse(
                Refusal.CONFLICT,
                f"a task whose status is {task.phase.value} cannot be cancelled or deleted",
                param="id",
            )
        else:
            self.forget(task)
        return JSONResponse({})

    def not_found(self, task_id: str) -> Response:
        return self.refuse(Refusal.NOT_FOUND, f"the task {task_id} does not exist", param="id")

    def _new_id(self) -> str:
        while True:
            stamp = time.strftime("%Y%m%d%H%M%S", time.gmtime(self.now()))
            tail = "".join(random.choices(string.ascii_lowercase + string.digits, k=5))
            task_id = f"cgt-{stamp}-{tail}"
            if task_id not in self.tasks:
                return task_id


def _parse(body: Any) -> tuple[JSONObject, str]:
    """Validate a create body as the create page describes it; the normalised request (defaults
    filled in) and the prompt text. Body parameters are validated strictly: an unknown or
    invalid one is refused. Flags in the prompt are the legacy method: invalid ones are ignored.
    """
    if not isinstance(body, dict):
        raise _Invalid("", "the request body must be a JSON object")
    for name in body:
        if name not in _FIELDS:
            raise _Invalid(name, f"unknown parameter {name}")
    if "model" not in body:
        raise _Invalid("model", "model is required", "MissingParameter")
    if "content" not in body:
        raise _Invalid("content", "content is required", "MissingParameter")
    model = _typed(body, "model", str)
    if not model:
        raise _Invalid("model", "model must not be empty")
    prompt = _content(body["content"])
    asked: JSONObject = {"model": model}

    flags = {name: value for name, value in _FLAG.findall(prompt)}
    for flag, field_name in _FLAG_FIELDS.items():
        if flag in flags and field_name not in body:
            _flag_value(asked, field_name, flags[flag])

    if "callback_url" in body:
        url = _typed(body, "callback_url", str)
        if not url.startswith(("http://", "https://")):
            raise _Invalid("callback_url", "callback_url must be an http(s) URL")
        asked["callback_url"] = url
    for name, default in (
        ("return_last_frame", False),
        ("generate_audio", True),
        ("draft", False),
        ("camera_fixed", False),
        ("watermark", False),
    ):
        if name in body:
            asked[name] = _typed(body, name, bool)
        else:
            asked.setdefault(name, default)
    asked["service_tier"] = _choice(body, "service_tier", ("default", "flex"), "default")
    asked["execution_expires_after"] = (
        _integer(body, "execution_expires_after", 3600, 259200)
        if "execution_expires_after" in body
        else 172800
    )
    asked["priority"] = _integer(body, "priority", 0, 9) if "priority" in body else 0
    if "safety_identifier" in body:
        identifier = _typed(body, "safety_identifier", str)
        if len(identifier) > 64:
            raise _Invalid("safety_identifier", "safety_identifier is longer than 64 characters")
        asked["safety_identifier"] = identifier
    if "resolution" in body:
        asked["resolution"] = _choice(body, "resolution", _RESOLUTIONS, "720p")
    if "ratio" in body:
        asked["ratio"] = _choice(body, "ratio", _RATIOS, "adaptive")
    if "output_format" in body:
        asked["output_format"] = _choice(body, "output_format", ("mp4", "mov"), "mp4")
    if "tools" in body and not isinstance(body["tools"], list):
        raise _Invalid("tools", "tools must be a list")
    if "duration" in body:
        duration = _integer(body, "duration", -1, 30)
        if duration in (0, 1):
            raise _Invalid("duration", "duration must be -1 or at least 2")
        asked["duration"] = duration
    if "frames" in body:
        frames = _integer(body, "frames", 29, 289)
        if (frames - 25) % 4:
            raise _Invalid("frames", "frames must be 25 + 4n")
        asked["frames"] = frames
    if "seed" in body:
        asked["seed"] = _integer(body, "seed", -1, 2147483647)

    if asked["draft"]:
        if asked.get("resolution", "480p") != "480p":
            raise _Invalid("resolution", "draft mode generates 480p only")
        if asked["return_last_frame"] or asked["service_tier"] == "flex":
            raise _Invalid("draft", "draft mode supports neither return_last_frame nor flex")
        asked["resolution"] = "480p"
    if asked["service_tier"] == "flex" and "priority" in body:
        raise _Invalid("priority", "priority is not supported with service_tier flex")

    asked.setdefault("resolution", "720p")
    if asked.get("ratio", "adaptive") == "adaptive":
        asked["ratio"] = "16:9"
    if "frames" in asked:
        asked["duration"] = asked["frames"] // 24  # "actual total frames / 24, rounded down"
    elif asked.get("duration", -1) == -1:
        asked["duration"] = 5
    if asked.get("seed", -1) == -1:
        asked["seed"] = random.randrange(2147483648)
    return asked, prompt


def _content(content: Any) -> str:
    """Check the content items (types, roles, exclusive modes); the joined text prompt."""
    if not isinstance(content, list) or not content:
        raise _Invalid("content", "content must be a non-empty list")
    texts: list[str] = []
    roles: list[str] = []
    unnamed_images = 0
    for index, item in enumerate(content):
        where = f"content[{index}]"
        if not isinstance(item, dict) or not isinstance(item.get("type"), str):
            raise _Invalid(where, "each content item is an object with a type")
        kind = item["type"]
        allowed = {"type", "role", kind}
        unknown = set(item) - allowed
        if unknown:
            raise _Invalid(f"{where}.{sorted(unknown)[0]}", "unknown field in a content item")
        if kind == "text":
            if not isinstance(item.get("text"), str):
                raise _Invalid(f"{where}.text", "text must be a string")
            texts.append(item["text"])
            continue
        if kind not in ("image_url", "video_url", "audio_url", "draft_task"):
            raise _Invalid(f"{where}.type", f"unknown content type {kind}")
        inner = item.get(kind)
        field_name = "id" if kind == "draft_task" else "url"
        if not isinstance(inner, dict) or not isinstance(inner.get(field_name), str):
            raise _Invalid(f"{where}.{kind}.{field_name}", f"{kind}.{field_name} is required")
        role = item.get("role")
        expected = {
            "image_url": _IMAGE_ROLES,
            "video_url": ("reference_video",),
            "audio_url": ("reference_audio",),
            "draft_task": (),
        }[kind]
        if role is not None and role not in expected:
            raise _Invalid(f"{where}.role", f"role {role!r} is not valid for {kind}")
        if kind == "image_url" and role is None:
            unnamed_images += 1
        elif kind in ("video_url", "audio_url"):
            roles.append(f"reference_{kind[:5]}")
        elif role is not None:
            roles.append(role)
    frame_roles = {"first_frame", "last_frame"} & set(roles)
    reference_roles = {"reference_image", "reference_video", "reference_audio"} & set(roles)
    if unnamed_images > 1 or (unnamed_images and roles):
        raise _Invalid("content", "several images need a role each")
    if frame_roles and reference_roles:
        raise _Invalid("content", "first/last-frame and reference inputs cannot be mixed")
    if "last_frame" in roles and "first_frame" not in roles:
        raise _Invalid("content", "a last frame needs a first frame")
    return " ".join(texts)


def _typed(body: JSONObject, name: str, kind: type[Any]) -> Any:
    value = body[name]
    if not isinstance(value, kind) or (kind is not bool and isinstance(value, bool)):
        raise _Invalid(name, f"{name} must be a {kind.__name__}")
    return value


def _integer(body: JSONObject, name: str, low: int, high: int) -> int:
    value: int = _typed(body, name, int)
    if not low <= value <= high:
        raise _Invalid(name, f"{name} must be in [{low}, {high}]")
    return value


def _choice(body: JSONObject, name: str, allowed: tuple[str, ...], default: str) -> str:
    if name not in body:
        return default
    value: str = _typed(body, name, str)
    if value not in allowed:
        raise _Invalid(name, f"{name} must be one of {', '.join(allowed)}")
    return value


def _flag_value(asked: JSONObject, field_name: str, raw: str) -> None:
    """Apply one legacy prompt flag; an invalid value is ignored."""
    if field_name == "resolution" and raw in _RESOLUTIONS:
        asked["resolution"] = raw
    elif field_name == "ratio" and raw in _RATIOS:
        asked["ratio"] = raw
    elif field_name in ("duration", "seed") and re.fullmatch(r"-?\d+", raw):
        value = int(raw)
        if field_name == "duration" and (value == -1 or 2 <= value <= 30):
            asked["duration"] = value
        if field_name == "seed" and -1 <= value <= 2147483647:
            asked["seed"] = value
    elif field_name in ("camera_fixed", "watermark") and raw in ("true", "false"):
        asked[field_name] = raw == "true"

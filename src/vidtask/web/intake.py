"""The create path of every dialect: read the body (JSON or multipart), keep inline images as
uploaded files, parse with the dialect's pure parser, submit to the service (which counts it).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from fastapi import Request
from starlette.datastructures import UploadFile

from vidtask.core import errors
from vidtask.core.task import Task
from vidtask.service.tasks import request_hash
from vidtask.web import uploads
from vidtask.web.body import read_json
from vidtask.web.dialect import Parser
from vidtask.web.state import AppState

__all__ = ["Intake", "read_form_or_json"]


class Intake:
    """One create request: collects the images it carries, then parses and submits."""

    def __init__(self, app: AppState, request: Request) -> None:
        self.app = app
        self.request = request
        self.images: list[uploads.UploadedImage] = []

    def image_bytes(self, data: bytes, *, param: str) -> str:
        """An uploaded image: the ``src`` it will have (kept on submit)."""
        image = uploads.from_bytes(data, param=param)
        self.images.append(image)
        return self.app.tasks.inputs.src(image.path)

    def image_source(self, value: str, *, param: str) -> str:
        """A URL or path as given, or a ``data:`` URL turned into an uploaded file's path."""
        if not uploads.is_data_url(value):
            return value
        image = uploads.from_data_url(value, param=param)
        self.images.append(image)
        return self.app.tasks.inputs.src(image.path)

    async def submit(
        self,
        owner: str,
        body: Any,
        parse: Parser,
        *,
        fields: Mapping[str, str] | None = None,
    ) -> tuple[Task, bool]:
        """Parse ``body`` (with inline images already replaced by paths) and submit it: the
        task, and whether it is new (not an Idempotency-Key replay).

        ``fields`` renames the service's field paths in errors to the dialect's own
        (``webhook_url`` is Ark's ``callback_url``; a name also renames the paths under it)."""
        spec = parse(
            body,
            router=self.app.tasks.routing,
            idempotency_key=self.request.headers.get("idempotency-key"),
            body_hash=request_hash(body if isinstance(body, dict) else {"body": body}),
        )
        for image in self.images:
            await image.save(self.app.tasks.inputs)
        try:
            task, created = await self.app.tasks.submit(owner, spec)
        except errors.InvalidRequest as exc:
            renamed = _renamed(exc.param, fields or {})
            if renamed is None or exc.param is None:
                raise
            message = renamed + exc.message.removeprefix(exc.param)
            raise errors.InvalidRequest(message, param=renamed) from exc
        return task, created


def _renamed(param: str | None, fields: Mapping[str, str]) -> str | None:
    """``param`` with its leading name (``input`` in ``input.tracks[0]``) renamed, if listed."""
    if param is None:
        return None
    for name, renamed in fields.items():
        if param == name or param.startswith((name + ".", name + "[")):
            return renamed + param[len(name) :]
    return None


async def read_form_or_json(request: Request, intake: Intake, *, file_fields: set[str]) -> Any:
    """A JSON body, or multipart/urlencoded form fields as a dict: ``a[b]`` keys nest, and a
    file in one of ``file_fields`` becomes an uploaded image's path."""
    content_type = request.headers.get("content-type", "").lower()
    if not content_type.startswith(("multipart/form-data", "application/x-www-form-urlencoded")):
        return await read_json(request)
    body: dict[str, Any] = {}
    async with request.form() as form:
        for key, value in form.multi_items():
            name, _, sub = key.partition("[")
            if isinstance(value, UploadFile):
                if key not in file_fields:
                    raise errors.InvalidRequest(f"{key}: files are not accepted here", param=key)
                body[key] = intake.image_bytes(await value.read(), param=key)
            elif sub.endswith("]") and sub[:-1]:
                nested = body.setdefault(name, {})
                if not isinstance(nested, dict):
                    raise errors.InvalidRequest(f"{name}: given twice", param=name)
                nested[sub[:-1]] = value
            else:
                body[key] = value
    return body

"""The dashboard's routes: the page at ``/``, its files under ``/dashboard/static/`` and the
examples at ``/dashboard/examples.json``. The page and its files are public (the page asks for
an API key itself); the examples, like every JSON route, need a key on a keyed server."""

from __future__ import annotations

from pathlib import Path

from fastapi import APIRouter, Request
from starlette.exceptions import HTTPException
from starlette.responses import FileResponse, JSONResponse, PlainTextResponse, Response
from starlette.routing import BaseRoute, Mount
from starlette.staticfiles import StaticFiles
from starlette.types import Scope

from vidtask.dashboard import examples
from vidtask.dashboard.headers import origin, security_headers
from vidtask.web.state import state

__all__ = ["STATIC", "STATIC_PATH", "routes"]

STATIC = Path(__file__).parent / "static"
STATIC_PATH = "/dashboard/static"
#: Types browsers insist on (a module script must be served as JavaScript), whatever the
#: system's MIME table says.
_TYPES = {
    ".js": "text/javascript; charset=utf-8",
    ".mjs": "text/javascript; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".html": "text/html; charset=utf-8",
    ".svg": "image/svg+xml",
    ".json": "application/json",
}

router = APIRouter(include_in_schema=False)


def _headers(request: Request) -> dict[str, str]:
    return security_headers(origin(str(request.base_url)), state(request).tasks.link_origins())


@router.get("/")
async def page(request: Request) -> Response:
    return FileResponse(
        STATIC / "index.html", headers=_headers(request), media_type=_TYPES[".html"]
    )


@router.get("/dashboard/examples.json")
async def example_list(request: Request) -> Response:
    await state(request).auth.owner(request)
    data = [example.model_dump(mode="json") for example in examples.load()]
    return JSONResponse({"object": "list", "data": data}, headers=_headers(request))


class _Files(StaticFiles):
    """Starlette's static files (no path outside the folder, no symlinks out of it), with the
    dashboard's headers and content types on every answer, refusals included."""

    async def get_response(self, path: str, scope: Scope) -> Response:
        try:
            response = await super().get_response(path, scope)
        except HTTPException as exc:
            response = PlainTextResponse(exc.detail, exc.status_code, exc.headers)
        media_type = _TYPES.get(Path(path).suffix.lower())
        if media_type is not None and response.status_code == 200:
            response.headers["content-type"] = media_type
        response.headers.update(_headers(Request(scope)))
        return response


def routes() -> list[BaseRoute]:
    """The page and examples routes, then the static files."""
    return [*router.routes, Mount(STATIC_PATH, app=_Files(directory=STATIC), name="dashboard")]

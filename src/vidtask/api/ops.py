"""Operations: liveness, readiness and Prometheus metrics.

``/healthz`` and ``/readyz`` are public (probes send no key) and say nothing about tasks;
``/metrics`` has every key's task counts, so it needs a key once the server has keys.
"""

from __future__ import annotations

from fastapi import APIRouter, Request, Response
from starlette.responses import JSONResponse

from vidtask.storage import space
from vidtask.web.state import state

__all__ = ["router"]

router = APIRouter(tags=["operations"])


@router.get("/healthz")
async def healthz() -> JSONResponse:
    return JSONResponse({"status": "ok"})


@router.get("/readyz")
async def readyz(request: Request) -> JSONResponse:
    app = state(request)
    try:
        await app.tasks.counts()  # the store answers
    except Exception as exc:  # readiness reports, it does not raise
        return JSONResponse({"status": "unavailable", "reason": str(exc)}, status_code=503)
    if not app.ready:
        return JSONResponse({"status": "starting"}, status_code=503)
    body: dict[str, object] = {"status": "ready"}
    # Still ready (status polls and downloads work), but renders will start failing.
    low = space.low_space(app.settings.data_dir, app.settings.min_free_bytes)
    if low is not None:
        body["warnings"] = [low]
    return JSONResponse(body)


@router.get("/metrics")
async def metrics(request: Request) -> Response:
    app = state(request)
    await app.auth.owner(request)
    body = app.metrics.render(await app.tasks.counts())
    return Response(body, media_type="text/plain; version=0.0.4")

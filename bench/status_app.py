"""The real vidtask app plus one constant-JSON route, served by uvicorn: the benchmark's server.

The constant route is mounted twice: first in the route list (``/bench/first``) and last
(``/bench/last``). Starlette tries routes in order, so the last one pays for every failed match
before it; the first one is the honest anchor.

Usage: python bench/status_app.py DATA_DIR PORT [DATABASE_URL]
"""

from __future__ import annotations

import sys
from pathlib import Path

import uvicorn
from starlette.responses import Response

from vidtask.api.app import create_app, freeze_heap
from vidtask.settings import Settings

CONSTANT = b'{"id":"vt_constant","object":"task","status":"completed","progress":100}'


def main() -> None:
    data_dir, port = Path(sys.argv[1]), int(sys.argv[2])
    database_url = sys.argv[3] if len(sys.argv) > 3 else None
    settings = Settings(
        data_dir=data_dir, port=port, workers=0, log_level="WARNING", database_url=database_url
    )
    app = create_app(settings)

    async def constant() -> Response:
        return Response(CONSTANT, media_type="application/json")

    app.add_api_route("/bench/last", constant, methods=["GET"])
    app.add_api_route("/bench/first", constant, methods=["GET"])
    app.router.routes.insert(0, app.router.routes.pop())

    freeze_heap()  # as `vidtask serve` does
    uvicorn.run(app, host="127.0.0.1", port=port, log_level="warning", access_log=False)


if __name__ == "__main__":
    main()

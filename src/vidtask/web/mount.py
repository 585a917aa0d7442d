"""A dialect's routes mounted as one route of the app, so matching is hierarchical.

Starlette tries an app's routes in order; with every dialect's routes in one list, a request
for the last dialect paid for a failed regular-expression match against each route before it.
A `RouteGroup` turns away a path outside its URL prefixes with one ``str.startswith`` and
matches the rest against its own routes only. Unlike Starlette's ``Mount`` it keeps the routes'
full paths (nothing is stripped into ``root_path``), so `flatten` lists them for OpenAPI as
they are.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from starlette._utils import get_route_path
from starlette.datastructures import URLPath
from starlette.routing import BaseRoute, Match, NoMatchFound
from starlette.types import Receive, Scope, Send

__all__ = ["RouteGroup", "flatten"]

#: Where `RouteGroup.matches` leaves the route it matched, for `RouteGroup.handle`.
_MATCHED = "vidtask.route"


class RouteGroup(BaseRoute):
    """Routes whose paths all start with one of ``prefixes``."""

    def __init__(self, prefixes: tuple[str, ...], routes: Sequence[BaseRoute]) -> None:
        self.prefixes = prefixes
        self.routes = list(routes)
        for route in self.routes:
            path = getattr(route, "path", "")
            assert path.startswith(prefixes), f"{path} is outside {prefixes}"

    def matches(self, scope: Scope) -> tuple[Match, Scope]:
        if scope["type"] != "http" or not get_route_path(scope).startswith(self.prefixes):
            return Match.NONE, {}
        partial: tuple[BaseRoute, Scope] | None = None
        for route in self.routes:
            match, child_scope = route.matches(scope)
            if match is Match.FULL:
                return Match.FULL, {**child_scope, _MATCHED: route}
            if match is Match.PARTIAL and partial is None:
                partial = (route, child_scope)
        if partial is None:
            return Match.NONE, {}
        return Match.PARTIAL, {**partial[1], _MATCHED: partial[0]}

    async def handle(self, scope: Scope, receive: Receive, send: Send) -> None:
        route: BaseRoute = scope[_MATCHED]
        await route.handle(scope, receive, send)

    def url_path_for(self, name: str, /, **path_params: Any) -> URLPath:
        for route in self.routes:
            try:
                return route.url_path_for(name, **path_params)
            except NoMatchFound:
                pass
        raise NoMatchFound(name, path_params)


def flatten(routes: Sequence[BaseRoute]) -> list[BaseRoute]:
    """``routes`` with each group replaced by its routes, in place (what OpenAPI lists)."""
    flat: list[BaseRoute] = []
    for route in routes:
        flat += route.routes if isinstance(route, RouteGroup) else [route]
    return flat

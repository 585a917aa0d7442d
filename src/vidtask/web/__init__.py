"""What every HTTP route stands on, below the dialects: the app state, the key check, JSON bodies,
the create path (`intake`), task responses (ETag, 304, long-poll), error rendering, OpenAPI
shapes, file downloads, and the `Dialect` value with its route group.

`vidtask.dialects` (one folder per API shape) and `vidtask.api` (the composition root and the
routes that belong to no dialect) import this; it imports neither.
"""

from __future__ import annotations

__all__: list[str] = []

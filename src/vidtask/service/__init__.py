"""The service: the only door to tasks, API keys, webhooks and drafts.

`tasks.TaskService` is the task service itself (synchronous: validation, the one create path,
links); `aio.AsyncTaskService` is the door routes, SSE and MCP use, with awaitable methods.
`keys`, `hooks` and `drafts` are the doors to API keys, webhook endpoints and deliveries, and
capcut-mate drafts. Where a blocking call runs (on the event loop, or in a worker thread) is
decided once, per store engine, by `runner.Runner`.
"""

from __future__ import annotations

__all__: list[str] = []

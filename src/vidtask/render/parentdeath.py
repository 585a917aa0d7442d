"""Moved to `vidtask.parentdeath`, which render and dispatch may both import.

Kept only for ``vidtask.dispatch.embedded``, which still imports it from here; remove this
module once that import names `vidtask.parentdeath`.
"""

from __future__ import annotations

from vidtask.parentdeath import die_with_parent

__all__ = ["die_with_parent"]

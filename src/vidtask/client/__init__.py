"""The Python SDK: `Client` talks to a vidtask server over HTTP. It imports only `vidtask.core`."""

from __future__ import annotations

from vidtask.client.sync import Client

__all__ = ["Client"]

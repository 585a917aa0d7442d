"""The dialects the app mounts, in the order their routes are tried. Adding a dialect is its
folder and one entry here."""

from __future__ import annotations

from vidtask.dialects.ark import routes as ark
from vidtask.dialects.capcut_mate import routes as capcut_mate
from vidtask.dialects.native import routes as native
from vidtask.dialects.newapi import routes as newapi
from vidtask.dialects.openai import routes as openai
from vidtask.dialects.scenext import routes as scenext
from vidtask.web.dialect import Dialects

__all__ = ["DIALECTS"]

DIALECTS = Dialects(
    (
        native.DIALECT,
        newapi.DIALECT,
        openai.DIALECT,
        ark.DIALECT,
        scenext.DIALECT,
        capcut_mate.DIALECT,
    ),
    default=native.DIALECT,
)

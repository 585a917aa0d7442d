"""The layering of DESIGN.md and STYLE.md rule 2, checked on the import statements."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[1] / "src" / "vidtask"

#: Each layer may import only these vidtask packages (besides itself).
ALLOWED = {
    "core": set(),
    "client": {"core"},
    "store": {"core"},
    "storage": {"core"},
    "netguard": set(),
    "render": {"core", "backends", "netguard"},
    "backends": {"core", "render", "settings"},
    "dispatch": {"core", "store", "storage", "backends", "render", "settings", "logs"},
    "events": {"core", "store"},
    "service": {"core", "store", "storage", "backends", "render", "netguard"},
    "api": {
        "core",
        "store",
        "storage",
        "backends",
        "render",
        "dispatch",
        "service",
        "events",
        "webhooks",
        "netguard",
        "settings",
        "__version__",
        "capcut",
        "dialects",
        "mcp_server",  # app.py is the composition root: it mounts /mcp
        "stores",
    },
    # Picks the store, its side stores and change feed for SQLite or PostgreSQL.
    "stores": {"core", "store", "events", "dispatch", "settings"},
    # Beside api: it reuses api's auth and dialect views, and the SDK client for `--url`.
    "mcp_server": {
        "core",
        "store",
        "storage",
        "backends",
        "render",
        "dispatch",
        "service",
        "events",
        "api",
        "dialects",
        "client",
        "settings",
        "stores",
        "__version__",
    },
    "capcut": {"core", "render"},
    "dialects": {"core", "store"},
}
NO_IO_IN_CORE = {"sqlite3", "psycopg", "httpx", "fastapi", "subprocess", "os", "socket", "time"}


def imports(path: Path) -> set[str]:
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module:
            found.add(node.module)
            if node.module == "vidtask":
                found |= {f"vidtask.{alias.name}" for alias in node.names}
    return found


def layer(path: Path) -> str:
    part = path.relative_to(SRC).parts[0]
    return part.removesuffix(".py")


@pytest.mark.parametrize("path", sorted(SRC.rglob("*.py")), ids=lambda p: str(p.relative_to(SRC)))
def test_dependencies_point_inward(path: Path) -> None:
    own = layer(path)
    if own not in ALLOWED:
        return  # cli.py, settings.py, logs.py, __main__.py sit on top
    for name in imports(path):
        if not name.startswith("vidtask."):
            continue
        target = name.split(".")[1]
        assert target == own or target in ALLOWED[own], f"{own} must not import {name}"


@pytest.mark.parametrize("path", sorted((SRC / "core").glob("*.py")), ids=lambda p: p.name)
def test_core_does_no_io(path: Path) -> None:
    roots = {name.split(".")[0] for name in imports(path)}
    assert not roots & NO_IO_IN_CORE, f"core/{path.name} imports {roots & NO_IO_IN_CORE}"


def test_every_setting_is_documented() -> None:
    from vidtask.settings import Settings

    docs = (SRC.parents[1] / "docs" / "configuration.md").read_text()
    for name, field in Settings.model_fields.items():
        assert f"`VIDTASK_{name.upper()}`" in docs, (
            f"VIDTASK_{name.upper()} is not in docs/configuration.md"
        )
        assert field.description, f"Settings.{name} has no description"

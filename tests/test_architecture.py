"""The layering of DESIGN.md and STYLE.md rule 2, checked on the import statements.

Every package and top-level module under ``src/vidtask`` is a *unit* with a row in `ALLOWED`
(docs/architecture.md shows the same table). The unit graph is built from every import in the
source (function-level and ``TYPE_CHECKING`` imports included), and it must follow the table
and have no cycle. `ALLOWED` itself has no cycle either, so no import it permits can make one.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Iterable, Mapping
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[1] / "src" / "vidtask"

#: Each unit may import only these units (besides itself). ``__init__`` is ``vidtask``'s own
#: ``__init__.py`` (``__version__``). Listed from the leaves up; docs/architecture.md has the picture.
ALLOWED: dict[str, set[str]] = {
    # Leaves: pure rules, and two small OS/network guards every layer may use.
    "__init__": set(),
    "core": set(),
    "netguard": set(),  # the SSRF guard (asset fetches, webhooks)
    "parentdeath": set(),  # children die with their parent (ffmpeg, worker processes)
    "settings": {"core"},
    "logs": {"settings"},
    "client": {"core"},  # the SDK: never loads FastAPI or the server
    # Adapters over one kind of I/O each.
    "store": {"core"},
    "storage": {"core"},
    "render": {"core", "netguard", "parentdeath"},
    "capcut": {"core", "render"},
    "events": {"core", "store"},
    "webhooks": {"core", "store", "netguard"},
    # A relayed model refuses at submit what its providers' kinds cannot send (`refuses`).
    "backends": {"core", "render", "settings", "providers"},
    "providers": {"core", "settings"},  # upstream kinds (sans I/O) and the client that calls them
    # The service: the only door to tasks, keys, webhooks and drafts; its runner decides per
    # store engine (settings) where blocking calls run; its async door waits on the feed.
    "service": {
        "core",
        "store",
        "storage",
        "backends",
        "render",
        "netguard",
        "webhooks",
        "events",
        "settings",
    },
    # What every HTTP route stands on: app state, keys, bodies, intake, task responses, errors,
    # the `Dialect` value and its route group.
    "web": {"core", "render", "service", "settings"},
    # One package per API shape: the package pure, its `routes` on `web`; capcut-mate's routes
    # edit `capcut` drafts and probe audio with `render`.
    "dialects": {"core", "store", "web", "capcut", "render"},
    # The web dashboard: serves its page, static files and examples; the page uses the API.
    "dashboard": {"core", "settings", "web"},
    # Workers.
    "dispatch": {
        "core",
        "providers",
        "store",
        "storage",
        "backends",
        "parentdeath",
        "settings",
        "logs",
    },
    # Picks the store, its side stores and change feed for SQLite or PostgreSQL.
    "stores": {"core", "store", "events", "dispatch", "settings"},
    "doctor": {"core", "store", "storage", "render", "settings"},
    # The MCP server sits beside api and never imports it: the key check, the service and
    # (for stdio) the change source and workers are passed in by the composition roots.
    "mcp_server": {
        "__init__",
        "core",
        "client",
        "store",
        "dialects",
        "events",
        "service",
        "settings",
    },
    # The HTTP app; app.py is its composition root and mounts /mcp.
    "api": {
        "__init__",
        "core",
        "store",
        "storage",
        "backends",
        "render",
        "web",
        "dialects",
        "events",
        "webhooks",
        "service",
        "dispatch",
        "stores",
        "settings",
        "mcp_server",
        "providers",
        "dashboard",
    },
    # The composition root of `vidtask mcp` on the local store.
    "composition": {
        "api",
        "mcp_server",
        "settings",
        "web",
        "service",
        "stores",
        "events",
        "dispatch",
    },
    "cli": {
        "__init__",
        "core",
        "client",
        "store",
        "stores",
        "dispatch",
        "doctor",
        "api",
        "service",
        "mcp_server",
        "composition",
        "settings",
        "logs",
        "providers",
    },
    "__main__": {"cli"},
}
NO_IO_IN_CORE = {"sqlite3", "psycopg", "httpx", "fastapi", "subprocess", "os", "socket", "time"}

#: unit -> imported unit -> where (``path:line``, relative to the package root).
Graph = dict[str, dict[str, list[str]]]


def units(root: Path) -> set[str]:
    """The units of the package at ``root``: its subpackages and top-level modules."""
    found = {path.stem for path in root.glob("*.py")}
    found |= {path.name for path in root.iterdir() if (path / "__init__.py").is_file()}
    return found


def unit_of(root: Path, path: Path) -> str:
    return path.relative_to(root).parts[0].removesuffix(".py")


def imported_modules(root: Path, path: Path) -> list[tuple[str, int]]:
    """Every module ``path`` imports (dotted, relative imports resolved), with its line.
    ``from pkg import name`` counts as ``pkg.name``, which may be a module or an attribute."""
    package = root.name
    own = [package, *path.relative_to(root).with_suffix("").parts]
    if own[-1] == "__init__":
        own.pop()
    else:
        own.pop()  # a module's relative imports start at its package
    found: list[tuple[str, int]] = []
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            found += [(alias.name, node.lineno) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = own[: len(own) - node.level + 1] if node.level else []
            module = ".".join([*base, *(node.module.split(".") if node.module else [])])
            found += [(f"{module}.{alias.name}", node.lineno) for alias in node.names]
    return found


def import_graph(root: Path) -> Graph:
    """Which unit imports which, across unit boundaries, from the source under ``root``."""
    package, known = root.name, units(root)
    graph: Graph = {}
    for path in sorted(root.rglob("*.py")):
        own = unit_of(root, path)
        edges = graph.setdefault(own, {})
        for module, line in imported_modules(root, path):
            parts = module.split(".")
            if parts[0] != package:
                continue
            target = parts[1] if len(parts) > 1 and parts[1] in known else "__init__"
            if target != own:
                site = f"{path.relative_to(root)}:{line}"
                sites = edges.setdefault(target, [])
                if site not in sites:  # ``from x import a, b`` is one import
                    sites.append(site)
    return graph


def layer_problems(root: Path, graph: Graph, allowed: Mapping[str, set[str]]) -> list[str]:
    """Units without a row, rows without a unit, and imports the table does not allow."""
    known = units(root)
    problems = [f"{unit}: no row in the layer table" for unit in sorted(known - set(allowed))]
    problems += [
        f"{unit}: in the layer table but not in {root}" for unit in sorted(set(allowed) - known)
    ]
    for unit, edges in sorted(graph.items()):
        for target, sites in sorted(edges.items()):
            if unit in allowed and target not in allowed[unit]:
                problems.append(f"{unit} must not import {target} ({', '.join(sites)})")
    return problems


def find_cycle(graph: Mapping[str, Iterable[str]]) -> list[str] | None:
    """A cycle of ``graph`` as a path (``[a, b, a]``), or None; depth-first, in sorted order."""
    done: set[str] = set()
    path: list[str] = []
    on_path: set[str] = set()

    def visit(node: str) -> list[str] | None:
        path.append(node)
        on_path.add(node)
        for target in sorted(graph.get(node, ())):
            if target in on_path:
                return [*path[path.index(target) :], target]
            if target not in done:
                cycle = visit(target)
                if cycle is not None:
                    return cycle
        on_path.discard(path.pop())
        done.add(node)
        return None

    for node in sorted(graph):
        if node not in done:
            cycle = visit(node)
            if cycle is not None:
                return cycle
    return None


def describe_cycle(cycle: list[str], graph: Graph) -> str:
    steps = [
        f"  {a} -> {b}: {', '.join(graph[a][b])}" for a, b in zip(cycle, cycle[1:], strict=False)
    ]
    return "import cycle: " + " -> ".join(cycle) + "\n" + "\n".join(steps)


GRAPH = import_graph(SRC)


def test_every_unit_has_a_row_and_every_import_follows_the_table() -> None:
    problems = layer_problems(SRC, GRAPH, ALLOWED)
    assert not problems, "\n".join(problems)


def test_the_package_graph_has_no_cycle() -> None:
    cycle = find_cycle(GRAPH)
    assert cycle is None, describe_cycle(cycle, GRAPH)


def test_the_layer_table_allows_no_cycle() -> None:
    cycle = find_cycle(ALLOWED)
    assert cycle is None, "the layer table allows the cycle " + " -> ".join(cycle)


def test_the_architecture_doc_shows_the_table() -> None:
    doc = (SRC.parents[1] / "docs" / "architecture.md").read_text()
    for unit, targets in ALLOWED.items():
        row = f"| `{unit}` | {', '.join(f'`{t}`' for t in sorted(targets)) or '—'} |"
        assert row in doc, f"docs/architecture.md has no row {row}"


def tier(unit: str, allowed: Mapping[str, set[str]]) -> int:
    """0 for a unit that imports nothing, else one above the highest unit it may import."""
    return 1 + max((tier(t, allowed) for t in allowed[unit]), default=-1)


def test_the_architecture_doc_draws_the_tiers() -> None:
    doc = (SRC.parents[1] / "docs" / "architecture.md").read_text()
    drawn: dict[str, int] = {}
    level = -1
    for line in doc.splitlines():
        match = re.match(r"^ (?:tier (\d+)| {6}) +│ (.*)$", line)
        if match is None:
            continue
        level = int(match[1]) if match[1] else level
        drawn |= {unit: level for unit in match[2].split("···")[0].split()}
    assert drawn == {unit: tier(unit, ALLOWED) for unit in ALLOWED}


def write(root: Path, files: dict[str, str]) -> None:
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)


def test_the_checker_finds_a_cycle_a_violation_and_missing_rows(tmp_path: Path) -> None:
    root = tmp_path / "fake"
    write(
        root,
        {
            "__init__.py": "VERSION = '1'\n",
            "low/__init__.py": "",
            "low/a.py": "import os\n\n\ndef late():\n    from fake.high import b\n",
            "high/__init__.py": "from . import b\n",
            "high/b.py": "import fake.low.a\n",
            "high/c.py": "from ..low import a\nfrom .. import VERSION\n",
            "top.py": "from fake import high, low\n",
            "stray.py": "",
        },
    )
    allowed = {"__init__": set(), "low": set(), "high": {"low"}, "top": {"high"}, "gone": set()}
    graph = import_graph(root)

    assert graph["high"] == {"low": ["high/b.py:1", "high/c.py:1"], "__init__": ["high/c.py:2"]}
    cycle = find_cycle(graph)
    assert cycle == ["high", "low", "high"]
    assert describe_cycle(cycle, graph).splitlines() == [
        "import cycle: high -> low -> high",
        "  high -> low: high/b.py:1, high/c.py:1",
        "  low -> high: low/a.py:5",
    ]
    assert layer_problems(root, graph, allowed) == [
        "stray: no row in the layer table",
        f"gone: in the layer table but not in {root}",
        "high must not import __init__ (high/c.py:2)",
        "low must not import high (low/a.py:5)",
        "top must not import low (top.py:1)",
    ]
    assert find_cycle({"a": {"b"}, "b": {"c"}, "c": set()}) is None
    assert find_cycle({"a": {"b"}, "b": {"c"}, "c": {"b"}}) == ["b", "c", "b"]


@pytest.mark.parametrize("path", sorted((SRC / "core").glob("*.py")), ids=lambda p: p.name)
def test_core_does_no_io(path: Path) -> None:
    roots = {name.split(".")[0] for name, _ in imported_modules(SRC, path)}
    assert not roots & NO_IO_IN_CORE, f"core/{path.name} imports {roots & NO_IO_IN_CORE}"


def test_every_setting_is_documented() -> None:
    from vidtask.settings import Settings

    docs = (SRC.parents[1] / "docs" / "configuration.md").read_text()
    for name, field in Settings.model_fields.items():
        assert f"`VIDTASK_{name.upper()}`" in docs, (
            f"VIDTASK_{name.upper()} is not in docs/configuration.md"
        )
        assert field.description, f"Settings.{name} has no description"


def test_only_storage_names_an_artifact_store_implementation() -> None:
    """Everything else takes the `ArtifactStore` protocol, so a backend is one module and one
    branch of `storage.open_artifacts` (docs/architecture.md)."""
    implementations = {"vidtask.storage.local", "vidtask.storage.memory", "vidtask.storage.s3"}
    for path in sorted(SRC.rglob("*.py")):
        if path.relative_to(SRC).parts[0] == "storage":
            continue
        for module, line in imported_modules(SRC, path):
            named = any(module == i or module.startswith(i + ".") for i in implementations)
            assert not named, f"{path.relative_to(SRC)}:{line} imports {module}"


#: What the pure part of a dialect (its package, and the pieces the packages share) may import
#: of vidtask: the rules, the other pure parts, and the store's value types.
PURE_DIALECT_IMPORTS = ("vidtask.core.", "vidtask.dialects.", "vidtask.store.base.")


def pure_dialect_modules() -> list[Path]:
    root = SRC / "dialects"
    return sorted(p for p in root.rglob("*.py") if p.name not in ("routes.py", "registry.py"))


@pytest.mark.parametrize("path", pure_dialect_modules(), ids=lambda p: str(p.relative_to(SRC)))
def test_a_dialect_package_is_pure(path: Path) -> None:
    """No FastAPI, no I/O, no store beyond its value types: the MCP tools use these too."""
    for module, line in imported_modules(SRC, path):
        where = f"{path.relative_to(SRC)}:{line} imports {module}"
        assert module.split(".")[0] not in {"fastapi", "starlette", "anyio", *NO_IO_IN_CORE}, where
        if module.startswith("vidtask."):
            assert module.startswith(PURE_DIALECT_IMPORTS), where
            assert not module.endswith((".routes", ".registry")), where


def test_every_mounted_dialect_is_one_package_with_its_pure_parts_in_it() -> None:
    from vidtask.dialects.registry import DIALECTS

    for dialect in DIALECTS.all:
        package = f"vidtask.dialects.{dialect.name}"
        assert (SRC / "dialects" / dialect.name / "routes.py").is_file(), package
        parts = (
            dialect.parse,
            dialect.view,
            dialect.status_view,
            dialect.error_view,
            dialect.payload,
        )
        for part in parts:
            if part is not None:
                assert part.__module__ == package, f"{dialect.name}: {part} is not in {package}"


#: The units above the service: routes, SSE, MCP. They reach tasks, keys, webhooks and drafts
#: only through the service, and the store only for its value types.
DOOR_USERS = ("api", "web", "dialects", "dashboard", "mcp_server")
#: What they may import of the store: filters, pages and records, never a store.
STORE_VALUES = {
    "vidtask.store.base.Page",
    "vidtask.store.base.TaskFilter",
    "vidtask.store.drafts.DraftRecord",
    "vidtask.store.webhooks.Attempt",
    "vidtask.store.webhooks.Delivery",
    "vidtask.store.webhooks.DeliveryFilter",
    "vidtask.store.webhooks.Endpoint",
}
#: The HTTP app's composition root opens the store and hands it to the service's doors.
COMPOSITION_ROOTS = {"api/app.py"}
#: The service's insides, named as attributes: reached by nothing above it (nor by the CLI).
PRIVATE = {"store", "artifacts", "backends", "signer"}
#: ... and the model router, when it is the service's.
SERVICE_NAMES = {"service", "_service", "tasks"}


def door_problems(root: Path) -> list[str]:
    """Imports of the store (beyond its values) and reaches into the service, in the units
    above it and the command's modules (``cli.py``, ``composition.py``)."""
    package = root.name
    problems = []
    paths = [p for unit in DOOR_USERS for p in sorted((root / unit).rglob("*.py"))]
    paths += [p for p in (root / "cli.py", root / "composition.py") if p.is_file()]
    for path in paths:
        where = str(path.relative_to(root))
        in_door_user = unit_of(root, path) in DOOR_USERS and where not in COMPOSITION_ROOTS
        for module, line in imported_modules(root, path) if in_door_user else []:
            if module.startswith(f"{package}.store.") and module not in STORE_VALUES:
                problems.append(f"{where}:{line} imports {module}")
        for node in ast.walk(ast.parse(path.read_text(), where)):
            if not isinstance(node, ast.Attribute):
                continue
            base = node.value
            name = base.id if isinstance(base, ast.Name) else getattr(base, "attr", "")
            if node.attr in PRIVATE or (node.attr == "router" and name in SERVICE_NAMES):
                problems.append(f"{where}:{node.lineno} reaches {name}.{node.attr}")
            # The synchronous service would run its store calls on the event loop, wherever
            # the engine's runner says otherwise: above it, only the awaitable door is used.
            elif in_door_user and node.attr == "service" and isinstance(node.ctx, ast.Load):
                problems.append(f"{where}:{node.lineno} uses {name}.service, not the door")
    return problems


def test_the_service_is_the_only_door() -> None:
    problems = door_problems(SRC)
    assert not problems, "\n".join(problems)


def test_the_door_check_finds_store_imports_and_reaches(tmp_path: Path) -> None:
    root = tmp_path / "vidtask"
    write(
        root,
        {
            "api/__init__.py": "",
            "api/app.py": "from vidtask.store.base import TaskStore\n",
            "api/events.py": "from vidtask.store.base import TaskFilter, TaskStore\n",
            "web/__init__.py": "",
            "web/tasks.py": "def f(app):\n    return app.service.store.get(1)\n",
            "web/intake.py": "def f(app):\n    app.x.service = 1\n    return app.service.get(1)\n",
            "mcp_server/__init__.py": "",
            "mcp_server/local.py": "def g(self):\n    return self.tasks.router, self.router\n",
            "cli.py": "from vidtask.store import migrate\n\n\ndef h(s):\n    return s.artifacts\n",
        },
    )
    assert door_problems(root) == [
        "api/events.py:1 imports vidtask.store.base.TaskStore",
        "web/intake.py:3 uses app.service, not the door",
        "web/tasks.py:2 reaches service.store",
        "web/tasks.py:2 uses app.service, not the door",
        "mcp_server/local.py:2 reaches tasks.router",
        "cli.py:5 reaches s.artifacts",
    ]

"""Every field of the timeline and slides schemas is documented in docs/renderer.md, and the
relative links of docs/ lead to files that exist."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

from vidtask.render.schema import timeline_json_schema
from vidtask.render.slides import SlidesInput

__all__: list[str] = []

DOC = (Path(__file__).resolve().parents[2] / "docs" / "renderer.md").read_text(encoding="utf-8")


def fields(schema: dict[str, Any]) -> set[str]:
    found = set(schema.get("properties", {}))
    for definition in schema.get("$defs", {}).values():
        found |= set(definition.get("properties", {}))
    return found


@pytest.mark.parametrize(
    "name", sorted(fields(timeline_json_schema()) | fields(SlidesInput.model_json_schema()))
)
def test_field_is_documented(name: str) -> None:
    assert f"`{name}`" in DOC, f"docs/renderer.md does not mention `{name}`"


ROOT = Path(__file__).resolve().parents[2]
LINK = re.compile(r"\]\(([^)\s]+)\)")
CODE = re.compile(r"```.*?```|`[^`\n]*`", re.DOTALL)


@pytest.mark.parametrize("page", sorted((ROOT / "docs").glob("*.md")), ids=lambda p: p.name)
def test_relative_links_point_at_files(page: Path) -> None:
    prose = CODE.sub("", page.read_text(encoding="utf-8"))
    for target in LINK.findall(prose):
        if "://" in target or target.startswith(("#", "mailto:")):
            continue
        path = target.split("#")[0]
        assert (page.parent / path).exists(), f"{page.name} links to missing {target}"

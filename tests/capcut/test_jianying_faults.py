"""A JianYing import that fails leaves nothing behind, and a material path outside the draft
does not tell whether that file exists on the server."""

from __future__ import annotations

import io
import json
import zipfile
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.capcut.conftest import PREFIX, Media
from vidtask.capcut import jianying
from vidtask.core import errors


def draft(material: str) -> dict[str, Any]:
    """A one-segment draft whose video material is at ``material``."""
    return {
        "canvas_config": {"width": 320, "height": 180},
        "materials": {"videos": [{"id": "m1", "path": material, "type": "video"}]},
        "tracks": [
            {
                "type": "video",
                "segments": [
                    {"material_id": "m1", "target_timerange": {"start": 0, "duration": 10**6}}
                ],
            }
        ],
    }


def zipped(files: dict[str, bytes | str]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, content in files.items():
            archive.writestr(name, content)
    return buffer.getvalue()


def corrupt(data: bytes) -> bytes:
    """The zip with one byte of its last member's compressed data flipped (a bad CRC)."""
    archive = zipfile.ZipFile(io.BytesIO(data))
    last = archive.infolist()[-1]
    start = last.header_offset + 30 + len(last.filename.encode()) + len(last.extra)
    spoiled = bytearray(data)
    spoiled[start + last.compress_size // 2] ^= 0xFF
    return bytes(spoiled)


#: 20 MB of zeros: a zip of about 20 KB that unpacks to 20 MB.
BIG = b"\0" * 20_000_000


@pytest.mark.parametrize(
    "files",
    [
        {"d/draft_content.json": "{not json", "d/materials/big.bin": BIG},
        {"d/draft_content.json": json.dumps({"tracks": []}), "d/materials/big.bin": BIG},
        {"d/draft_content.json": json.dumps(draft("materials/gone.mp4")), "d/big.bin": BIG},
        {"d/materials/big.bin": BIG},  # no draft file at all
    ],
    ids=["unreadable-json", "no-segments", "missing-material", "no-draft-file"],
)
def test_a_draft_that_cannot_be_imported_leaves_no_files(
    tmp_path: Path, files: dict[str, bytes | str]
) -> None:
    dest = tmp_path / "jianying" / "draft1"
    with pytest.raises(errors.InvalidRequest):
        jianying.extract_zip(zipped(files), dest, max_bytes=10**9)
    assert not dest.exists()


def test_a_corrupt_member_is_a_clear_error_and_leaves_no_files(tmp_path: Path) -> None:
    data = corrupt(zipped({"d/big.bin": BIG, "d/draft_content.json": json.dumps(draft("x"))}))
    dest = tmp_path / "jianying" / "draft1"
    with pytest.raises(errors.InvalidRequest, match="is corrupt"):
        jianying.extract_zip(data, dest, max_bytes=10**9)
    assert not dest.exists()


def test_a_failed_upload_leaves_nothing_under_the_asset_root(
    client: TestClient, media: Media
) -> None:
    data = zipped({"d/draft_content.json": json.dumps({"tracks": []}), "d/big.bin": BIG})
    answer = client.post(f"{PREFIX}/import_jianying", files={"file": ("d.zip", data)})
    assert answer.status_code == 400, answer.text
    left = [p for p in (media.root / "jianying").rglob("*") if p.is_file()]
    assert left == []


def test_a_material_outside_the_draft_gets_one_answer_whether_it_exists_or_not(
    client: TestClient, media: Media
) -> None:
    def answer(material: str) -> str:
        folder = media.root / "drafts" / material.strip("/").replace("/", "_")
        folder.mkdir(parents=True)
        (folder / "draft_content.json").write_text(json.dumps(draft(material)))
        reply = client.post(f"{PREFIX}/import_jianying", json={"path": str(folder)})
        assert reply.status_code == 400, reply.text
        message: str = reply.json()["message"]
        return message.replace(material, "<material>")

    assert Path("/etc/passwd").is_file()
    assert answer("/etc/passwd") == answer("/etc/no-such-file")
    # The same for a relative path that climbs out of the draft folder.
    climbing = "../" * 12 + "etc/passwd"
    assert answer(climbing) == answer("../" * 12 + "etc/no-such-file")


def test_an_imported_zip_whose_render_is_refused_leaves_no_files(
    client: TestClient, media: Media
) -> None:
    too_long = draft("materials/clip.mp4")
    segment = too_long["tracks"][0]["segments"][0]
    segment["target_timerange"]["duration"] = 4_000 * 10**6  # over VIDTASK_MAX_DURATION_S
    data = zipped(
        {
            "d/draft_content.json": json.dumps(too_long),
            "d/materials/clip.mp4": media.video.read_bytes(),
        }
    )
    answer = client.post(f"{PREFIX}/import_jianying", files={"file": ("d.zip", data)})
    assert answer.status_code == 400, answer.text
    left = [p for p in (media.root / "jianying").rglob("*") if p.is_file()]
    assert left == []

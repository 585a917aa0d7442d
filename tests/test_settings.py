from __future__ import annotations

from pathlib import Path

import pytest

from vidtask.settings import Settings


def test_toml_file_then_environment_then_arguments(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    config = tmp_path / "vidtask.toml"
    config.write_text(
        'port = 9001\nworkers = 3\nasset_roots = ["/srv/media"]\nhost = "127.0.0.2"\n'
    )
    monkeypatch.setenv("VIDTASK_CONFIG", str(config))
    monkeypatch.setenv("VIDTASK_WORKERS", "5")
    settings = Settings(host="127.0.0.9")
    assert settings.port == 9001  # from the file
    assert settings.workers == 5  # the environment beats the file
    assert settings.host == "127.0.0.9"  # arguments beat both
    assert settings.asset_roots == [Path("/srv/media")]


def test_toml_in_the_data_dir_is_found(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "vidtask.toml").write_text("port = 9100\n")
    monkeypatch.setenv("VIDTASK_DATA_DIR", str(tmp_path))
    settings = Settings()
    assert settings.port == 9100
    assert settings.database_path == tmp_path / "vidtask.db"
    assert settings.effective_asset_roots == [tmp_path / "assets"]
    assert settings.base_url == "http://127.0.0.1:9100"


def test_only_sqlite_urls_for_now(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="unsupported store"):
        _ = Settings(data_dir=tmp_path, database_url="mysql://x").database_path

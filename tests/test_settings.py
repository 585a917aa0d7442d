from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import ValidationError

from vidtask.settings import Settings, describe_settings_error


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


PROVIDERS_TOML = """
[[providers]]
name = "seedance"
kind = "ark"
base_url = "https://ark.cn-beijing.volces.com/api/v3"
api_key_env = ["ARK_KEY_1", "ARK_KEY_2"]
poll_interval_s = 3
[providers.models]
"doubao-seedance-1-0-pro" = "doubao-seedance-1-0-pro-250528"
"""


def test_providers_come_from_toml_with_keys_from_the_named_variables(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "vidtask.toml").write_text(PROVIDERS_TOML)
    monkeypatch.setenv("ARK_KEY_1", "sk-one")
    monkeypatch.setenv("ARK_KEY_2", "sk-two")
    settings = Settings(data_dir=tmp_path)
    (provider,) = settings.providers
    assert (provider.name, provider.kind, provider.poll_interval_s) == ("seedance", "ark", 3)
    assert [key.get_secret_value() for key in provider.keys] == ["sk-one", "sk-two"]
    shown = repr(settings) + settings.model_dump_json() + str(provider)
    assert "sk-one" not in shown and "sk-two" not in shown


def test_a_provider_whose_key_variable_is_unset_is_named(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "vidtask.toml").write_text(PROVIDERS_TOML)
    monkeypatch.setenv("ARK_KEY_1", "sk-one")
    monkeypatch.delenv("ARK_KEY_2", raising=False)
    with pytest.raises(ValidationError) as info:
        Settings(data_dir=tmp_path)
    assert describe_settings_error(info.value) == (
        "VIDTASK_PROVIDERS[0]: provider 'seedance': environment variable ARK_KEY_2 is not set "
        "(api_key_env names the variables that hold its keys)"
    )


def test_provider_fields_are_checked(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("K", "sk")
    base = {"name": "p", "kind": "ark", "base_url": "http://x", "api_key_env": "K"}
    with pytest.raises(ValidationError) as info:
        Settings(
            data_dir=tmp_path, providers=[{**base, "kind": "no-such-kind", "models": {"a": "b"}}]
        )
    assert describe_settings_error(info.value).startswith("VIDTASK_PROVIDERS[0].kind: Input should")
    with pytest.raises(ValidationError) as info:
        Settings(data_dir=tmp_path, providers=[{**base, "models": {}}])
    assert "VIDTASK_PROVIDERS[0].models" in describe_settings_error(info.value)
    twice = [{**base, "models": {"a": "b"}}] * 2
    with pytest.raises(ValidationError) as info:
        Settings(data_dir=tmp_path, providers=twice)
    assert "p repeats" in describe_settings_error(info.value)


def test_a_kling_key_without_its_two_halves_is_refused_without_showing_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("KLING_KEY", "only-an-access-key")
    kling = {"name": "k", "kind": "kling", "base_url": "http://x", "api_key_env": "KLING_KEY"}
    with pytest.raises(ValidationError) as info:
        Settings(data_dir=tmp_path, providers=[{**kling, "models": {"a": "b"}}])
    said = describe_settings_error(info.value)
    assert said == (
        "VIDTASK_PROVIDERS[0]: provider 'k': KLING_KEY must hold ACCESS_KEY:SECRET_KEY "
        "(Kling signs each request with both)"
    )
    monkeypatch.setenv("KLING_KEY", "access:secret")
    assert Settings(data_dir=tmp_path, providers=[{**kling, "models": {"a": "b"}}]).providers


def test_the_readme_provider_example_is_valid(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    readme = (Path(__file__).resolve().parents[1] / "README.md").read_text()
    section = readme.split("### AI video from providers (relays)", 1)[1]
    example = section.split("```toml\n", 1)[1].split("```", 1)[0]
    (tmp_path / "vidtask.toml").write_text(example)
    for name in ("ARK_API_KEY", "ARK_API_KEY_2", "LITELLM_KEY"):
        monkeypatch.setenv(name, f"sk-{name.lower()}")
    seedance, litellm = Settings(data_dir=tmp_path).providers
    assert (seedance.kind, litellm.kind) == ("ark", "openai_videos")
    assert len(seedance.keys) == 2 and seedance.max_concurrency == 20
    assert set(litellm.models) == {"doubao-seedance-1-0-pro-250528", "sora-2"}

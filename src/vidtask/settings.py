"""All configuration, read once: ``VIDTASK_*`` environment variables, then an optional TOML file.

Precedence: constructor arguments > environment > TOML file (``VIDTASK_CONFIG`` or
``<data_dir>/vidtask.toml``) > defaults. Nothing else in vidtask reads the environment.
"""

from __future__ import annotations

import json
import os
import re
from pathlib import Path
from typing import Annotated, Any, Literal
from urllib.parse import unquote

import platformdirs
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    PrivateAttr,
    SecretStr,
    ValidationError,
    field_validator,
    model_validator,
)
from pydantic_settings import (
    BaseSettings,
    NoDecode,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    SettingsError,
    TomlConfigSettingsSource,
)

from vidtask.core import routing

__all__ = ["ProviderSettings", "Settings", "default_data_dir", "describe_settings_error"]


_STORES = ("sqlite:///", "postgresql://", "postgres://")
#: The longest lifetime of a SigV4 presigned URL.
_PRESIGN_MAX_S = 7 * 24 * 3600


#: The upstream kinds a provider may be (`vidtask.providers` has one module each).
UpstreamKind = Literal[
    "ark",
    "openai_videos",
    "newapi",
    "minimax",
    "dashscope",
    "runway",
    "kling",
    "veo",
    "luma",
    "vidu",
    "replicate",
    "fal",
    "scenext",
]


class ProviderSettings(BaseModel):
    """One upstream provider that generates videos for the models it maps (``[[providers]]`` in
    the TOML file, or a JSON list in ``VIDTASK_PROVIDERS``). Keys are named, never written: the
    environment variables in ``api_key_env`` hold them."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str = Field(pattern=r"^[a-z0-9][a-z0-9_-]{0,39}$")
    kind: UpstreamKind
    base_url: str = Field(
        pattern=r"^https?://[^\s/]+",
        description="The API root, as its SDK is given it: https://ark.cn-beijing.volces.com/api/v3, https://litellm.example/v1",
    )
    api_key_env: Annotated[list[str], Field(min_length=1)] = Field(
        description="Names of the environment variables holding the API keys (one, or a pool)."
    )
    models: dict[str, str] = Field(
        min_length=1, description="Model names clients use -> the provider's model names."
    )
    max_concurrency: int = Field(50, ge=1, description="Upstream tasks in flight at once.")
    rate_per_s: float = Field(10.0, gt=0, description="Requests per second to this provider.")
    poll_interval_s: float = Field(5.0, gt=0, description="Seconds between polls of a task.")
    timeout_s: float = Field(
        3600.0, gt=0, description="A task not finished this long after its submit fails."
    )
    unknown_grace_s: float = Field(
        300.0,
        ge=0,
        description="How long a task may stay in New API's `unknown` before it fails.",
    )
    _keys: tuple[SecretStr, ...] = PrivateAttr(())

    @field_validator("api_key_env", mode="before")
    @classmethod
    def _one_or_many(cls, value: Any) -> Any:
        return [value] if isinstance(value, str) else value

    @property
    def keys(self) -> tuple[SecretStr, ...]:
        """The keys themselves, read from ``api_key_env`` when the settings were built."""
        return self._keys

    @model_validator(mode="after")
    def _read_keys(self) -> ProviderSettings:
        missing = [name for name in self.api_key_env if not os.environ.get(name)]
        if missing:
            raise ValueError(
                f"provider {self.name!r}: environment variable {', '.join(missing)} is not set "
                "(api_key_env names the variables that hold its keys)"
            )
        if self.kind == "kling":  # it signs a token with both halves (providers/kling.py)
            unsplit = [n for n in self.api_key_env if ":" not in os.environ[n].strip(":")]
            if unsplit:
                raise ValueError(
                    f"provider {self.name!r}: {', '.join(unsplit)} must hold "
                    "ACCESS_KEY:SECRET_KEY (Kling signs each request with both)"
                )
        self._keys = tuple(SecretStr(os.environ[name]) for name in self.api_key_env)
        return self


def default_data_dir() -> Path:
    return Path(platformdirs.user_data_dir("vidtask", appauthor=False))


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="VIDTASK_", extra="ignore", frozen=True)

    config: Path | None = Field(None, description="Path of an optional TOML config file.")
    data_dir: Path = Field(
        default_factory=default_data_dir,
        description="Where the SQLite database, artifacts, scratch files and the signing secret live.",
    )
    database_url: str | None = Field(
        None,
        description="Store location: sqlite:///<path>, or postgresql://user@host/db for the "
        "cluster mode (API processes plus `vidtask worker` processes). "
        "Default: sqlite:///<data_dir>/vidtask.db.",
    )
    host: str = Field("127.0.0.1", description="Address the server binds to.")
    port: int = Field(8000, description="Port the server binds to.")
    public_url: str | None = Field(
        None,
        description="Base URL used in links handed to clients (artifact URLs). "
        "Default: http://<host>:<port>.",
    )
    workers: int = Field(
        default_factory=lambda: os.cpu_count() or 1,
        ge=0,
        description="Embedded worker processes (0 = API only). Default: number of cores.",
    )
    max_attempts: int = Field(2, ge=1, le=10, description="Runs per task before worker_lost.")
    lease_ttl_s: float = Field(
        15.0, gt=0, description="A worker's lease on a task; renewed by heartbeats and progress."
    )
    cancel_grace_s: float = Field(
        3.0, ge=0, description="Seconds a cancelled render gets to stop before it is killed."
    )
    worker_poll_s: float = Field(0.2, gt=0, description="Idle workers look for work this often.")
    worker_nice: int = Field(
        10,
        ge=0,
        le=19,
        description="Niceness of the embedded workers and their ffmpeg, so renders yield the "
        "cores to the API on the same machine (0: same priority as the API).",
    )
    shutdown_grace_s: float = Field(
        25.0,
        ge=0,
        description="Cluster workers: after SIGTERM, how long running tasks may finish before "
        "they are handed back to the queue (without using up an attempt).",
    )
    asset_roots: Annotated[list[Path], NoDecode] = Field(
        default_factory=list,
        description="Directories local asset paths may come from: a JSON list, or paths "
        "separated by ':'. Default: <data_dir>/assets.",
    )
    asset_allow_networks: Annotated[list[str], NoDecode] = Field(
        default_factory=list,
        description="CIDRs that asset and webhook URLs may reach even though they are private "
        "or loopback (the SSRF guard refuses those by default): a JSON list, or CIDRs "
        "separated by commas, e.g. 127.0.0.0/8,10.0.0.0/8.",
    )
    max_asset_bytes: int = Field(500 * 1024 * 1024, description="Largest asset download.")
    asset_timeout_s: float = Field(30.0, description="Time limit for one asset download.")
    max_duration_s: float = Field(1800.0, description="Longest video a timeline may ask for.")
    max_width: int = Field(4096, description="Widest output a timeline may ask for.")
    max_height: int = Field(4096, description="Tallest output a timeline may ask for.")
    max_clips: int = Field(500, description="Most clips in one timeline.")
    max_body_bytes: int = Field(10 * 1024 * 1024, description="Largest request body (413 above).")
    model_aliases: dict[str, str] = Field(
        default_factory=lambda: dict(routing.DEFAULT_ALIASES),
        description="Model names clients may ask for, mapped to the local model that serves "
        "them; keys are exact names or shell-style patterns (`doubao-seedance-*`). Default: "
        "sora-2, sora-2-pro, sora-2-*, doubao-seedance-* and doubao-seaweed-* -> slides.",
    )
    providers: list[ProviderSettings] = Field(
        default_factory=list,
        description="Upstream providers that generate videos (see docs/providers.md). A model "
        "a provider maps is relayed to it; names no provider maps keep their alias.",
    )
    font_path: Path | None = Field(
        None, description="A font file to prefer for text (e.g. a .ttc/.otf with CJK glyphs)."
    )
    secret: str | None = Field(
        None,
        description="Key that signs artifact URLs. Default: generated once into "
        "<data_dir>/secret.key.",
    )
    url_ttl_s: int = Field(24 * 3600, description="Lifetime of signed artifact URLs.")
    artifacts_url: str | None = Field(
        None,
        description="Where the files of finished tasks live: file:///<path>, or "
        "s3://<bucket>/<prefix> for S3-compatible object storage (endpoint, region and "
        "credentials from the AWS SDK's environment: AWS_ENDPOINT_URL_S3, AWS_REGION, "
        "AWS_ACCESS_KEY_ID, ...). Default: <data_dir>/artifacts.",
    )
    s3_path_style: bool = Field(
        False,
        description="Address the bucket in the path (https://host/bucket/key) rather than the "
        "host name; most self-hosted S3 servers (MinIO, Ceph) need it.",
    )
    s3_part_mb: int = Field(
        16,
        ge=5,
        le=5120,
        description="Files larger than this many MiB go to the bucket in parts of this size "
        "(S3 takes parts of 5 MiB to 5 GiB): on a slow or flaky link, smaller parts resend "
        "less after a failure.",
    )
    artifact_links: Literal["proxy", "presigned"] = Field(
        "proxy",
        description="Links clients get to artifacts in a bucket: proxy (vidtask's signed "
        "/v1/files URLs, streamed from the bucket) or presigned (the bucket's own presigned "
        "URLs, fetched from storage directly; they expire with url_ttl_s).",
    )
    event_retention_s: float = Field(
        24 * 3600, gt=0, description="How long task events stay replayable (SSE Last-Event-ID)."
    )
    sse_heartbeat_s: float = Field(
        15.0,
        gt=0,
        le=25,  # below the SDK's 30 s read timeout, so a quiet stream never times out
        description="Seconds between SSE heartbeat comments, which keep proxies from closing "
        "an idle stream (at most 25).",
    )
    webhook_timeout_s: float = Field(10.0, gt=0, description="Time limit for one webhook POST.")
    webhook_retry_base_s: float = Field(
        5.0, gt=0, description="First retry delay of a failed webhook; it doubles per attempt."
    )
    webhook_retry_cap_s: float = Field(3600.0, gt=0, description="Longest delay between retries.")
    webhook_max_age_s: float = Field(
        24 * 3600, gt=0, description="A webhook still failing this long after its event fails."
    )
    mcp_allowed_hosts: Annotated[list[str], NoDecode] = Field(
        default_factory=list,
        description="Host header values the MCP endpoint (/mcp) accepts, e.g. "
        '["videos.example.com"] or videos.example.com,api.example.com (any port unless one is '
        'given; "*" turns the check off). Default: the host of public_url, plus localhost and '
        "127.0.0.1.",
    )
    log_format: Literal["json", "text"] | None = Field(
        None,
        description="Log line format. Default: readable text on a terminal, JSON lines otherwise.",
    )
    log_level: str = Field("INFO", description="Log level.")
    access_log: bool = Field(True, description="Log every HTTP request (at INFO).")
    min_free_bytes: int = Field(
        1024**3,
        ge=0,
        description="Below this much free space under data_dir, `vidtask doctor` and /readyz "
        "warn (renders need room for sources, scratch files and output).",
    )

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        toml_file = _toml_path(init_settings(), env_settings())
        sources: list[PydanticBaseSettingsSource] = [init_settings, env_settings]
        if toml_file is not None:
            sources.append(TomlConfigSettingsSource(settings_cls, toml_file=toml_file))
        return tuple(sources)

    @field_validator("asset_roots", mode="before")
    @classmethod
    def _paths(cls, value: Any) -> Any:
        return _listed(value, os.pathsep, "paths separated by ':'")

    @field_validator("asset_allow_networks", "mcp_allowed_hosts", mode="before")
    @classmethod
    def _names(cls, value: Any) -> Any:
        return _listed(value, ",", "values separated by commas")

    @field_validator("providers")
    @classmethod
    def _distinct_names(cls, providers: list[ProviderSettings]) -> list[ProviderSettings]:
        names = [p.name for p in providers]
        twice = sorted({n for n in names if names.count(n) > 1})
        if twice:
            raise ValueError(f"provider names must be distinct; {', '.join(twice)} repeats")
        return providers

    @field_validator("database_url")
    @classmethod
    def _known_store(cls, url: str | None) -> str | None:
        if url is not None and not url.startswith(_STORES):
            raise ValueError(
                f"unsupported store {url!r}: use sqlite:///<path> or postgresql://user@host/db"
            )
        return url

    @field_validator("artifacts_url")
    @classmethod
    def _known_artifacts(cls, url: str | None) -> str | None:
        if not url:
            return None
        bucket = url.removeprefix("s3://").split("/", 1)[0]
        if url.startswith("s3://") and bucket:
            return url
        if url.startswith("file:///"):
            return url
        raise ValueError(
            f"unsupported artifacts location {url!r}: use file:///<path> or s3://<bucket>/<prefix>"
        )

    @model_validator(mode="after")
    def _presignable_ttl(self) -> Settings:
        # SigV4 presigned URLs last at most 7 days; links expire up to an hour after the TTL.
        if self.artifact_links == "presigned" and self.url_ttl_s > _PRESIGN_MAX_S - 3600:
            raise ValueError(
                f"url_ttl_s: at most {_PRESIGN_MAX_S - 3600} with artifact_links = presigned "
                "(presigned URLs last at most 7 days)"
            )
        return self

    @property
    def postgres_url(self) -> str | None:
        """The PostgreSQL URL in the cluster mode, else None."""
        url = self.database_url
        return url if url is not None and not url.startswith("sqlite:///") else None

    @property
    def database_path(self) -> Path:
        """The SQLite file (the embedded mode)."""
        url = self.database_url or f"sqlite:///{self.data_dir / 'vidtask.db'}"
        if not url.startswith("sqlite:///"):
            raise ValueError(f"VIDTASK_DATABASE_URL is not a SQLite file: {url!r}")
        return Path(url.removeprefix("sqlite:///"))

    @property
    def artifacts_dir(self) -> Path | None:
        """The folder of the artifacts on this machine; None when they are in a bucket."""
        url = self.artifacts_url
        if url is None:
            return self.data_dir / "artifacts"
        if url.startswith("file://"):
            return Path(unquote(url.removeprefix("file://")))
        return None

    @property
    def scratch_dir(self) -> Path:
        return self.data_dir / "scratch"

    @property
    def effective_asset_roots(self) -> list[Path]:
        return self.asset_roots or [self.data_dir / "assets"]

    @property
    def base_url(self) -> str:
        return (self.public_url or f"http://{self.host}:{self.port}").rstrip("/")


def describe_settings_error(exc: ValidationError | SettingsError) -> str:
    """A one-line account of bad settings, naming each variable: ``VIDTASK_PORT: ...``."""
    if isinstance(exc, SettingsError):
        found = re.search(r'field "(\w+)"', str(exc))
        name = f"VIDTASK_{found.group(1).upper()}" if found else "a VIDTASK_* setting"
        return f"{name}: not valid JSON ({exc.__cause__ or exc})"
    problems = []
    for problem in exc.errors():
        loc = problem["loc"]
        name = "VIDTASK_" + str(loc[0]).upper() if loc else "settings"
        if len(loc) > 1:
            name += "".join(
                f"[{part}]" if isinstance(part, int) else f".{part}" for part in loc[1:]
            )
        problems.append(f"{name}: {problem['msg'].removeprefix('Value error, ')}")
    return "; ".join(problems)


def _listed(value: Any, separator: str, plain: str) -> Any:
    """A list setting given as text: a JSON list, or plain items split on ``separator``."""
    if not isinstance(value, str):
        return value
    text = value.strip()
    if text.startswith("["):
        try:
            return json.loads(text)
        except ValueError:
            raise ValueError(f"expected a JSON list or {plain}; got {text[:80]!r}") from None
    return [item for item in re.split(rf"\s*{re.escape(separator)}\s*", text) if item]


def _toml_path(*layers: dict[str, Any]) -> Path | None:
    for layer in layers:
        if layer.get("config"):
            return Path(layer["config"])
    for layer in layers:
        if layer.get("data_dir"):
            candidate = Path(layer["data_dir"]) / "vidtask.toml"
            return candidate if candidate.exists() else None
    candidate = default_data_dir() / "vidtask.toml"
    return candidate if candidate.exists() else None

"""A real S3-protocol server on loopback (moto's server mode) that the bucket tests talk to over
HTTP, as vidtask would talk to AWS, MinIO or R2. One server per test session, a new bucket per
test; the AWS SDK's environment (endpoint, region, keys) points every boto3 client in the test
process and in the servers it starts at it, and nothing else."""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from moto.server import ThreadedMotoServer
from types_boto3_s3 import S3Client

from vidtask.storage.s3 import S3Artifacts, make_client

#: The AWS SDK's settings for the test server: anything that could reach a real account is
#: cleared (profiles, config files, instance metadata).
KEYS = {
    "AWS_ACCESS_KEY_ID": "vidtask-test",
    "AWS_SECRET_ACCESS_KEY": "vidtask-test-secret",
    "AWS_REGION": "us-east-1",
    "AWS_CONFIG_FILE": "/dev/null",
    "AWS_SHARED_CREDENTIALS_FILE": "/dev/null",
    "AWS_EC2_METADATA_DISABLED": "true",
}
CLEARED = ("AWS_PROFILE", "AWS_SESSION_TOKEN", "AWS_ENDPOINT_URL", "AWS_DEFAULT_REGION")


@dataclass(frozen=True)
class Bucket:
    """A new, empty bucket on the test server."""

    name: str
    endpoint: str
    client: S3Client

    def url(self, prefix: str = "vidtask") -> str:
        """``s3://<bucket>/<prefix>``: the value of ``VIDTASK_ARTIFACTS_URL``."""
        return f"s3://{self.name}/{prefix}".rstrip("/")

    def env(self) -> dict[str, str]:
        """The environment of a process that uses this bucket."""
        return {**KEYS, "AWS_ENDPOINT_URL_S3": self.endpoint}

    def keys(self, prefix: str = "") -> list[str]:
        listed = self.client.list_objects_v2(Bucket=self.name, Prefix=prefix)
        return sorted(item["Key"] for item in listed.get("Contents", []))

    def store(self, prefix: str = "vidtask", *, presign: bool = False) -> S3Artifacts:
        return S3Artifacts(self.name, prefix, client=self.client, presign=presign)


@pytest.fixture(scope="session")
def s3_endpoint() -> Iterator[str]:
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    yield f"http://{host}:{port}"
    server.stop()


@pytest.fixture
def s3_env(s3_endpoint: str, monkeypatch: pytest.MonkeyPatch) -> str:
    """The AWS SDK's environment pointed at the test server; its endpoint."""
    for name in CLEARED:
        monkeypatch.delenv(name, raising=False)
    for name, value in {**KEYS, "AWS_ENDPOINT_URL_S3": s3_endpoint}.items():
        monkeypatch.setenv(name, value)
    return s3_endpoint


@pytest.fixture
def bucket(s3_env: str) -> Bucket:
    client = make_client(path_style=True)
    name = f"vidtask-{secrets.token_hex(6)}"
    client.create_bucket(Bucket=name)
    return Bucket(name, s3_env, client)

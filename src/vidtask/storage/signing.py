"""Signed, expiring artifact URLs: ``/v1/files/<task>/<name>?exp=<unix>&sig=<hmac>``."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from pathlib import Path
from urllib.parse import quote

__all__ = ["UrlSigner", "load_or_create_secret"]


def load_or_create_secret(path: Path) -> str:
    """Read the signing secret, creating it (mode 0600) on first use."""
    try:
        return path.read_text().strip()
    except FileNotFoundError:
        path.parent.mkdir(parents=True, exist_ok=True)
        secret = secrets.token_urlsafe(32)
        try:
            with path.open("x") as fh:
                fh.write(secret)
            path.chmod(0o600)
        except FileExistsError:  # another process won the race
            return path.read_text().strip()
        return secret


class UrlSigner:
    def __init__(self, secret: str, base_url: str, ttl_s: int) -> None:
        self._key = secret.encode()
        self.base_url = base_url.rstrip("/")
        self.ttl_s = ttl_s

    def _sign(self, task_id: str, name: str, exp: int) -> str:
        message = f"{task_id}/{name}:{exp}".encode()
        return hmac.new(self._key, message, hashlib.sha256).hexdigest()[:32]

    def expiry(self, now: float) -> int:
        """Links made now expire at this time: rounded up to the hour, so repeated polls see
        one stable URL (and cached bodies stay valid until it changes)."""
        return (int(now + self.ttl_s) // 3600 + 1) * 3600

    def url(self, task_id: str, name: str, now: float) -> str:
        exp = self.expiry(now)
        sig = self._sign(task_id, name, exp)
        return f"{self.base_url}/v1/files/{task_id}/{quote(name)}?exp={exp}&sig={sig}"

    def verify(self, task_id: str, name: str, exp: int, sig: str, now: float) -> bool:
        if exp < now:
            return False
        # Bytes: compare_digest refuses str with non-ASCII characters (a forged link's sig).
        return hmac.compare_digest(self._sign(task_id, name, exp).encode(), sig.encode())

"""Who may call the API: tokens with a scope, and how often.

Tokens are generated into the workspace (``<workspace>/api/tokens.json``, mode 0600, folder
0700) by ``vidsift token create --scope read|admin``; the file keeps only each token's SHA-256,
so the token is shown once, when it is made. ``read`` may query (videos, search, clusters,
thumbnails, evaluations); ``admin`` may also change the workspace (index build/add). A request
carries its token as ``Authorization: Bearer TOKEN`` (or HTTP Basic with the token as password,
for a browser behind a reverse proxy, see docs/serve.md). Tokens are compared in constant time.

Rate limiting is a token bucket per token (or per client address without one): ``rate``
requests a second on average, bursts up to ``burst``.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import os
import secrets
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from vidsift.atomic import atomic_path
from vidsift.errors import BadInputError, WorkspaceError
from vidsift.workspace import Workspace

SCOPES = ("read", "admin")
TOKEN_PREFIX = "vs_"


def tokens_path(ws: Workspace) -> Path:
    """``<workspace>/api/tokens.json``."""
    return ws.root / "api" / "tokens.json"


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8", "surrogatepass")).hexdigest()


def read_tokens(path: str | Path) -> list[dict[str, Any]]:
    """The token entries of a tokens file (``[]`` when there is none).

    Raises:
        WorkspaceError: the file exists but is not a tokens file.
    """
    path = Path(path)
    try:
        data = json.loads(path.read_text())
    except FileNotFoundError:
        return []
    except (OSError, ValueError) as exc:
        raise WorkspaceError(f"{path}: unreadable tokens file ({exc}); delete it and create tokens again") from exc
    entries = data.get("tokens") if isinstance(data, dict) else None
    if not isinstance(entries, list) or not all(
        isinstance(e, dict) and e.get("scope") in SCOPES and isinstance(e.get("sha256"), str) for e in entries
    ):
        raise WorkspaceError(f"{path}: not a vidsift tokens file; delete it and create tokens again")
    return entries


def _write_tokens(path: Path, entries: list[dict[str, Any]]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    os.chmod(path.parent, 0o700)
    with atomic_path(path) as tmp:  # mkstemp: created 0600
        os.chmod(tmp, 0o600)
        tmp.write_text(json.dumps({"tokens": entries}, indent=2) + "\n")


def create_token(path: str | Path, scope: str, note: str | None = None) -> tuple[str, dict[str, Any]]:
    """Make a new token of ``scope`` and add its hash to the tokens file.

    Returns ``(token, entry)``: the token is not stored and cannot be shown again.

    Raises:
        BadInputError: an unknown scope.
    """
    if scope not in SCOPES:
        raise BadInputError(f"unknown scope {scope!r}; choose {' or '.join(SCOPES)}")
    path = Path(path)
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    entry = {"id": _digest(token)[:12], "scope": scope, "sha256": _digest(token), "created": time.time(),
             "note": note}
    _write_tokens(path, [*read_tokens(path), entry])
    return token, entry


def revoke_token(path: str | Path, token_id: str) -> bool:
    """Remove the token whose id is ``token_id``; False when there is none."""
    path = Path(path)
    entries = read_tokens(path)
    kept = [e for e in entries if e.get("id") != token_id]
    if len(kept) == len(entries):
        return False
    _write_tokens(path, kept)
    return True


class TokenStore:
    """The accepted tokens, reread whenever the tokens file changes (no restart needed)."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self._stamp: tuple[int, int] | None = None
        self._entries: list[dict[str, Any]] = []
        self._lock = threading.Lock()
        self._reload()

    def _reload(self) -> None:
        try:
            st = self.path.stat()
            stamp = (st.st_mtime_ns, st.st_size)
        except FileNotFoundError:
            stamp = None
        if stamp != self._stamp:
            self._entries = read_tokens(self.path) if stamp else []
            self._stamp = stamp

    @property
    def entries(self) -> list[dict[str, Any]]:
        with self._lock:
            self._reload()
            return list(self._entries)

    def __len__(self) -> int:
        return len(self.entries)

    def check(self, token: str | None) -> dict[str, Any] | None:
        """The entry of ``token`` (``id``, ``scope``), or None. Every entry is compared, each
        in constant time, so the answer's timing says nothing about the stored hashes."""
        if not token:
            return None
        digest = _digest(token)
        found = None
        for e in self.entries:
            if hmac.compare_digest(digest, str(e.get("sha256", ""))):
                found = e
        return found


def token_from_headers(authorization: str | None) -> str | None:
    """The token of an ``Authorization`` header: ``Bearer T`` or ``Basic base64(user:T)``."""
    if not authorization:
        return None
    kind, _, value = authorization.strip().partition(" ")
    value = value.strip()
    if kind.lower() == "bearer":
        return value or None
    if kind.lower() == "basic":
        try:
            decoded = base64.b64decode(value, validate=True).decode("utf-8")
        except (binascii.Error, UnicodeDecodeError, ValueError):
            return None
        return decoded.partition(":")[2] or None
    return None


def allows(scope: str, needed: str) -> bool:
    """Whether a token of ``scope`` may do what needs ``needed`` (admin may do everything)."""
    return scope == "admin" or scope == needed


@dataclass(frozen=True)
class Limits:
    """Request limits: body size (uploads), and rate per token or client address."""

    max_upload_mb: float = 10.0
    rate: float = 20.0  # requests per second, on average
    burst: int = 100

    @property
    def max_body_bytes(self) -> int:
        return int(self.max_upload_mb * 1_000_000) + 64_000  # the upload plus its form fields


class RateLimiter:
    """A token bucket per key; ``rate <= 0`` turns limiting off."""

    def __init__(self, rate: float, burst: int, max_keys: int = 10_000) -> None:
        self.rate, self.burst, self.max_keys = float(rate), max(1, int(burst)), max_keys
        self._buckets: dict[str, tuple[float, float]] = {}
        self._lock = threading.Lock()

    def allow(self, key: str) -> float:
        """0 when the request may go on, else the seconds to wait before the next one."""
        if self.rate <= 0:
            return 0.0
        now = time.monotonic()
        with self._lock:
            tokens, last = self._buckets.get(key, (float(self.burst), now))
            tokens = min(float(self.burst), tokens + (now - last) * self.rate)
            if tokens >= 1.0:
                self._buckets[key] = (tokens - 1.0, now)
                wait = 0.0
            else:
                self._buckets[key] = (tokens, now)
                wait = (1.0 - tokens) / self.rate
            if len(self._buckets) > self.max_keys:  # forget the idlest half
                for k, _ in sorted(self._buckets.items(), key=lambda kv: kv[1][1])[: self.max_keys // 2]:
                    self._buckets.pop(k, None)
        return wait

"""A small client of `vidsift serve` (standard library only).

    client = VidsiftClient("http://127.0.0.1:8765", token=os.environ.get("VIDSIFT_TOKEN"))
    client.search("pixels", video="3f2a9c1d", at="00:00:12.5", k=5)   # the hits of `vidsift search --json`
    client.search_image("pixels", "query.jpg", k=5)
    client.videos(offset=0, limit=100)                                 # {"total", "offset", "limit", "items"}

Errors come back as the server's one line: ``BadInputError`` for 4xx answers (the request was
wrong), ``WorkspaceError`` for a server that cannot be reached or answers 5xx.
"""

from __future__ import annotations

import json
import mimetypes
import secrets
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path
from typing import Any

from vidsift.errors import BadInputError, WorkspaceError


class VidsiftClient:
    """Calls the API of one server; ``token`` is sent as ``Authorization: Bearer``."""

    def __init__(self, url: str, token: str | None = None, timeout: float = 60.0) -> None:
        parsed = urllib.parse.urlparse(url)
        if parsed.scheme not in ("http", "https") or not parsed.netloc:
            raise BadInputError(f"--server {url!r}: give an http(s) URL such as http://127.0.0.1:8765")
        self.url = url.rstrip("/")
        self.token = token
        self.timeout = float(timeout)

    # -- plumbing --------------------------------------------------------------------------
    def _request(self, method: str, path: str, body: bytes | None = None, content_type: str | None = None,
                 params: dict[str, Any] | None = None) -> tuple[bytes, str]:
        query = {k: v for k, v in (params or {}).items() if v is not None}
        url = self.url + path + ("?" + urllib.parse.urlencode(query, doseq=True) if query else "")
        req = urllib.request.Request(url, data=body, method=method)
        if self.token:
            req.add_header("Authorization", f"Bearer {self.token}")
        if content_type:
            req.add_header("Content-Type", content_type)
        try:
            with urllib.request.urlopen(req, timeout=self.timeout) as resp:  # noqa: S310 - http(s) checked
                return resp.read(), resp.headers.get("Content-Type", "")
        except urllib.error.HTTPError as exc:
            raw = exc.read()
            try:
                message = json.loads(raw).get("error") or raw.decode("utf-8", "replace")
            except (ValueError, AttributeError):
                message = raw.decode("utf-8", "replace")[:300] or exc.reason
            cls = BadInputError if 400 <= exc.code < 500 else WorkspaceError
            raise cls(f"{self.url}: {exc.code} {message}") from None
        except (urllib.error.URLError, OSError) as exc:
            reason = getattr(exc, "reason", exc)
            raise WorkspaceError(f"{self.url}: cannot reach the vidsift server ({reason}); is `vidsift serve` running?") from None

    def _json(self, method: str, path: str, payload: Any = None, **params: Any) -> Any:
        body = None if payload is None else json.dumps(payload).encode("utf-8")
        raw, _ = self._request(method, path, body, "application/json" if body is not None else None, params)
        return json.loads(raw) if raw else None

    # -- endpoints -------------------------------------------------------------------------
    def health(self) -> dict[str, Any]:
        return self._json("GET", "/health")

    def embedders(self) -> dict[str, list[str]]:
        return self._json("GET", "/embedders")

    def videos(self, offset: int = 0, limit: int = 100) -> dict[str, Any]:
        return self._json("GET", "/videos", offset=offset, limit=limit)

    def video(self, video_id: str) -> dict[str, Any]:
        return self._json("GET", f"/videos/{urllib.parse.quote(video_id, safe='')}")

    def search(self, embedder: str, vector: Any = None, **query: Any) -> list[dict[str, Any]]:
        """``search_workspace``'s keywords (``video``, ``frame``, ``at``, ``k``, ``videos``, ...);
        ``vector`` is sent as a list of numbers; ``None`` values are left out."""
        payload = {"embedder": embedder, **{k: v for k, v in query.items() if v is not None}}
        if vector is not None:
            payload["vector"] = [float(x) for x in _flat(vector)]
        return self._json("POST", "/search", payload)

    def search_image(self, embedder: str, image: str | Path, **query: Any) -> list[dict[str, Any]]:
        """Upload a JPEG/PNG file and search with it (``k``, ``videos``, ...)."""
        path = Path(image)
        try:
            data = path.read_bytes()
        except OSError as exc:
            raise BadInputError(f"{path}: cannot read the image ({exc.strerror or exc})") from None
        q = {"embedder": embedder, **{k: v for k, v in query.items() if v is not None}}
        boundary = "vidsift" + secrets.token_hex(12)
        kind = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
        parts = [
            f"--{boundary}\r\nContent-Disposition: form-data; name=\"query\"\r\n\r\n".encode()
            + json.dumps(q).encode() + b"\r\n",
            f"--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"{_quote(path.name)}\"\r\n"
            f"Content-Type: {kind}\r\n\r\n".encode() + data + b"\r\n",
            f"--{boundary}--\r\n".encode(),
        ]
        raw, _ = self._request("POST", "/search/image", b"".join(parts), f"multipart/form-data; boundary={boundary}")
        return json.loads(raw)

    def search_workspace(self, ws: Any, embedder: str, image: Any = None, vector: Any = None,
                         **query: Any) -> list[dict[str, Any]]:
        """``services.indexes.search_workspace``'s signature, answered by the server (``ws`` is
        ignored): what ``vidsift search --server URL`` calls. ``image`` is a file to upload,
        ``vector`` an array or a local ``.npy`` file; paths and tuples are sent as JSON text/lists."""
        query = {k: (str(v) if isinstance(v, Path) else list(v) if isinstance(v, tuple) else v)
                 for k, v in query.items() if v is not None}
        if image is not None:
            return self.search_image(embedder, image, **query)
        if isinstance(vector, str | Path):
            import numpy as np

            try:
                vector = np.load(Path(vector), allow_pickle=False)
            except (OSError, ValueError) as exc:
                raise BadInputError(f"{vector}: cannot read a vector from it ({exc}); save one with numpy.save") from exc
        return self.search(embedder, vector=vector, **query)

    def clusters(self, embedder: str) -> dict[str, Any]:
        return self._json("GET", "/clusters", embedder=embedder)

    def members(self, embedder: str, cluster: int, n: int = 12) -> dict[str, Any]:
        return self._json("GET", f"/clusters/{int(cluster)}", embedder=embedder, n=n)

    def clip(self, video_id: str, at: float | str, seconds: float = 2.0) -> dict[str, Any]:
        return self._json("GET", f"/videos/{urllib.parse.quote(video_id, safe='')}/clip", at=at, seconds=seconds)

    def thumbnail(self, video_id: str, frame: int) -> bytes:
        raw, _ = self._request("GET", f"/thumbnails/{urllib.parse.quote(video_id, safe='')}/{int(frame)}")
        return raw

    def evaluate(self, name: str, embedder: str, **options: Any) -> dict[str, Any]:
        return self._json("GET", f"/evaluations/{urllib.parse.quote(name, safe='')}", embedder=embedder, **options)

    def build_index(self, embedder: str, **options: Any) -> dict[str, Any]:
        return self._json("POST", f"/indexes/{urllib.parse.quote(embedder, safe='')}/build", options or {})

    def add_to_index(self, embedder: str) -> dict[str, Any]:
        return self._json("POST", f"/indexes/{urllib.parse.quote(embedder, safe='')}/add")


def _flat(vector: Any) -> list[Any]:
    values = vector.tolist() if hasattr(vector, "tolist") else list(vector)
    while values and isinstance(values[0], list) and len(values) == 1:
        values = values[0]
    return values


def _quote(name: str) -> str:
    return name.replace("\\", "_").replace('"', "_").replace("\r", "_").replace("\n", "_")

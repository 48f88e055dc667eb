"""Fuzzing the endpoints (Hypothesis): whatever a client sends, the answer is a 200 of the
documented shape or a 4xx with one line, never a 500 and never a file from outside."""

from __future__ import annotations

import json
import string

import pytest
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from vidsift.api import schemas
from vidsift.api.app import create_app
from vidsift.api.auth import Limits

FUZZ = settings(max_examples=60, deadline=None, derandomize=True,
                suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])

json_scalars = st.none() | st.booleans() | st.integers(-(2**70), 2**70) | st.floats(allow_nan=False, allow_infinity=False) | st.text(max_size=30)
json_values = st.recursive(json_scalars, lambda c: st.lists(c, max_size=4) | st.dictionaries(st.text(max_size=8), c, max_size=4),
                           max_leaves=12)
KEYS = ["embedder", "video", "frame", "at", "vector", "k", "videos", "exclude_same_video", "exclude_window",
        "labels", "time_range", "max_distance", "group", "gap"]
names = st.sampled_from(["pixels", "nope", "../..", "/etc/passwd", "", "pixels/../pixels", "%2e%2e"]) | st.text(max_size=20)
videos = st.sampled_from(["../catalog.sqlite", "/etc/passwd", "..", ".", "~", "e358", "%00"]) | st.text(
    alphabet=string.printable, max_size=40)


@pytest.fixture(scope="module")
def fuzz_client(tmp_path_factory, built_ws):
    import shutil

    from vidsift.services.indexes import clear_cache

    dst = tmp_path_factory.mktemp("fuzz") / "ws"
    shutil.copytree(built_ws, dst)
    clear_cache()
    app = create_app(dst, limits=Limits(rate=0, max_upload_mb=0.2))
    with TestClient(app, raise_server_exceptions=False) as c:
        c.video_ids = [v["video_id"] for v in c.get("/videos").json()["items"]]
        yield c


def check(resp, ok_model=None) -> None:
    assert resp.status_code < 500, resp.text
    if resp.status_code >= 400:
        body = resp.json()
        assert set(body) == {"error"} and isinstance(body["error"], str) and "\n" not in body["error"]
    elif ok_model is not None:
        ok_model(resp.json())
    assert b"root:x:" not in resp.content and b"SQLite format" not in resp.content


def hits(body) -> None:
    for h in body:
        schemas.Hit.model_validate(h)


@FUZZ
@given(body=st.dictionaries(st.sampled_from(KEYS) | st.text(max_size=12), json_values, max_size=6))
def test_fuzz_search_json(fuzz_client: TestClient, body: dict) -> None:
    check(fuzz_client.post("/search", json=body), hits)


@FUZZ
@given(vid=st.integers(0, 1), frame=st.integers(-5, 40) | st.none(), at=json_scalars, k=st.integers(-3, 2000),
       window=st.integers(-2, 50), same=st.booleans(), within=st.lists(videos, max_size=2) | st.none())
def test_fuzz_search_near_valid(fuzz_client: TestClient, vid, frame, at, k, window, same, within) -> None:
    body = {"embedder": "pixels", "video": fuzz_client.video_ids[vid], "frame": frame, "at": at, "k": k,
            "exclude_window": window, "exclude_same_video": same, "videos": within}
    check(fuzz_client.post("/search", json=body), hits)


@FUZZ
@given(raw=st.binary(max_size=300), kind=st.sampled_from(["application/json", "text/plain", "multipart/form-data", ""]))
def test_fuzz_raw_bodies(fuzz_client: TestClient, raw: bytes, kind: str) -> None:
    headers = {"Content-Type": kind} if kind else {}
    check(fuzz_client.post("/search", content=raw, headers=headers))
    check(fuzz_client.post("/search/image", content=raw, headers=headers))
    check(fuzz_client.post("/indexes/pixels/build", content=raw, headers=headers))


@FUZZ
@given(name=st.text(max_size=20), data=st.binary(max_size=2000), query=json_values)
def test_fuzz_uploads(fuzz_client: TestClient, name: str, data: bytes, query) -> None:
    q = query if not isinstance(query, dict) else {"embedder": "pixels", **query}
    resp = fuzz_client.post("/search/image", files={"file": (name or "x", data, "image/png")},
                            data={"query": json.dumps(q)})
    check(resp, hits)


@FUZZ
@given(vid=videos, frame=st.text(max_size=8) | st.integers(-10, 10**12).map(str), at=st.text(max_size=12),
       seconds=st.text(max_size=6), emb=names, n=st.text(max_size=5), offset=st.text(max_size=5))
def test_fuzz_paths_and_queries(fuzz_client: TestClient, vid, frame, at, seconds, emb, n, offset) -> None:
    from urllib.parse import quote

    v = quote(vid, safe="") or "x"
    for url, params in [
        (f"/videos/{v}", None),
        (f"/videos/{v}/media", None),
        (f"/videos/{v}/clip", {"at": at, "seconds": seconds}),
        (f"/thumbnails/{v}/{quote(frame, safe='') or '0'}", None),
        (f"/thumbnails/{fuzz_client.video_ids[0]}/{quote(frame, safe='') or '0'}", None),
        (f"/videos/{fuzz_client.video_ids[0]}/clip", {"at": at, "seconds": seconds}),
        ("/videos", {"offset": offset, "limit": n}),
        ("/clusters", {"embedder": emb}),
        (f"/clusters/{quote(frame, safe='') or '0'}", {"embedder": emb, "n": n}),
        (f"/evaluations/{quote(emb, safe='') or 'x'}", {"embedder": emb}),
    ]:
        check(fuzz_client.get(url, params=params))


@FUZZ
@given(auth=st.text(st.characters(min_codepoint=32, max_codepoint=255), max_size=60), scheme=st.sampled_from(["Bearer ", "Basic ", "", "bearer "]))
def test_fuzz_authorization_headers(built_ws, tmp_path_factory, auth: str, scheme: str) -> None:
    from vidsift.api.auth import TokenStore, create_token

    path = tmp_path_factory.getbasetemp() / "fuzz-tokens.json"
    if not path.exists():
        create_token(path, "read")
    app = create_app(built_ws, tokens=TokenStore(path), limits=Limits(rate=0))
    with TestClient(app, raise_server_exceptions=False) as c:
        resp = c.get("/videos", headers={"Authorization": (scheme + auth).encode("latin-1")})
        assert resp.status_code == 401
        check(resp)

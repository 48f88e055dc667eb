"""Every endpoint of the API in-process (``TestClient``): answers, shapes shared with the CLI,
token scopes, limits, and each kind of bad input as a 4xx with one line."""

from __future__ import annotations

import io
import json
import os
from pathlib import Path

import numpy as np
import pytest
from fastapi.testclient import TestClient
from PIL import Image

from vidsift.api import schemas
from vidsift.api.app import create_app
from vidsift.api.auth import Limits


def png(size: tuple[int, int] = (32, 32), color: tuple[int, int, int] = (200, 30, 30)) -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", size, color).save(buf, format="PNG")
    return buf.getvalue()


def first_video(client: TestClient) -> dict:
    return client.get("/videos").json()["items"][0]


def assert_error(resp, status: int, match: str = "") -> None:
    assert resp.status_code == status, resp.text
    body = resp.json()
    assert set(body) == {"error"} and "\n" not in body["error"] and body["error"]
    assert match.lower() in body["error"].lower()


# -- shapes shared with the CLI ---------------------------------------------------------------


def test_schema_models_describe_exactly_the_dicts_the_cli_prints() -> None:
    from vidsift.catalog import VideoRecord
    from vidsift.index.hits import Hit
    from vidsift.services.indexes import hit_dict

    hit = Hit(video_id="v", path="/p.mp4", frame=3, time=0.12, shot=0, label=None, distance=0.5)
    assert set(hit_dict(hit)) == set(schemas.Hit.model_fields)
    schemas.Hit.model_validate(hit_dict(hit))
    rec = VideoRecord(id="v", path="/p.mp4", label=None, fps=25.0, num_frames=10, width=8, height=8,
                      duration=0.4, codec="h264", rotation=0)
    assert set(rec.to_dict()) == set(schemas.Video.model_fields)
    from vidsift.video.segment import Segment

    seg = Segment(video_id="v", path="/p.mp4", start=0.0, end=1.0, first_frame=0, last_frame=9, best_time=0.5)
    assert {"rank", *seg.to_dict()} == set(schemas.Segment.model_fields)


def test_search_answers_what_vidsift_search_json_prints(client: TestClient, api_ws) -> None:
    from typer.testing import CliRunner

    from vidsift.cli import app

    vid = first_video(client)["video_id"]
    api = client.post("/search", json={"embedder": "pixels", "video": vid, "at": "0.5", "k": 4,
                                       "exclude_window": 1})
    assert api.status_code == 200, api.text
    out = CliRunner().invoke(app, ["search", "-e", "pixels", "--video", vid, "--at", "0.5", "-k", "4",
                                   "--exclude-window", "1", "-w", str(api_ws.root), "--json"])
    assert out.exit_code == 0, out.output
    assert api.json() == json.loads(out.stdout)
    assert len(api.json()) == 4 and all(h["video_id"] for h in api.json())


def test_videos_page_through_the_catalog_as_vidsift_videos_json(client: TestClient, api_ws) -> None:
    from vidsift.services.library import videos

    everything = [v.to_dict() for v in videos(api_ws)]
    page = client.get("/videos", params={"offset": 1, "limit": 1}).json()
    assert page["total"] == len(everything) == 2 and page["offset"] == 1 and page["limit"] == 1
    assert page["items"] == everything[1:2]
    assert client.get("/videos", params={"offset": 5}).json()["items"] == []
    vid = everything[0]["video_id"]
    assert client.get(f"/videos/{vid}").json() == everything[0]
    label = everything[0]["label"]
    assert label, everything[0]
    same = [v for v in everything if v["label"] == label]
    assert client.get("/videos", params={"label": label}).json()["items"] == same
    assert client.get("/videos", params={"errors": True}).json()["total"] == 0  # every file here reads
    bad = client.get("/videos", params={"label": "no-such-label"})
    assert bad.status_code == 400 and "no catalogued video has label 'no-such-label'" in bad.json()["error"]


def test_openapi_documents_every_route_and_the_shared_shapes(client: TestClient) -> None:
    spec = client.get("/openapi.json").json()
    paths = set(spec["paths"])
    assert {"/health", "/videos", "/videos/{video_id}", "/search", "/search/image", "/clusters",
            "/clusters/{cluster}", "/thumbnails/{video_id}/{frame}", "/videos/{video_id}/clip",
            "/videos/{video_id}/media", "/evaluations", "/evaluations/{name}", "/indexes/{embedder}/build",
            "/indexes/{embedder}/add", "/embedders", "/auth", "/tokens"} <= paths
    assert {"Hit", "Video", "VideoPage", "SearchQuery", "ErrorBody"} <= set(spec["components"]["schemas"])
    assert client.get("/docs").status_code == 200


# -- each endpoint ------------------------------------------------------------------------------


def test_health_and_embedders(client: TestClient) -> None:
    h = client.get("/health").json()
    assert h["status"] == "ok" and h["auth"] is False and h["version"]
    assert client.get("/embedders").json() == {"stores": ["pixels"], "indexes": ["pixels"]}


def test_search_by_frame_time_vector_and_within_videos(client: TestClient, api_ws) -> None:
    from vidsift.embedder.store import load_store

    items = client.get("/videos").json()["items"]
    a, b = items[0], items[1]
    by_frame = client.post("/search", json={"embedder": "pixels", "video": a["video_id"], "frame": 5, "k": 3}).json()
    assert by_frame[0]["video_id"] == a["video_id"] and by_frame[0]["frame"] == 5 and by_frame[0]["distance"] < 1e-5
    by_path = client.post("/search", json={"embedder": "pixels", "video": a["path"], "frame": 5, "k": 3}).json()
    assert by_path == by_frame
    for ref in (Path(a["path"]).name, a["video_id"][:6]):  # a file name or an id prefix, as the CLI takes
        assert client.post("/search", json={"embedder": "pixels", "video": ref, "frame": 5, "k": 3}).json() == by_frame
    by_time = client.post("/search", json={"embedder": "pixels", "video": a["video_id"], "at": 0.5, "k": 3}).json()
    assert by_time == by_frame  # 10 fps: frame 5 is on screen at 0.5 s
    data = load_store(api_ws.embeddings("pixels"))
    row = int(np.flatnonzero((data.meta.video_id == b["video_id"]).to_numpy() & (data.meta.frame == 2).to_numpy())[0])
    by_vector = client.post("/search", json={"embedder": "pixels", "vector": data.vectors[row].tolist(), "k": 2}).json()
    assert (by_vector[0]["video_id"], by_vector[0]["frame"]) == (b["video_id"], 2)
    within = client.post("/search", json={"embedder": "pixels", "vector": data.vectors[row].tolist(), "k": 5,
                                          "videos": [a["video_id"]]}).json()
    assert {h["video_id"] for h in within} == {a["video_id"]}
    other = client.post("/search", json={"embedder": "pixels", "video": a["video_id"], "frame": 5, "k": 5,
                                         "exclude_same_video": True}).json()
    assert {h["video_id"] for h in other} == {b["video_id"]}


def test_search_by_uploaded_image(client: TestClient) -> None:
    resp = client.post("/search/image", files={"file": ("q.png", png(), "image/png")},
                       data={"query": json.dumps({"embedder": "pixels", "k": 3})})
    assert resp.status_code == 200, resp.text
    assert len(resp.json()) == 3 and all(set(h) == set(schemas.Hit.model_fields) for h in resp.json())


def test_clusters_and_members(client: TestClient) -> None:
    c = client.get("/clusters", params={"embedder": "pixels"}).json()
    assert c["embedder"] == "pixels" and sum(x["size"] for x in c["clusters"]) == 32
    assert [x["size"] for x in c["clusters"]] == sorted((x["size"] for x in c["clusters"]), reverse=True)
    assert c["last_run"]["k"] == 3
    top = c["clusters"][0]
    m = client.get(f"/clusters/{top['cluster']}", params={"embedder": "pixels", "n": 4}).json()
    assert m["size"] == top["size"] and len(m["members"]) == 4
    assert all(x["cluster"] == top["cluster"] for x in m["members"])
    dist = [x["distance"] for x in m["members"]]
    assert dist == sorted(dist)


def test_duplicates_of_the_last_run(client: TestClient, api_ws) -> None:
    from vidsift.services.duplicates import find_duplicates

    missing = client.get("/duplicates", params={"embedder": "pixels"})
    assert missing.status_code == 404 and "vidsift duplicates -e pixels" in missing.json()["error"]
    saved = find_duplicates(api_ws, "pixels", min_seconds=0.5)
    got = client.get("/duplicates", params={"embedder": "pixels"})
    assert got.status_code == 200 and got.json() == json.loads(json.dumps(saved))


def test_thumbnail_clip_and_media_with_range(client: TestClient) -> None:
    v = first_video(client)
    t = client.get(f"/thumbnails/{v['video_id']}/3")
    assert t.status_code == 200 and t.headers["content-type"] == "image/jpeg"
    assert Image.open(io.BytesIO(t.content)).size[1] <= 96
    clip = client.get(f"/videos/{v['video_id']}/clip", params={"at": "00:00:00.800", "seconds": 1}).json()
    assert (clip["start"], clip["end"]) == (0.3, 1.3) and clip["start_timecode"] == "00:00:00.300"
    assert clip["media_url"].startswith(f"/videos/{v['video_id']}/media#t=")
    whole = client.get(f"/videos/{v['video_id']}/media")
    assert whole.status_code == 200 and whole.content == Path(v["path"]).read_bytes()
    part = client.get(f"/videos/{v['video_id']}/media", headers={"Range": "bytes=10-19"})
    assert part.status_code == 206 and part.content == Path(v["path"]).read_bytes()[10:20]


def test_evaluations(client: TestClient) -> None:
    assert "retrieval" in client.get("/evaluations").json()["evaluations"]
    r = client.get("/evaluations/retrieval", params={"embedder": "pixels", "repeats": 1, "k": 5}).json()
    assert r["evaluation"] == "retrieval" and r["embedder"] == "pixels" and "rate" in r
    assert_error(client.get("/evaluations/nope", params={"embedder": "pixels"}), 404, "no evaluation")
    assert_error(client.get("/evaluations/temporal-pr", params={"embedder": "pixels", "shots": 2}), 400,
                 "takes no option 'shots'")


def test_index_build_and_add(client: TestClient) -> None:
    built = client.post("/indexes/pixels/build", json={"kind": "flat"}).json()
    assert built["kind"] == "flat" and built["vectors"] == 32
    added = client.post("/indexes/pixels/add").json()
    assert added["added_videos"] == [] and added["vectors"] == 32
    assert_error(client.post("/indexes/pixels/build", json={"kind": "flat", "colour": 1}), 422, "colour")


# -- tokens and scopes --------------------------------------------------------------------------


def test_tokens_are_required_and_scoped(secured) -> None:
    client, tokens = secured
    read = {"Authorization": f"Bearer {tokens['read']}"}
    admin = {"Authorization": f"Bearer {tokens['admin']}"}
    assert client.get("/health").json()["auth"] is True  # the one open route
    assert_error(client.get("/videos"), 401, "no token")
    assert_error(client.get("/videos", headers={"Authorization": "Bearer vs_wrong"}), 401, "wrong token")
    assert_error(client.get("/videos", headers={"Authorization": "Token abc"}), 401)
    assert client.get("/videos").headers["www-authenticate"].startswith("Basic")
    assert client.get("/videos", headers=read).status_code == 200
    assert client.get("/videos", headers=admin).status_code == 200
    assert_error(client.post("/indexes/pixels/add", headers=read), 403, "needs an admin token")
    assert client.post("/indexes/pixels/add", headers=admin).status_code == 200
    assert_error(client.get("/tokens", headers=read), 403)
    listed = client.get("/tokens", headers=admin).json()
    assert sorted(t["scope"] for t in listed) == ["admin", "read"]
    assert all("sha256" not in t and "token" not in t for t in listed)
    # a browser behind a reverse proxy: HTTP Basic with the token as the password
    import base64

    basic = base64.b64encode(f"me:{tokens['read']}".encode()).decode()
    assert client.get("/auth", headers={"Authorization": f"Basic {basic}"}).status_code == 204
    assert client.get("/auth").status_code == 401


def test_a_revoked_token_stops_working_without_a_restart(secured, api_ws) -> None:
    from vidsift.api.auth import read_tokens, revoke_token, tokens_path

    client, tokens = secured
    read = {"Authorization": f"Bearer {tokens['read']}"}
    assert client.get("/videos", headers=read).status_code == 200
    rid = next(e["id"] for e in read_tokens(tokens_path(api_ws)) if e["scope"] == "read")
    assert revoke_token(tokens_path(api_ws), rid)
    assert_error(client.get("/videos", headers=read), 401)


def test_token_file_is_private_and_keeps_no_token(api_ws, tokens) -> None:
    from vidsift.api.auth import tokens_path

    path = tokens_path(api_ws)
    assert (os.stat(path).st_mode & 0o777) == 0o600 and (os.stat(path.parent).st_mode & 0o777) == 0o700
    text = path.read_text()
    assert tokens["read"] not in text and tokens["admin"] not in text


def test_rate_limit_answers_429_with_retry_after(api_ws) -> None:
    with TestClient(create_app(api_ws, limits=Limits(rate=0.5, burst=3)), raise_server_exceptions=False) as c:
        codes = [c.get("/embedders").status_code for _ in range(5)]
        assert codes[:3] == [200, 200, 200] and codes[3:] == [429, 429]
        resp = c.get("/embedders")
        assert_error(resp, 429, "too many requests")
        assert int(resp.headers["retry-after"]) >= 1


def test_cors_is_off_unless_asked(api_ws, client: TestClient) -> None:
    pre = {"Origin": "https://evil.example", "Access-Control-Request-Method": "POST"}
    assert "access-control-allow-origin" not in client.options("/search", headers=pre).headers
    assert "access-control-allow-origin" not in client.get("/health", headers={"Origin": "https://evil.example"}).headers
    with TestClient(create_app(api_ws, cors_origins=["https://team.example"])) as c:
        ok = c.get("/health", headers={"Origin": "https://team.example"})
        assert ok.headers["access-control-allow-origin"] == "https://team.example"
        assert "access-control-allow-origin" not in c.get("/health", headers={"Origin": "https://evil.example"}).headers


# -- bad input: always a 4xx with one line, never a 500, never a file from outside --------------


@pytest.mark.parametrize(
    ("body", "status", "match"),
    [
        (b"{not json", 400, "not valid JSON"),
        (b"[1, 2]", 422, "valid dictionary"),
        (b'{"embedder": "pixels", "video": "x", "frame": "three"}', 422, "frame"),
        (b'{"embedder": "pixels", "vector": "1,2,3"}', 422, "vector"),
        (b'{"embedder": "pixels", "k": 0, "vector": [1]}', 422, "k"),
        (b'{"embedder": "pixels", "k": 10000000000, "vector": [1]}', 422, "k"),
        (b'{"embedder": "pixels", "frame": -1, "video": "x"}', 422, "frame"),
        (b'{"video": "x", "frame": 1}', 422, "embedder"),
        (b'{"embedder": "pixels"}', 400, "exactly one query"),
        (b'{"embedder": "pixels", "vector": [1.0, 2.0]}', 400, "dim"),
        (b'{"embedder": "pixels", "vector": [1.0], "exclude_window": 3}', 400, "need a --video"),
        (b'{"embedder": "pixels", "vector": [1.0], "open_file": "/etc/passwd"}', 422, "unknown search field"),
        (b'{"embedder": "pixels", "video": "nope", "frame": 1}', 404, "no video 'nope'"),
        (b'{"embedder": "nope", "video": "x", "frame": 1}', 404, "no index"),
        (b'{"embedder": "pixels", "video": "../../etc/passwd", "frame": 1}', 404, "no video"),
        (b'{"embedder": "pixels", "video": "/etc/passwd", "frame": 1}', 404, "no video"),
        (b'{"embedder": "../../etc", "video": "x", "frame": 1}', 404, "no index"),
    ],
)
def test_bad_search_bodies(client: TestClient, body: bytes, status: int, match: str) -> None:
    assert_error(client.post("/search", content=body, headers={"Content-Type": "application/json"}), status, match)


def test_bad_frames_and_times_of_a_real_video(client: TestClient) -> None:
    vid = first_video(client)["video_id"]
    q = {"embedder": "pixels", "video": vid}
    assert_error(client.post("/search", json={**q, "frame": 10_000}), 400)
    assert_error(client.post("/search", json={**q, "at": "not a time"}), 400)
    assert_error(client.post("/search", json={**q, "frame": 1, "at": 1.0}), 400, "not both")
    assert_error(client.post("/search", json={**q, "at": "99:00:00"}), 400, "past the end of video")
    assert_error(client.get(f"/videos/{vid}/clip", params={"at": "99:00:00"}), 400, "outside")
    assert_error(client.get(f"/videos/{vid}/clip", params={"at": "1", "seconds": -1}), 422, "seconds")
    assert_error(client.get(f"/thumbnails/{vid}/999999"), 404)
    assert_error(client.get(f"/thumbnails/{vid}/-1"), 422)


@pytest.mark.parametrize(
    "url",
    ["/videos/nope", "/videos/nope/media", "/videos/nope/clip?at=1", "/thumbnails/nope/1",
     "/videos/..%2F..%2Fetc%2Fpasswd/media", "/thumbnails/..%2F..%2Fcatalog.sqlite/0",
     "/thumbnails/%2Fetc%2Fpasswd/0", "/clusters/99?embedder=pixels", "/clusters?embedder=nope",
     "/clusters/0?embedder=..%2F..", "/nope", "/videos/../catalog.sqlite"],
)
def test_unknown_ids_and_traversal_are_404(client: TestClient, url: str) -> None:
    resp = client.get(url)
    assert_error(resp, 404)
    assert b"SQLite" not in resp.content and b"root:" not in resp.content


def test_a_thumbnail_linked_out_of_the_workspace_is_not_served(client: TestClient, api_ws, tmp_path) -> None:
    vid = first_video(client)["video_id"]
    secret = tmp_path / "secret.jpg"
    secret.write_bytes(png())
    link = api_ws.thumbnails / vid / "7.jpg"
    link.parent.mkdir(parents=True, exist_ok=True)
    link.unlink(missing_ok=True)
    link.symlink_to(secret)
    assert_error(client.get(f"/thumbnails/{vid}/7"), 404, "out of the workspace")
    # a whole thumbnails folder of a video linked elsewhere: nothing read or written there
    out = tmp_path / "elsewhere"
    out.mkdir()
    d = api_ws.thumbnails / vid
    for p in d.iterdir():
        p.unlink()
    d.rmdir()
    d.symlink_to(out)
    assert_error(client.get(f"/thumbnails/{vid}/3"), 404, "out of the workspace")
    assert list(out.iterdir()) == []


def test_a_catalogued_video_linked_out_of_its_folder_is_not_served(client: TestClient, tmp_path) -> None:
    v = first_video(client)
    path = Path(v["path"])
    keep = path.read_bytes()
    secret = tmp_path / "secret.mp4"
    secret.write_bytes(b"not for you")
    path.unlink()
    try:
        path.symlink_to(secret)
        assert_error(client.get(f"/videos/{v['video_id']}/media"), 404, "link out of its folder")
    finally:
        path.unlink()
        path.write_bytes(keep)


@pytest.mark.parametrize(
    ("name", "data", "status", "match"),
    [
        ("q.gif", png(), 400, "only JPEG or PNG"),
        ("q.png", b"GIF89a not a png", 400, "not a readable"),
        ("q.png", b"", 400, "not a readable"),
    ],
)
def test_bad_uploads(client: TestClient, name: str, data: bytes, status: int, match: str) -> None:
    resp = client.post("/search/image", files={"file": (name, data, "image/png")},
                       data={"query": json.dumps({"embedder": "pixels"})})
    assert_error(resp, status, match)


def test_bad_upload_queries(client: TestClient) -> None:
    files = {"file": ("q.png", png(), "image/png")}
    assert_error(client.post("/search/image", files=files, data={"query": "{oops"}), 422, "query")
    assert_error(client.post("/search/image", files=files, data={"query": '{"k": 3}'}), 422, "embedder: Field required (the form field 'query' holds the options as JSON")
    assert_error(client.post("/search/image", files=files, data={"query": '{"embedder": "pixels", "x": 1}'}),
                 422, "unknown search field")
    assert_error(client.post("/search/image", data={"query": '{"embedder": "pixels"}'}), 422, "file")


def test_huge_uploads_are_refused_before_they_are_read(api_ws) -> None:
    with TestClient(create_app(api_ws, limits=Limits(max_upload_mb=0.05)), raise_server_exceptions=False) as c:
        big = np.random.default_rng(0).integers(0, 255, (400, 400, 3), dtype=np.uint8)
        buf = io.BytesIO()
        Image.fromarray(big).save(buf, format="PNG")
        assert len(buf.getvalue()) > 120_000
        resp = c.post("/search/image", files={"file": ("big.png", buf.getvalue(), "image/png")},
                      data={"query": '{"embedder": "pixels"}'})
        assert_error(resp, 413, "over the limit")

        def chunks():  # no Content-Length: counted while it streams
            for _ in range(20):
                yield b"x" * 10_000

        assert_error(c.post("/search", content=chunks(), headers={"Content-Type": "application/json"}), 413)
        # under the body limit but over the image limit: load_upload's own check
        mid = io.BytesIO()
        Image.fromarray(big[:140, :140]).save(mid, format="PNG")
        assert 50_000 < len(mid.getvalue()) < 100_000
        assert_error(c.post("/search/image", files={"file": ("m.png", mid.getvalue(), "image/png")},
                            data={"query": '{"embedder": "pixels"}'}), 400, "MB")


def test_wrong_methods_and_types_in_paths(client: TestClient) -> None:
    assert_error(client.get("/search"), 405, "not allowed")
    assert_error(client.get("/clusters/abc", params={"embedder": "pixels"}), 422, "cluster")
    assert_error(client.get("/videos", params={"limit": 0}), 422, "limit")
    assert_error(client.get("/videos", params={"offset": "x"}), 422, "offset")
    assert_error(client.get("/clusters"), 422, "embedder")


def test_filters_and_grouping_pass_through_as_the_cli_does(client: TestClient, api_ws) -> None:
    from typer.testing import CliRunner

    from vidsift.cli import app

    items = client.get("/videos").json()["items"]
    a, b = items[0], items[1]
    q = {"embedder": "pixels", "video": a["video_id"], "frame": 3, "k": 2}
    grouped = client.post("/search", json={**q, "group": "segment"})
    assert grouped.status_code == 200, grouped.text
    out = CliRunner().invoke(app, ["search", "-e", "pixels", "--video", a["video_id"], "--frame", "3", "-k", "2",
                                   "--group", "segment", "-w", str(api_ws.root), "--json"])
    assert out.exit_code == 0, out.output
    assert grouped.json() == json.loads(out.stdout)
    for row in grouped.json():
        schemas.Segment.model_validate(row)
    only_b = client.post("/search", json={**q, "k": 5, "labels": [b["label"]]}).json()
    assert {h["video_id"] for h in only_b} == {b["video_id"]}
    early = client.post("/search", json={**q, "k": 30, "time_range": "0-0.5"}).json()
    assert early and all(h["time"] <= 0.5 for h in early)
    glob = client.post("/search", json={**q, "k": 5, "videos": [f"*{Path(b['path']).name}"]}).json()
    assert {h["video_id"] for h in glob} == {b["video_id"]}
    assert_error(client.post("/search", json={**q, "group": "sideways"}), 400)
    assert_error(client.post("/search", json={**q, "labels": ["nope"]}), 400)
    assert_error(client.post("/search", json={**q, "time_range": "5-1"}), 400)

"""Shareable page state: a link with query parameters reopens the same view, query and cluster."""

from __future__ import annotations

import numpy as np
from app_testdata import APP
from streamlit.testing.v1 import AppTest

from vidsift.views import url_state


def test_restore_parses_once_and_skips_bad_values() -> None:
    state: dict = {}
    got = url_state.restore({"page": "Search", "frame": "40", "k": "x", "videos": "a,b", "xvideo": "1"}, state)
    assert got == {"page": "Search", "s_frame": 40, "s_only": ["a", "b"], "s_excl_video": True}
    assert "s_k" not in state  # "x" is not a number: the widget keeps its default
    state["s_frame"] = 7  # the session moved on: the URL is not read again
    assert url_state.restore({"frame": "40"}, state) == {} and state["s_frame"] == 7


def test_current_names_only_the_views_own_state() -> None:
    state = {"s_emb": "pixels", "s_video": "ab", "s_frame": 3, "s_only": [], "s_excl_video": False, "d_emb": "zca"}
    assert url_state.current("Search", state) == {
        "page": "Search", "emb": "pixels", "video": "ab", "frame": "3", "xvideo": "0"}
    assert url_state.current("Discover", state) == {"page": "Discover", "demb": "zca"}
    assert url_state.current("Library", state) == {"page": "Library"}


def _video_ids(ws) -> dict[str, str]:
    from vidsift.services.indexes import load_workspace_index

    cols = load_workspace_index(ws, "pixels").columns
    return {v: str(cols.path[np.flatnonzero(cols.codes == cols.code_of[v])[0]]) for v in cols.videos}


def test_a_shared_link_reopens_the_same_search(app_ws, monkeypatch) -> None:
    monkeypatch.setenv("VIDSIFT_WORKSPACE", str(app_ws.root))
    astro = next(v for v, p in _video_ids(app_ws).items() if "/astronaut/" in p)
    at = AppTest.from_file(str(APP), default_timeout=120)
    at.query_params.update({"page": "Search", "emb": "pixels", "video": astro, "frame": "4", "k": "3",
                            "group": "frame"})
    at.run()
    assert not at.exception and not at.error, [e.value for e in at.error]
    hits = at.session_state["s_hits"]
    assert len(hits) == 3 and (hits[0]["video_id"], hits[0]["frame"]) == (astro, 4)
    # the address bar follows the page: a new query is a new link
    at.slider(key="s_frame").set_value(2).run()
    assert at.query_params["frame"] == "2" and at.query_params["video"] == astro
    assert at.query_params["page"] == "Search" and at.query_params["k"] == "3"


def test_a_link_to_an_unknown_view_or_video_falls_back(app_ws, monkeypatch) -> None:
    monkeypatch.setenv("VIDSIFT_WORKSPACE", str(app_ws.root))
    at = AppTest.from_file(str(APP), default_timeout=120)
    at.query_params.update({"page": "Nowhere"})
    at.run()
    assert not at.exception and at.session_state["page"] == "Library"
    at = AppTest.from_file(str(APP), default_timeout=120)
    at.query_params.update({"page": "Search", "emb": "nope", "video": "gone", "frame": "999999"})
    at.run()
    assert not at.exception and not at.error, [e.value for e in at.error]
    moments = at.session_state["s_hits"]  # moments by default: each tiny video is one run of hits
    assert len(moments) == 2 and all(m["start"] == 0.0 and m["frames"] == 16 for m in moments)


def test_a_shared_link_opens_one_cluster(app_ws, monkeypatch) -> None:
    from vidsift.services.discover import run_discovery

    run_discovery(app_ws, "pixels", k=2, with_map=False, progress=False)
    monkeypatch.setenv("VIDSIFT_WORKSPACE", str(app_ws.root))
    at = AppTest.from_file(str(APP), default_timeout=120)
    at.query_params.update({"page": "Discover", "demb": "pixels", "cluster": "1"})
    at.run()
    assert not at.exception and not at.error, [e.value for e in at.error]
    shown = [m.value for m in at.markdown if m.value.startswith("**Cluster ")]
    assert len(shown) == 1 and shown[0].startswith("**Cluster 1**")
    assert at.query_params["cluster"] == "1" and at.query_params["page"] == "Discover"
    assert any(m.value.endswith("segments** (frames of one video at most 1 s apart merged)") for m in at.markdown)
    at.selectbox(key="d_cluster").set_value("all").run()
    assert len([m for m in at.markdown if m.value.startswith("**Cluster ")]) == 2

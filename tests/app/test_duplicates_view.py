"""The Duplicates view: find, list, play a pair side by side, export; through AppTest."""

from __future__ import annotations

import pytest
from app_testdata import APP, build_duplicates_workspace
from streamlit.testing.v1 import AppTest


@pytest.fixture(scope="module")
def dup_ws(tmp_path_factory):
    return build_duplicates_workspace(tmp_path_factory.mktemp("dupview"))


def _app(ws, monkeypatch, **params) -> AppTest:
    monkeypatch.setenv("VIDSIFT_WORKSPACE", str(ws.root))
    at = AppTest.from_file(str(APP), default_timeout=120)
    at.query_params.update({"page": "Duplicates", **params})
    return at.run()


def test_find_list_play_and_export(dup_ws, monkeypatch) -> None:
    at = _app(dup_ws, monkeypatch)
    assert not at.exception and not at.error
    assert any("No duplicates search for pixels yet" in i.value for i in at.info)
    next(b for b in at.button if b.label == "Find duplicates").click().run()
    assert not at.exception and not at.error, [e.value for e in at.error]
    # the three copies of astronaut pair up (3 pairs); the rocket clip pairs with nothing
    assert any(s.value.startswith("3 pairs (threshold 0.35") for s in at.subheader), [s.value for s in at.subheader]
    table = at.dataframe[0].value
    assert len(table) == 3 and not table["video A"].str.contains("rocket").any()
    assert not table["video B"].str.contains("rocket").any()
    sides = [c.value for c in at.caption if c.value.startswith(("**A: ", "**B: "))]
    assert [s[:5] for s in sides] == ["**A: ", "**B: "]
    at.number_input(key="u_pair").set_value(2).run()
    assert at.query_params["pair"] == "2" and at.query_params["dupemb"] == "pixels"
    next(b for b in at.button if b.label == "Export 6 segments").click().run()
    assert not at.exception and not at.error
    out = dup_ws.exports / "pixels-duplicates"
    assert (out / "segments.otio").is_file() and (out / "segments.csv").is_file()


def test_a_link_opens_the_saved_result_on_its_pair(dup_ws, monkeypatch) -> None:
    from vidsift.services.duplicates import find_duplicates

    res = find_duplicates(dup_ws, "pixels")
    at = _app(dup_ws, monkeypatch, dupemb="pixels", pair="3")
    assert not at.exception and not at.error
    assert at.session_state["u_pair"] == 3
    b = res["pairs"][2]["b"]
    assert any(c.value.startswith(f"**B: {b['path'].rsplit('/', 1)[-1]}** · {b['start_timecode']}") for c in at.caption)


def test_an_empty_workspace_says_what_to_do(tmp_path, monkeypatch) -> None:
    from vidsift.workspace import Workspace

    at = _app(Workspace.at(tmp_path / "none"), monkeypatch)
    assert not at.exception and any("No embeddings yet" in i.value for i in at.info)

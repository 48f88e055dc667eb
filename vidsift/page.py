"""vidsift's Streamlit page: ``streamlit run app.py`` or ``vidsift app``.

Six pages (sidebar): Library, Search, Discover, Duplicates, Evaluate, Train, one module each in
``vidsift/views/`` (this file holds the sidebar and picks one). The page only lays out widgets
and calls library functions (design decision 9): the catalog, ``embedder.extract``,
the use cases of ``vidsift.services`` and ``vidsift.ui_support``. Errors from the library
(``VidsiftError``) are shown as one line with ``st.error``, never as a traceback.

How things are kept between reruns:

* the loaded FAISS index: ``st.cache_resource`` keyed by (workspace, embedder, mtime/size of the
  index's ``meta.json``), so a rebuilt index is picked up at the next rerun;
* thumbnails: ``st.cache_data`` (they also live as JPEGs under ``<workspace>/thumbnails``);
* the query (video, frame), the player position and the last results: ``st.session_state``.

Clicking a search result: every result has a "Search from here" button; its callback writes the
result's video and frame into the query widgets' state before the rerun, so the page then shows
(and searches from) the new query.
"""

from __future__ import annotations

import streamlit as st

from vidsift.errors import VidsiftError
from vidsift.services import contents
from vidsift.views import url_state
from vidsift.views.common import shown_errors
from vidsift.views.discover import page_discover
from vidsift.views.duplicates import page_duplicates
from vidsift.views.evaluate import page_evaluate
from vidsift.views.library import page_library
from vidsift.views.search import page_search
from vidsift.views.train import page_train
from vidsift.workspace import Workspace

PAGES = ("Library", "Search", "Discover", "Duplicates", "Evaluate", "Train")


# ------------------------------------------------------------------------------- sidebar
def sidebar() -> tuple[Workspace | None, str]:
    st.sidebar.title("vidsift")
    if "ws_path" not in st.session_state:
        st.session_state["ws_path"] = contents.default_workspace()
    st.sidebar.text_input(
        "Workspace folder", key="ws_path",
        help="Everything vidsift writes lives here (catalog, embeddings, indexes, exports).",
    )
    page = st.sidebar.radio("Page", PAGES, key="page")
    ws = None
    try:
        ws = contents.open_workspace(st.session_state["ws_path"])
    except VidsiftError as exc:
        st.sidebar.error(str(exc))
    if ws is not None:
        st.sidebar.caption(f"`{ws.root}`")
    return ws, page


# ------------------------------------------------------------------------------- main
def main() -> None:
    st.set_page_config(page_title="vidsift", page_icon="🎞️", layout="wide")
    url_state.restore()
    if st.session_state.get("page") not in PAGES:
        st.session_state.pop("page", None)  # a link to a view that does not exist: the first one
    ws, page = sidebar()
    if ws is None:
        st.info("Choose a workspace folder in the sidebar.")
        return
    render = {"Library": page_library, "Search": page_search, "Discover": page_discover, "Duplicates": page_duplicates,
              "Evaluate": page_evaluate, "Train": page_train}[page]
    with shown_errors():
        render(ws)
    url_state.publish(page)


main()

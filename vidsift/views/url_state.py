"""Shareable page state: the view, the query and the cluster shown live in the URL.

A link such as ``http://host:8501/?page=Search&emb=pixels&video=ab12&frame=40&group=segment``
reopens the same search for whoever opens it. The URL is read once per browser session, before
any widget exists (so the widgets start from it), and rewritten after every run from the
widgets' state (``st.query_params``), so the address bar always holds the current view.

Each parameter maps to one session-state key and a type; a value that does not parse is ignored
(the widget keeps its default) rather than breaking the page.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import streamlit as st

_RESTORED = "_url_restored"


def _bool(text: str) -> bool:
    if text.lower() in ("1", "true", "yes", "on"):
        return True
    if text.lower() in ("0", "false", "no", "off"):
        return False
    raise ValueError(text)


def _list(text: str) -> list[str]:
    return [t for t in text.split(",") if t]


#: URL parameter -> (session-state key, parser). ``page`` is the sidebar's view; the rest belong
#: to the view named in ``VIEW_PARAMS``.
PARAMS: dict[str, tuple[str, Callable[[str], Any]]] = {
    "page": ("page", str),
    # Search
    "emb": ("s_emb", str),
    "mode": ("s_mode", str),
    "video": ("s_video", str),
    "frame": ("s_frame", int),
    "k": ("s_k", int),
    "group": ("s_group", str),
    "gap": ("s_gap", float),
    "videos": ("s_only", _list),
    "labels": ("s_labels", _list),
    "range": ("s_range", str),
    "maxd": ("s_maxd", str),
    "xvideo": ("s_excl_video", _bool),
    "window": ("s_window", int),
    # Discover
    "demb": ("d_emb", str),
    "cluster": ("d_cluster", str),
    # Duplicates
    "dupemb": ("u_emb", str),
    "pair": ("u_pair", int),
}

VIEW_PARAMS: dict[str, tuple[str, ...]] = {
    "Search": ("emb", "mode", "video", "frame", "k", "group", "gap", "videos", "labels", "range", "maxd",
               "xvideo", "window"),
    "Discover": ("demb", "cluster"),
    "Duplicates": ("dupemb", "pair"),
}


def restore(params: Mapping[str, str] | None = None, state: Any = None) -> dict[str, Any]:
    """Copy the URL's parameters into session state, once per session; returns what was set."""
    state = st.session_state if state is None else state
    if state.get(_RESTORED):
        return {}
    state[_RESTORED] = True
    params = st.query_params if params is None else params
    done: dict[str, Any] = {}
    for name, (key, parse) in PARAMS.items():
        if name not in params:
            continue
        try:
            value = parse(str(params[name]))
        except ValueError:
            continue  # a hand-edited link with a bad value: keep the default
        state[key] = done[key] = value
    return done


def _text(value: Any) -> str | None:
    if value is None or value == "" or value == []:
        return None
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, list | tuple):
        return ",".join(str(v) for v in value)
    return str(value)


def current(page: str, state: Any = None) -> dict[str, str]:
    """The URL parameters that describe ``page`` as the session shows it now."""
    state = st.session_state if state is None else state
    out = {"page": page}
    for name in VIEW_PARAMS.get(page, ()):
        text = _text(state.get(PARAMS[name][0]))
        if text is not None:
            out[name] = text
    return out


def publish(page: str) -> None:
    """Rewrite the address bar to the current state (no rerun: only the URL changes)."""
    wanted = current(page)
    if dict(st.query_params) != wanted:
        st.query_params.from_dict(wanted)

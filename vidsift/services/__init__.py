"""Use cases: one module per kind of user action, taking a workspace (design decision 9).

Layers, bottom to top: foundation (``vidsift.errors``, ``atomic``, ``workspace``, ``catalog``,
``timecode``) -> domain (``video``, ``training``, ``embedder``, ``index``, ``discovery``) -> use
cases (here, and ``vidsift.reproduce``) -> faces (``vidsift.cli``, ``app.py`` with
``vidsift.ui_support``, the HTTP API). The faces only parse input, call one use case and render.
"""

"""vidsift: learn video embeddings without labels, index every frame, search, cluster, export.

One installed namespace: the domain packages import as ``vidsift.video``, ``vidsift.training``,
``vidsift.embedder``, ``vidsift.index`` and ``vidsift.discovery``. In the repository they keep
the folders the project asked for, beside this one (``video/``, ``training/``, ...); a wheel
maps them inside ``vidsift/`` (``[tool.setuptools] package-dir`` in pyproject.toml), so nothing
generic lands in site-packages. In a source checkout (this folder next to ``pyproject.toml``)
the repository root is added to this package's search path so the same names resolve there.
"""

from pathlib import Path as _Path

__version__ = "0.1.0"

_root = _Path(__file__).resolve().parent.parent
if (_root / "pyproject.toml").is_file() and (_root / "video" / "__init__.py").is_file():
    __path__.append(str(_root))  # noqa: F821 - a package's module-level __path__
del _Path, _root

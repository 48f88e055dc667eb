"""One installed namespace (issue #17): pyproject.toml maps every package folder under
``vidsift.`` and installs nothing generic at the top level of site-packages."""

from __future__ import annotations

import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DOMAIN = ("video", "training", "embedder", "index", "discovery")


def _setuptools() -> dict:
    return tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]


def test_every_package_folder_is_installed_under_vidsift() -> None:
    folders = []
    for top in ("vidsift", *DOMAIN):
        for init in sorted((ROOT / top).rglob("__init__.py")):
            parts = init.parent.relative_to(ROOT).parts
            folders.append(".".join(parts) if top == "vidsift" else "vidsift." + ".".join(parts))
    cfg = _setuptools()
    assert sorted(cfg["packages"]) == sorted(folders)
    assert cfg["package-dir"] == {"vidsift": "vidsift", **{f"vidsift.{d}": d for d in DOMAIN}}
    assert "py-modules" not in cfg  # app.py is a script beside the package, not a module
    assert all(p == "vidsift" or p.startswith("vidsift.") for p in cfg["packages"])


def test_the_page_ships_inside_the_package() -> None:
    import vidsift
    from vidsift.cli.serve import app_script

    assert app_script() == Path(vidsift.__file__).resolve().parent / "page.py"
    # app.py at the root runs the same page
    assert "vidsift.page" in (ROOT / "app.py").read_text()


def test_domain_packages_resolve_under_vidsift_in_a_checkout() -> None:
    import vidsift.video.timeline as tl
    from vidsift import video

    assert Path(tl.__file__).resolve() == ROOT / "video" / "timeline.py"
    assert Path(video.__file__).resolve() == ROOT / "video" / "__init__.py"

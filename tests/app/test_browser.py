"""The page in a real browser: `streamlit run app.py` + Playwright driving Debian's Chromium.

Opt-in (``-m browser``); skipped when Playwright or ``/usr/bin/chromium`` is missing. Screenshots
go to the test's tmp folder and, when ``VIDSIFT_SCREENSHOTS=DIR`` is set, are copied there
(``VIDSIFT_SCREENSHOTS=docs/img`` gives the README's ``search.png`` and ``discover.png``).
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest
from app_testdata import APP

CHROMIUM = Path("/usr/bin/chromium")
pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not CHROMIUM.exists(), reason="needs Debian's chromium (apt-get install chromium)"),
]
sync_api = pytest.importorskip("playwright.sync_api", reason="needs the playwright package")

LAUNCH_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
               "--disable-component-update", "--disable-sync"]


@pytest.fixture(scope="module")
def browser_ws(tmp_path_factory):
    """Four labelled scenes, large enough frames to look at, embedded with pixels and indexed."""
    from vidsift.embedder.extract import extract
    from vidsift.services.indexes import build_workspace_index
    from vidsift.video.synthetic.write import make_scene_videos
    from vidsift.workspace import Workspace

    root = tmp_path_factory.mktemp("browser")
    make_scene_videos(root / "videos", videos_per_scene=1, shots_per_video=3, frames_per_shot=10,
                      size=(96, 128), fps=10.0, seed=0)
    ws = Workspace.at(root / "ws")
    extract(ws, root / "videos", "pixels", progress=False, workers=0)
    build_workspace_index(ws, "pixels")
    return ws


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def server(browser_ws, tmp_path_factory):
    yield from _serve(browser_ws, tmp_path_factory.mktemp("server"))


@pytest.fixture(scope="module")
def dup_server(tmp_path_factory):
    """A clip, its re-encode and its trim, and an unrelated clip (the Duplicates view)."""
    from app_testdata import build_duplicates_workspace

    from vidsift.services.duplicates import find_duplicates

    root = tmp_path_factory.mktemp("dups")
    ws = build_duplicates_workspace(root, size=(96, 128))
    find_duplicates(ws, "pixels")
    yield from _serve(ws, root / "server")


def _serve(ws, logdir: Path):
    port = _free_port()
    logdir.mkdir(parents=True, exist_ok=True)
    env = {**os.environ, "VIDSIFT_WORKSPACE": str(ws.root)}
    cmd = [sys.executable, "-m", "streamlit", "run", str(APP), "--server.port", str(port),
           "--server.address", "127.0.0.1", "--server.headless", "true", "--server.fileWatcherType", "none",
           "--browser.gatherUsageStats", "false", "--server.maxUploadSize", "10",
           "--client.toolbarMode", "minimal"]
    with open(logdir / "streamlit.log", "wb") as log:
        proc = subprocess.Popen(cmd, env=env, stdout=log, stderr=subprocess.STDOUT, cwd=logdir)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 90
        while True:
            try:
                with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as r:
                    if r.status == 200:
                        break
            except OSError:
                pass
            if proc.poll() is not None or time.monotonic() > deadline:
                pytest.fail("streamlit did not start:\n" + (logdir / "streamlit.log").read_text()[-3000:])
            time.sleep(0.3)
        yield url
    finally:
        proc.terminate()
        try:
            proc.wait(15)
        except subprocess.TimeoutExpired:
            proc.kill()


@pytest.fixture
def page(server):
    with sync_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=LAUNCH_ARGS)
        try:
            pg = browser.new_page(viewport={"width": 1400, "height": 1700})
            pg.set_default_timeout(60_000)
            pg.goto(server)
            pg.get_by_test_id("stSidebar").get_by_text("Library", exact=True).wait_for()
            yield pg
        finally:
            browser.close()


@contextlib.contextmanager
def _fresh_page(height: int = 1700):
    """A page in its own browser (its own Streamlit session), closed afterwards."""
    with sync_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=LAUNCH_ARGS)
        try:
            pg = browser.new_page(viewport={"width": 1400, "height": height})
            pg.set_default_timeout(60_000)
            yield pg
        finally:
            browser.close()


def _shot(pg, tmp_path: Path, name: str, publish: bool = True) -> Path:
    """Screenshot into the test's tmp folder; ``publish``: also into ``$VIDSIFT_SCREENSHOTS``."""
    path = tmp_path / name
    pg.screenshot(path=str(path), full_page=True)
    out = os.environ.get("VIDSIFT_SCREENSHOTS")
    if out and publish:
        Path(out).mkdir(parents=True, exist_ok=True)
        shutil.copy(path, Path(out) / name)
    return path


def _idle(pg) -> None:
    """Wait until the script run finished (the 'Running…' status widget is gone)."""
    pg.wait_for_timeout(300)
    pg.get_by_test_id("stStatusWidget").wait_for(state="detached", timeout=120_000)


def _captions(pg) -> list[str]:
    return [c.inner_text() for c in pg.get_by_test_id("stCaptionContainer").all()]


def _wait_caption(pg, pattern: str, timeout: float = 60) -> str:
    """The first caption matching ``pattern`` (re.search), waiting for reruns to produce it."""
    deadline = time.monotonic() + timeout
    while True:
        found = [t for t in _captions(pg) if re.search(pattern, t)]
        if found:
            return found[0]
        if time.monotonic() > deadline:
            raise AssertionError(f"no caption matches {pattern!r}; captions: {_captions(pg)[:8]}")
        pg.wait_for_timeout(200)


def _open(pg, name: str) -> None:
    pg.get_by_test_id("stSidebar").get_by_text(name, exact=True).click()
    pg.get_by_role("heading", name=name).wait_for()
    _idle(pg)


def test_search_pick_a_frame_click_a_result(page, server, tmp_path):
    pg = page
    pg.goto(f"{server}/?page=Search&group=frame")  # single frames, not moments (a shared link's form)
    pg.get_by_role("heading", name="Search").wait_for()
    _idle(pg)
    pg.get_by_text("nearest frames").wait_for()
    # pick a frame from the thumbnail strip of the first video (astronaut, 30 frames)
    pg.get_by_role("button", name="#12", exact=True).click()
    query = pg.get_by_text(re.compile(r"Query: astronaut_0\.mp4 · frame 12 "))
    query.wait_for()
    _idle(pg)
    _wait_caption(pg, r"^1\. astronaut_0\.mp4 \(astronaut\) · 00:00:01\.200 \(1\.200 s\) · frame 12 · shot \d · d=0\.0000")
    # results from other videos only, then click the third and search from it
    pg.get_by_text("Exclude the query's video").click()
    _wait_caption(pg, r"^1\. (?!astronaut_0)")
    _idle(pg)
    third = _wait_caption(pg, r"^3\. ")
    m = re.match(r"3\. (\S+) \((\w+)\) · [\d:.]+ \([\d.]+ s\) · frame (\d+)", third)
    assert m and m.group(1) != "astronaut_0.mp4", third
    _shot(pg, tmp_path, "search_before_click.png", publish=False)
    pg.get_by_role("button", name="Search from here").nth(2).click()
    pg.get_by_text(re.compile(rf"Query: {re.escape(m.group(1))} · frame {m.group(3)} ")).wait_for()
    _idle(pg)
    pg.get_by_text("Exclude the query's video").click()  # the query itself comes first again
    _idle(pg)
    _wait_caption(pg, rf"^1\. {re.escape(m.group(1))} .* frame {m.group(3)} · .*d=0\.0000")
    pg.get_by_role("button", name="▶ Play").nth(1).click()
    pg.locator("video").first.wait_for()
    _idle(pg)
    assert _shot(pg, tmp_path, "search.png").stat().st_size > 10_000


def test_search_shows_moment_cards_and_plays_one(page, tmp_path):
    pg = page
    _open(pg, "Search")
    pg.get_by_text("nearest moments (segments)").wait_for()
    pg.get_by_role("button", name="#12", exact=True).click()
    _idle(pg)
    # one card per moment: the query's own shot first, from its start to its end
    first = _wait_caption(pg, r"^1\. astronaut_0\.mp4 \(astronaut\) · 00:00:\d\d\.\d{3}–00:00:\d\d\.\d{3} \([\d.]+ s\) · \d+ hits · best frame 12 · d=0\.0000")
    start = re.search(r"· (00:00:\d\d\.\d{3})–", first).group(1)
    pg.get_by_role("button", name="▶ Play from start").first.click()
    pg.get_by_text(f"▶ astronaut_0.mp4 from {start}").wait_for()
    pg.locator("video").first.wait_for()
    _idle(pg)
    assert _shot(pg, tmp_path, "search_moments.png").stat().st_size > 10_000


def test_a_shared_link_reopens_the_query_and_follows_it(server, browser_ws):
    from vidsift.services.indexes import load_workspace_index

    cols = load_workspace_index(browser_ws, "pixels").columns
    astro = next(v for v in cols.videos if "astronaut" in str(cols.path[list(cols.codes).index(cols.code_of[v])]))
    with _fresh_page() as pg:
        pg.goto(f"{server}/?page=Search&emb=pixels&video={astro}&frame=12&k=5&group=frame")
        pg.get_by_text(re.compile(r"Query: astronaut_0\.mp4 · frame 12 ")).wait_for()
        _idle(pg)
        assert len([c for c in _captions(pg) if re.match(r"^\d+\. ", c)]) == 5
        pg.get_by_role("button", name="#4", exact=True).click()
        pg.get_by_text(re.compile(r"Query: astronaut_0\.mp4 · frame 4 ")).wait_for()
        _idle(pg)
        pg.wait_for_function("() => window.location.search.includes('frame=4')")
        assert "k=5" in pg.url and "group=frame" in pg.url and f"video={astro}" in pg.url


def test_duplicates_side_by_side(dup_server, tmp_path):
    with _fresh_page(1500) as pg:
        pg.goto(f"{dup_server}/?page=Duplicates&pair=2")
        pg.get_by_role("heading", name="Duplicates").wait_for()
        pg.get_by_text(re.compile(r"^3 pairs \(threshold 0\.35")).wait_for()
        _idle(pg)
        a = _wait_caption(pg, r"^A: astronaut-\w+\.mp4 · 00:00:")
        b = _wait_caption(pg, r"^B: astronaut-\w+\.mp4 · 00:00:")
        assert a != b
        pg.locator("video").nth(1).wait_for()  # the players render after the captions
        assert pg.locator("video").count() == 2  # the two ranges, side by side
        assert _shot(pg, tmp_path, "duplicates.png").stat().st_size > 10_000


def test_discover_map_and_lasso(page, tmp_path):
    pg = page
    _open(pg, "Discover")
    pg.get_by_role("button", name="Run discovery").click()
    pg.get_by_text(re.compile(r"\d+ clusters of 120 frames")).wait_for(timeout=300_000)
    _idle(pg)
    pg.get_by_text("H(label | cluster), bits").wait_for()
    pg.get_by_role("tab", name="2-D map").click()
    plot = pg.locator(".js-plotly-plot").last
    plot.wait_for()
    plot.scroll_into_view_if_needed()
    pg.wait_for_timeout(1000)
    # lasso around the whole plot area: every point is selected and shown
    box = pg.locator(".js-plotly-plot .nsewdrag").last.bounding_box()
    assert box is not None
    x0, y0, x1, y1 = box["x"] + 3, box["y"] + 3, box["x"] + box["width"] - 3, box["y"] + box["height"] - 3
    pg.mouse.move(x0, y0)
    pg.mouse.down()
    for x, y in ((x1, y0), (x1, y1), (x0, y1), (x0, y0 + 5)):
        pg.mouse.move(x, y, steps=8)
    pg.mouse.up()
    pg.get_by_text("120 frames selected").wait_for()
    _idle(pg)
    pg.get_by_role("tab", name="2-D map").scroll_into_view_if_needed()
    assert _shot(pg, tmp_path, "discover.png").stat().st_size > 10_000


def test_two_sessions_search_at_once(server):
    """Two tabs (two Streamlit sessions) search different frames at the same time; each keeps its own
    query and results."""
    with sync_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=LAUNCH_ARGS)
        try:
            pages = []
            for _ in range(2):
                pg = browser.new_page(viewport={"width": 1400, "height": 1700})
                pg.set_default_timeout(60_000)
                pg.goto(server)
                pg.get_by_test_id("stSidebar").get_by_text("Library", exact=True).wait_for()
                pg.goto(f"{server}/?page=Search&group=frame")
                pg.get_by_text("nearest frames").wait_for()
                pages.append(pg)
            # click both without waiting in between, so the two script runs overlap on the server
            pages[0].get_by_role("button", name="#4", exact=True).click()
            pages[1].get_by_role("button", name="#21", exact=True).click()
            for pg, frame in zip(pages, (4, 21), strict=True):
                pg.get_by_text(re.compile(rf"Query: astronaut_0\.mp4 · frame {frame} ")).wait_for()
                _idle(pg)
                _wait_caption(pg, rf"^1\. astronaut_0\.mp4 \(astronaut\) · [\d:.]+ \([\d.]+ s\) · frame {frame} · .*d=0\.0000")
        finally:
            browser.close()

"""`vidsift reproduce --quick` end to end: every table and plot of the results page appears."""

from __future__ import annotations

import re


def test_reproduce_quick(tmp_path, cli):
    out = tmp_path / "results"
    r = cli("reproduce", "--quick", "--out", out, "-w", tmp_path / "ws", "--json")
    assert r.code == 0, r
    assert "connected components" not in r.err  # each table's K is fixed: nothing to act on
    md = (tmp_path / "results.md").read_text()
    assert md.startswith("# Reproduction") and "vidsift reproduce --quick" in md
    for n in range(1, 8):
        assert re.search(rf"^## {n}\. ", md, re.M), f"section {n} missing"
    for png in ("temporal_pr_scenes.png", "umap_quadruplet_fc6.png"):
        assert (out / png).stat().st_size > 1000
    # every table row carries numbers, and RANDOM stays the worst in the discovery table
    table = md.split("## 2.")[1].split("## 3.")[0]
    rand = float(re.search(r"\| RANDOM \| – \| ([0-9.]+)", table).group(1))
    rows = [
        ln for ln in table.splitlines() if ln.startswith("| ") and not ln.startswith("| RANDOM")
    ]
    ces = [float(x) for x in re.findall(r"\| (?:fc6|fc7|–) \| ([0-9.]+) ±", "\n".join(rows))]
    assert ces and max(ces) < rand
    assert "1.8e-05" in md
    assert md.count("**Verdict.**") == 7
    held = md.split("## 7.")[1]
    assert "| pixels |" in held and "InfoNCE pool, trained" in held and "Held out: " in held


# -- rows -> verdicts and markdown, without training --------------------------------------------


def _video_retrieval(ours: float, init: float, what: str = "class"):
    from vidsift.reproduce.c3d import RANDOM_INIT, TRAINED, VideoRetrieval, VideoRow

    ce = {"mean": 0.5, "std": 0.1}
    return VideoRetrieval(
        what,
        (VideoRow(RANDOM_INIT, init, ce), VideoRow(TRAINED, ours, ce)),
        0.25,
        {"mean": 1.0, "std": 0.0},
    )


def test_c3d_verdict_needs_a_margin_over_init_and_chance():
    from vidsift.reproduce import verdicts
    from vidsift.reproduce.c3d import C3DResults, PairMiningCost

    r = C3DResults(
        _video_retrieval(0.9, 0.3), _video_retrieval(0.32, 0.3), PairMiningCost(2e-6, 3e-6)
    )
    v = verdicts.c3d(r)
    assert "supported on moving shapes" in v and "not supported on moving shapes" not in v
    assert "not supported on drift videos" in v and "same order" in v


def test_rendered_tables_have_as_many_header_cells_as_delimiter_cells():
    from vidsift.reproduce import render
    from vidsift.reproduce.c3d import C3DResults, PairMiningCost

    md = render.c3d(
        C3DResults(
            _video_retrieval(0.9, 0.3), _video_retrieval(0.5, 0.3), PairMiningCost(2e-6, 3e-6)
        ),
        "results",
    )
    lines = md.splitlines()
    cells = lambda line: len(re.split(r"(?<!\\)\|", line.strip().strip("|")))  # noqa: E731
    tables = [i for i, ln in enumerate(lines) if ln.startswith("|---")]
    assert len(tables) == 2
    for i in tables:
        assert cells(lines[i - 1]) == cells(lines[i]) == cells(lines[i + 1]) == 3, lines[i - 1]


def test_redondo_verdict_counts_rows_from_the_table():
    from vidsift.reproduce import verdicts
    from vidsift.reproduce.redondo import Discovery, DiscoveryRow

    def row(label, layer, km, sc):
        return DiscoveryRow(label, layer, {"mean": km, "std": 0.0}, {"mean": sc, "std": 0.0})

    rows = (
        row("pixels", None, 0.9, 0.9),
        row("SFA / DrLIM", "fc6", 0.6, 0.5),
        row("SFA / DrLIM", "fc7", 0.7, 0.8),
        row("Siamese Ls", "fc6", 0.5, 0.4),
        row("Siamese Ls", "fc7", 0.4, 0.4),
        row("Quadruplet Lq", "fc6", 0.3, 0.2),
        row("Quadruplet Lq", "fc7", 0.35, 0.3),
    )
    v = verdicts.redondo(Discovery(3, 2, rows, {"mean": 1.2, "std": 0.1}, "umap.png"))
    assert v.startswith("Lq fc6 (K-means) 0.300 vs SFA 0.600 and Ls 0.500: supported")
    # spectral <= K-means in all 6 trained rows but SFA fc7; fc6 < fc7 in 4 of the 6 (row, algorithm) pairs
    assert "spectral ≤ K-means in 5 of 6 rows; fc6 better than fc7 in 4 of 6" in v
    assert "every embedding is below RANDOM (1.200)" in v


def test_heldout_verdict_reads_held_out_columns_only():
    from vidsift.reproduce import render, verdicts
    from vidsift.reproduce.heldout import Heldout, HeldoutRow

    def ms(v):
        return {"mean": v, "std": 0.01}

    def held(h, pr):
        return {"h_kmeans": ms(h), "h_spectral": None, "tpr_scenes": ms(0.9), "tpr_real": ms(pr)}

    rows = (
        HeldoutRow("pixels", None, "baseline", ms(1.0), ms(0.9), held(1.5, 0.65), held(1.4, 0.6)),
        HeldoutRow("A, random init", "a", "init", None, None, held(1.2, 0.60), held(1.2, 0.6)),
        # in-sample it is excellent, held out it is worse than pixels: the verdict must say so
        HeldoutRow("A, trained", "a", "trained", ms(0.1), ms(0.99), held(1.6, 0.70), held(1.6, 0.7)),
        HeldoutRow("B, random init", "b", "init", None, None, held(1.4, 0.60), held(1.4, 0.6)),
        HeldoutRow("B, trained", "b", "trained", ms(1.0), ms(0.9), held(1.0, 0.70), held(1.0, 0.7)),
    )
    r = Heldout(3, 6, rows)
    v = verdicts.heldout(r)
    assert "A: H(photo | cluster) 1.600 vs pixels 1.500, init 1.200: beats neither" in v
    assert "real-footage PR AUC 0.700 vs pixels 0.650, init 0.600: beats pixels and its random init" in v
    assert "B: H(photo | cluster) 1.000 vs pixels 1.500, init 1.400: beats pixels and its random init" in v
    md = render.heldout(r, "results")
    lines = md.splitlines()
    cells = lambda line: len(re.split(r"(?<!\\)\|", line.strip().strip("|")))  # noqa: E731
    i = next(i for i, ln in enumerate(lines) if ln.startswith("|---"))
    assert cells(lines[i - 1]) == cells(lines[i]) == cells(lines[i + 1]) == 8

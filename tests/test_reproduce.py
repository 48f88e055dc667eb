"""`vidsift reproduce --quick` end to end: every table and plot of the results page appears."""

from __future__ import annotations

import re


def test_reproduce_quick(tmp_path, cli):
    out = tmp_path / "results"
    r = cli("reproduce", "--quick", "--out", out, "-w", tmp_path / "ws", "--json")
    assert r.code == 0, r
    md = (tmp_path / "results.md").read_text()
    assert md.startswith("# Reproduction") and "vidsift reproduce --quick" in md
    for n in range(1, 7):
        assert re.search(rf"^## {n}\. ", md, re.M), f"section {n} missing"
    for png in ("temporal_pr_scenes.png", "umap_quadruplet_fc6.png"):
        assert (out / png).stat().st_size > 1000
    # every table row carries numbers, and RANDOM stays the worst in the discovery table
    table = md.split("## 2.")[1].split("## 3.")[0]
    rand = float(re.search(r"\| RANDOM \| – \| ([0-9.]+)", table).group(1))
    rows = [ln for ln in table.splitlines() if ln.startswith("| ") and not ln.startswith("| RANDOM")]
    ces = [float(x) for x in re.findall(r"\| (?:fc6|fc7|–) \| ([0-9.]+) ±", "\n".join(rows))]
    assert ces and max(ces) < rand
    assert "1.8e-05" in md
    assert md.count("**Verdict.**") == 6

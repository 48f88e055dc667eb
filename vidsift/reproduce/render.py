"""The only place that turns the sections' rows into markdown: the page ``docs/results.md``,
its header and, per section, the title, the paper's claim, the tables, the verdict and the notes.
Plots are written by the sections; here they are only linked (``plot_dir/<file>``)."""

from __future__ import annotations

from vidsift.reproduce.c3d import PAPER_S_PER_PAIR, C3DResults, VideoRetrieval
from vidsift.reproduce.heldout import Heldout
from vidsift.reproduce.redondo import Discovery
from vidsift.reproduce.settings import Settings
from vidsift.reproduce.slow_ae import TemporalCoherence
from vidsift.reproduce.transfer import Transfer
from vidsift.reproduce.triplet import Retrieval
from vidsift.reproduce.ul import RotatingPoints

#: section key -> (title, claim, notes)
HEADINGS: dict[str, tuple[str, str, str]] = {
    "goroshin": (
        "1. Slow-feature pooling auto-encoder (Goroshin et al. 2015): temporal coherence",
        "Claim: layer features (especially with slowness, β > 0) give higher temporal precision-recall AUC than raw and ZCA pixels.",
        "Notes: raw pixels are a strong baseline on 64x64 scenes whose shots differ globally; the slow AE (cpu preset: squared reconstruction, unit-variance ZCA, β = 0.5; docs/training.md says why) comes close to them but not above, and its slowness term makes no clear difference. Real footage has few, long shots, so every AUC there is low.",
    ),
    "redondo": (
        "2. Siamese Ls / Quadruplet Lq (Redondo-Cabrera et al.): discovery by clustering",
        "Claim: Lq < SFA, Ls in conditional entropy; spectral ≤ K-means; fc6 better than fc7; all far below RANDOM.",
        "Notes: the MU variant takes negatives from any frame, including frames of the same scene, so it separates scenes less; the random-init network is a strong baseline at this size.",
    ),
    "wang": (
        "3. Triplet ranking with hard negatives (Wang & Gupta 2015): retrieval",
        "Claim: hard-negative mining improves on random negatives, both on random init.",
        "Notes: positives come from a simple block-matching patch tracker, not SURF+IDT+KCF; hard-negative mining starts halfway through training (the paper's schedule).",
    ),
    "paul": (
        "4. C3D Siamese with randomised pair mining (Paul et al. 2018)",
        "Claim: the Siamese C3D beats random init for video retrieval; mining costs 1.8e-5 s per pair.",
        "Notes: the pair task can be solved from per-video appearance (background texture, shape colour), and the concatenation head, not the cosine distance of features, is what is trained, so features need not cluster by class. On the drift videos same-video pairs and the label agree (two clips of a video share only their motion); there the tiny network learns on five of six seeds (docs/c3d_ul.md, `tests/training/test_c3d.py`).",
    ),
    "ul": (
        "5. Unsupervised-learning layers: rotating points",
        "Claim: FC + UL layer encodes the rotation angle within 10 epochs and degrades smoothly with noise.",
        "Notes: at 0 % noise any linear map decodes the angle exactly, so that row is zero for every method.",
    ),
    "transfer": (
        "6. Transfer: linear probe and similarity (Redondo-Cabrera tables 4-6, Paul table 3)",
        "Claim: unsupervised features beat random init when few labels are available.",
        "Notes: one labelled video per scene, few test videos: the standard deviations are large; the fine-tuning rows are one split (seed 0). More seeds in docs/transfer.md.",
    ),
    "heldout": (
        "7. In-sample vs held-out: unseen videos of unseen photos, and real footage (issue #19)",
        "Claim (design decision 10): a trained encoder earns its place only if it beats raw pixels and its own random init on videos AND subjects it never saw.",
        "Notes: in-sample = the videos each run trained on (the scene videos, K = number of scenes; for C3D the shape-motion videos, K = their classes); pixels and the random inits are scored on the same held-out sets; held-out = twelve other photos (`video.synthetic.heldout`), new camera paths per seed, K = 12, plus bikes.mp4 and cityCC0.mpg (known shots). Whitened: centring + PCA-whitening to 64 dims fitted per set (Jégou & Chum 2012; defaults chosen in-sample). More seeds and methods: `python -m bench.heldout`, docs/generalisation.md.",
    ),
}


def title(key: str) -> str:
    return HEADINGS[key][0]


def _fmt(ms: dict[str, float] | None, digits: int = 3) -> str:
    """``mean ± std``, or ``–`` for a missing value."""
    if ms is None:
        return "–"
    return f"{ms['mean']:.{digits}f} ± {ms['std']:.{digits}f}"


# -- section bodies ---------------------------------------------------------------------------


def slow_ae(r: TemporalCoherence, plot_dir: str) -> str:
    lines = [
        "| embedding | " + " | ".join(f"AUC ({d})" for d in r.datasets) + " |",
        "|---|" + "---|" * len(r.datasets),
    ]
    lines += [
        f"| {row.label} | " + " | ".join(f"{row.auc[d]:.3f}" for d in r.datasets) + " |"
        for row in r.rows
    ]
    lines.append(
        "| RANDOM ranking | " + " | ".join(f"{r.random_auc[d]:.3f}" for d in r.datasets) + " |"
    )
    imgs = " ".join(f"![temporal PR {d}]({plot_dir}/{r.plots[d]})" for d in r.datasets)
    return "\n".join(lines) + "\n\n" + imgs


def redondo(r: Discovery, plot_dir: str) -> str:
    lines = [
        f"K = {r.k} scenes, {r.repeats} runs each, H(scene | cluster) in bits (lower is better).",
        "",
        "| embedding | layer | K-means | spectral |",
        "|---|---|---|---|",
    ]
    lines += [
        f"| {row.label} | {row.layer or '–'} | {_fmt(row.kmeans)} | {_fmt(row.spectral)} |"
        for row in r.rows
    ]
    lines.append(f"| RANDOM | – | {_fmt(r.random)} | {_fmt(r.random)} |")
    return "\n".join(lines) + f"\n\n![UMAP of Lq fc6]({plot_dir}/{r.plot})"


def triplet(r: Retrieval, plot_dir: str) -> str:
    lines = [
        f"Retrieval rate@{r.k}: share of the top {r.k} (cosine, frames of other videos) showing the query's scene.",
        "",
        f"| embedding | rate@{r.k} | RANDOM |",
        "|---|---|---|",
    ]
    lines += [f"| {row.label} | {row.rate:.3f} | {_fmt(row.random)} |" for row in r.rows]
    return "\n".join(lines)


def _video_retrieval(r: VideoRetrieval) -> list[str]:
    # the | inside "H(class | cluster)" is escaped: an unescaped one splits the header into four
    # cells against three in the delimiter row, and the table is not rendered at all
    lines = [
        f"Video-level: mean of fc7 features of 10 random s-t volumes per video; label = {r.what}.",
        "",
        "| network | NN retrieval accuracy | K-means H(class \\| cluster) |",
        "|---|---|---|",
    ]
    lines += [f"| {row.label} | {row.accuracy:.3f} | {_fmt(row.entropy)} |" for row in r.rows]
    lines.append(f"| chance / RANDOM | {r.chance:.3f} | {_fmt(r.random)} |")
    return lines


def c3d(r: C3DResults, plot_dir: str) -> str:
    lines = ["**Moving shapes** (the `cpu` preset; shape and colour fixed per video).", ""]
    lines += _video_retrieval(r.shapes)
    lines += [
        "",
        "**Drift videos** (`vidsift sample make drift`: grey pans whose only class cue is the direction of "
        "motion; the tiny network of the evidence test, batches of 20, lr 1e-3, no weight decay).",
        "",
    ]
    lines += _video_retrieval(r.drift)
    lines += [
        "",
        f"Seconds per mined pair (indices and transform parameters, 16x112x112 volumes, 1000 videos): "
        f"{r.mining.cpu_s:.2e} s CPU ({r.mining.wall_s:.2e} s wall) vs the paper's {PAPER_S_PER_PAIR:.1e} s.",
    ]
    return "\n".join(lines)


def ul(r: RotatingPoints, plot_dir: str) -> str:
    lines = [
        f"Angle decoding error (mean absolute error of sin/cos by linear regression, test half), "
        f"{r.noise * 100:.0f} % noise:",
        "",
        "| epoch | test error | weight angle to top-2 PCs |",
        "|---|---|---|",
    ]
    lines += [
        f"| {row.epoch} | {row.test_error:.4f} | {row.weight_angle:.1f}° |" for row in r.per_epoch
    ]
    lines += [
        "",
        f"After {r.epochs} epochs vs noise:",
        "",
        "| noise | UL | random init | PCA-2 | closed form |",
        "|---|---|---|---|---|",
    ]
    lines += [
        f"| {row.noise:.0%} | {row.ul:.4f} | {row.random_init:.4f} | {row.pca:.4f} | {row.closed_form:.4f} |"
        for row in r.per_noise
    ]
    return "\n".join(lines)


def transfer(r: Transfer, plot_dir: str) -> str:
    lines = [
        "Frozen features, 1 labelled video per scene for training, the rest for testing (split by video); "
        "similarity: same-scene vs other-scene video pairs, cosine distance of mean features.",
        "",
        "| embedding | probe logreg (video) | probe 1-NN (frame) | similarity ROC AUC |",
        "|---|---|---|---|",
    ]
    lines += [
        f"| {row.label} | {_fmt(row.logreg_video)} | {_fmt(row.knn1_frame)} | {row.similarity_auc:.3f} |"
        for row in r.probe
    ]
    if r.chance is not None:
        lines.append(f"| chance | {r.chance:.3f} | | 0.5 |")
    lines += [
        "",
        f"Fine-tuning the whole network + a linear head ({r.epochs} epochs, 1 labelled video per scene, "
        "same split, same steps and data order for both rows; video-level accuracy by vote):",
        "",
        "| initialisation | Siamese Ls | Quadruplet Lq |",
        "|---|---|---|",
    ]
    lines.append(
        "| unsupervised checkpoint | "
        + " | ".join(f"{row.pretrained:.3f}" for row in r.finetune)
        + " |"
    )
    lines.append(
        "| random init | " + " | ".join(f"{row.random_init:.3f}" for row in r.finetune) + " |"
    )
    return "\n".join(lines)


def heldout(r: Heldout, plot_dir: str) -> str:
    head = (
        "| embedding | in-sample H, K-means (K = classes) | in-sample temporal PR | held-out H, K-means (K=12) "
        "| held-out H, spectral | held-out temporal PR | real-footage temporal PR | held-out H, K-means, whitened |"
    )
    lines = [f"Every column: mean ± std over {r.seeds} training seed(s) (held-out camera seed = training seed).", "", head, "|---" * 8 + "|"]
    for row in r.rows:
        lines.append(
            f"| {row.label} | {_fmt(row.in_h)} | {_fmt(row.in_pr)} | {_fmt(row.held.get('h_kmeans'))} | "
            f"{_fmt(row.held.get('h_spectral'))} | {_fmt(row.held.get('tpr_scenes'))} | "
            f"{_fmt(row.held.get('tpr_real'))} | {_fmt(row.held_white.get('h_kmeans'))} |"
        )
    return "\n".join(lines) + "\n"


# -- the page ---------------------------------------------------------------------------------


def section(key: str, body: str, verdict: str) -> str:
    head, claim, note = HEADINGS[key]
    return (
        f"## {head}\n\n{claim}\n\n{body}\n"
        + (f"\n**Verdict.** {verdict}\n" if verdict else "")
        + f"\n{note}\n"
    )


def header(
    settings: Settings,
    *,
    command: str,
    commit: str,
    date: str,
    minutes: float,
    seed: int,
    quick: bool,
    trained: int,
    runs: int,
    drift_batch: int,
) -> str:
    s = settings
    return (
        f"# Reproduction of the seed papers on vidsift's data\n\n"
        f"Generated by `{command}` at commit `{commit}` on {date} "
        f"({minutes:.1f} min, seed {seed}, {'quick' if quick else 'cpu'} settings; {trained} of {runs} "
        f"training runs done in this invocation, the rest and any finished embeddings reused from the workspace).\n\n"
        f"Data: {len(s.scenes)} scenes x {s.videos_per_scene} videos x {s.shots_per_video} shots "
        f"({s.size[0]}x{s.size[1]}, camera motion, noise, illumination change); "
        f"{len(s.shapes) * len(s.motions)} shape-motion classes x {s.videos_per_class} videos; "
        f"5 drift directions x {s.drift_per_class} videos (24x24, 32 frames)"
        + ("; bikes.mp4, cityCC0.mpg, carphone and bigbuckbunny for temporal PR" if s.real else "")
        + f". Training: `cpu` presets, {s.steps} steps ({s.c3d_steps} for C3D; the tiny C3D on drift "
        f"videos {s.drift_steps} steps of {drift_batch} pairs), unsupervised, on the same videos.\n"
    )


def page(header_md: str, sections: list[str]) -> str:
    return header_md + "\n" + "\n".join(sections)

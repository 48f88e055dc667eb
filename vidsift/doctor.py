"""What this installation can do: versions, video back-ends, FAISS GPU, CUDA, Ray.

Fast by design (it used to import every optional package: ~14 s with torch, torchvision, umap
and ray): versions come from the installed distributions' metadata, and torch / faiss are
imported only when an NVIDIA driver is present, since without one neither can see a GPU.
"""

from __future__ import annotations

import ctypes.util
import importlib.metadata
import importlib.util
import platform
from pathlib import Path
from typing import Any

# module -> the distributions that may install it (first installed one wins)
DISTRIBUTIONS: dict[str, tuple[str, ...]] = {
    "numpy": ("numpy",),
    "torch": ("torch",),
    "torchvision": ("torchvision",),
    "faiss": ("faiss-cpu", "faiss-gpu", "faiss-gpu-cu12", "faiss-gpu-cu11", "faiss"),
    "av": ("av",),
    "decord": ("decord", "decord2", "eva-decord"),
    "sklearn": ("scikit-learn",),
    "streamlit": ("streamlit",),
    "umap": ("umap-learn",),
    "pyarrow": ("pyarrow",),
    "ray": ("ray",),
    "pyamg": ("pyamg",),
}


def _version(module: str) -> str | None:
    """Installed version of ``module`` without importing it; None when it is not installed."""
    try:
        if importlib.util.find_spec(module) is None:
            return None
    except (ImportError, ValueError):
        return None
    for dist in DISTRIBUTIONS.get(module, (module,)):
        try:
            return importlib.metadata.version(dist)
        except importlib.metadata.PackageNotFoundError:
            continue
    return "installed"


def nvidia_driver() -> bool:
    """Whether an NVIDIA driver is loaded (CUDA needs one): cheap, imports nothing heavy."""
    return Path("/proc/driver/nvidia/version").exists() or ctypes.util.find_library("cuda") is not None


def doctor_report() -> dict[str, Any]:
    import vidsift
    from vidsift.video.backends import BACKENDS, UNAVAILABLE

    packages = {m: _version(m) for m in DISTRIBUTIONS}
    report: dict[str, Any] = {
        "vidsift": vidsift.__version__,
        "python": platform.python_version(),
        "platform": platform.platform(),
        "packages": packages,
        "video_backends": sorted(BACKENDS),
        "video_backends_missing": UNAVAILABLE,
        "cuda": False,
        "cuda_devices": 0,
        "faiss_gpu": False,
    }
    driver = nvidia_driver()
    if driver and packages["torch"] is not None:
        try:
            import torch

            report["cuda"] = bool(torch.cuda.is_available())
            report["cuda_devices"] = torch.cuda.device_count() if report["cuda"] else 0
        except Exception:  # noqa: BLE001 - a broken torch install means no CUDA
            pass
    if driver and packages["faiss"] is not None:
        try:
            import faiss

            report["faiss_gpu"] = bool(hasattr(faiss, "get_num_gpus") and faiss.get_num_gpus() > 0)
        except Exception:  # noqa: BLE001
            pass
    report["ray"] = packages["ray"] is not None
    return report

"""What this installation can do: versions, video back-ends, FAISS GPU, CUDA, Ray."""

from __future__ import annotations

import importlib
import platform
from typing import Any


def _version(module: str) -> str | None:
    try:
        mod = importlib.import_module(module)
    except Exception:  # noqa: BLE001 - any import failure means "not available"
        return None
    return str(getattr(mod, "__version__", "installed"))


def doctor_report() -> dict[str, Any]:
    import vidsift
    from vidsift.video.backends import BACKENDS, UNAVAILABLE

    report: dict[str, Any] = {
        "vidsift": vidsift.__version__,
        "python": platform.python_version(),
        "platform": platform.platform(),
        "packages": {m: _version(m) for m in ("numpy", "torch", "torchvision", "faiss", "av", "decord", "sklearn", "streamlit", "umap", "pyarrow", "ray", "pyamg")},
        "video_backends": sorted(BACKENDS),
        "video_backends_missing": UNAVAILABLE,
    }
    try:
        import torch

        report["cuda"] = bool(torch.cuda.is_available())
        report["cuda_devices"] = torch.cuda.device_count() if report["cuda"] else 0
    except ImportError:
        report["cuda"] = False
        report["cuda_devices"] = 0
    try:
        import faiss

        report["faiss_gpu"] = bool(hasattr(faiss, "get_num_gpus") and faiss.get_num_gpus() > 0)
    except ImportError:
        report["faiss_gpu"] = False
    report["ray"] = report["packages"]["ray"] is not None
    return report

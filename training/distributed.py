"""Multi-GPU / multi-node training through ``torchrun`` and DistributedDataParallel.

``torchrun --nproc_per_node N -m vidsift train ...`` (or any launcher that sets ``RANK``,
``WORLD_SIZE``, ``LOCAL_RANK``, ``MASTER_ADDR``, ``MASTER_PORT``) makes ``init_distributed`` join
the process group: NCCL with one GPU per process on CUDA, gloo on CPU. Without those variables
(or WORLD_SIZE=1) training runs in the plain single-process way.

Data: every rank draws its own batches from the shared seeded stream (the rank is part of each
batch's seed, see ``training.data.samplers.batch_rng``) with ``batch_size // world_size``
samples, the DistributedSampler equivalent for infinite streams. Only rank 0 writes files.
"""

from __future__ import annotations

import os
import warnings
from dataclasses import dataclass

import torch
import torch.distributed as dist
from torch import nn


@dataclass(frozen=True)
class DistInfo:
    rank: int = 0
    world_size: int = 1
    local_rank: int = 0
    device: torch.device = torch.device("cpu")
    initialized_here: bool = False

    @property
    def is_main(self) -> bool:
        return self.rank == 0

    @property
    def enabled(self) -> bool:
        return self.world_size > 1


def default_device(local_rank: int = 0) -> torch.device:
    if torch.cuda.is_available():
        return torch.device("cuda", local_rank % torch.cuda.device_count())
    return torch.device("cpu")


def init_distributed(device: str | torch.device | None = None) -> DistInfo:
    """Join the process group described by torchrun's environment variables, if any."""
    world = int(os.environ.get("WORLD_SIZE", "1"))
    rank = int(os.environ.get("RANK", "0"))
    local_rank = int(os.environ.get("LOCAL_RANK", str(rank)))
    dev = torch.device(device) if device is not None else default_device(local_rank)
    if world <= 1:
        return DistInfo(device=dev)
    if dev.type == "cuda":
        torch.cuda.set_device(dev)
    initialized_here = False
    if not dist.is_initialized():
        backend = "nccl" if dev.type == "cuda" else "gloo"
        local_world = int(os.environ.get("LOCAL_WORLD_SIZE", str(world)))
        if dev.type == "cuda" and local_world > torch.cuda.device_count():
            # NCCL refuses two ranks on one GPU ("Duplicate GPU detected"); gloo shares it
            backend = "gloo"
            if rank == 0:
                warnings.warn(
                    f"{local_world} ranks share {torch.cuda.device_count()} GPU(s): the process "
                    "group uses gloo, which is slower than NCCL; start torchrun with "
                    f"--nproc_per_node {torch.cuda.device_count()} for one rank per GPU",
                    stacklevel=2,
                )
        dist.init_process_group(backend=backend, rank=rank, world_size=world)
        initialized_here = True
    return DistInfo(rank, world, local_rank, dev, initialized_here)


def cleanup(info: DistInfo) -> None:
    if info.initialized_here and dist.is_initialized():
        dist.destroy_process_group()


def wrap_model(model: nn.Module, info: DistInfo, find_unused_parameters: bool = False) -> nn.Module:
    """DDP around ``model`` when running distributed (gradients averaged across ranks)."""
    if not info.enabled:
        return model
    from torch.nn.parallel import DistributedDataParallel as DDP

    ids = [info.device.index] if info.device.type == "cuda" else None
    return DDP(model, device_ids=ids, find_unused_parameters=find_unused_parameters)


def mean_across_ranks(value: float, info: DistInfo) -> float:
    if not info.enabled:
        return value
    t = torch.tensor([value], dtype=torch.float64, device=info.device)
    dist.all_reduce(t)
    return float(t.item()) / info.world_size


def barrier(info: DistInfo) -> None:
    if info.enabled:
        dist.barrier()

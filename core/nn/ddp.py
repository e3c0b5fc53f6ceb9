"""Distributed data parallel helpers. ``torchrun --nproc_per_node N -m core.cli train ...`` sets the
environment (RANK, WORLD_SIZE, LOCAL_RANK, MASTER_ADDR/PORT) that these read; without it everything
runs as a single process."""
from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Any

import torch
import torch.distributed as dist


@dataclass(frozen=True)
class DistInfo:
    rank: int = 0
    world: int = 1
    local_rank: int = 0

    @property
    def enabled(self) -> bool:
        return self.world > 1

    @property
    def main(self) -> bool:
        return self.rank == 0


def env_info() -> DistInfo:
    world = int(os.environ.get("WORLD_SIZE", "1"))
    if world <= 1:
        return DistInfo()
    return DistInfo(int(os.environ.get("RANK", "0")), world, int(os.environ.get("LOCAL_RANK", "0")))


def init(device: torch.device) -> DistInfo:
    """Join the process group started by torchrun: nccl on CUDA, gloo on CPU."""
    info = env_info()
    if info.enabled and not dist.is_initialized():
        if device.type == "cuda":
            torch.cuda.set_device(device)
        dist.init_process_group("nccl" if device.type == "cuda" else "gloo")
    return info


def shutdown(finished: bool = False) -> None:
    """Leave the process group. ``finished`` (every rank ended its run): wait for the others first, so that
    rank 0, which hosts the group's store, does not exit while another still talks to it (a gloo rank was
    seen to abort at exit, "terminate called without an active exception"). Never after a failure: a rank
    that failed never reaches the barrier."""
    if dist.is_available() and dist.is_initialized():
        if finished and dist.get_world_size() > 1:
            dist.barrier()
        dist.destroy_process_group()


def any_flag(flags: list[bool], device: torch.device, info: DistInfo) -> list[bool]:
    """Per-flag OR over all ranks, so every rank takes the same branch (stop, skip) at the same step."""
    if not info.enabled:
        return flags
    t = torch.tensor([float(f) for f in flags], device=device)
    dist.all_reduce(t, op=dist.ReduceOp.MAX)
    return [bool(v) for v in t.tolist()]


def gather_objects(obj: Any, info: DistInfo) -> list[Any]:
    if not info.enabled:
        return [obj]
    out: list[Any] = [None] * info.world
    dist.all_gather_object(out, obj)
    return out


def mean_scalar(value: float, device: torch.device, info: DistInfo) -> float:
    if not info.enabled:
        return value
    t = torch.tensor([value], device=device, dtype=torch.float64)
    dist.all_reduce(t)
    return float(t.item()) / info.world


def sync_buffers(model: torch.nn.Module, info: DistInfo) -> None:
    """Rank 0's BatchNorm statistics to every rank: DDP syncs buffers before each forward, so after the
    last training step each rank holds its own; validation and the saved model use rank 0's."""
    if not info.enabled:
        return
    for b in model.buffers():
        dist.broadcast(b, 0)

"""Multi-process training helpers: process group, device choice and gradient all-reduce.

Gradients are all-reduced by hand rather than through DistributedDataParallel: an ACT step runs
the network twice (the second time without gradient, for the Q target) and the puzzle embedding
lives outside the parameters, both of which DDP's hooks handle awkwardly. One flat all-reduce per
step costs the same as DDP's buckets without overlapping, which is fine at HRM's sizes.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

import torch
import torch.distributed as dist
from torch import nn

from ..errors import ConfigError


@dataclass
class DistInfo:
    rank: int = 0
    world_size: int = 1
    local_rank: int = 0
    owns_group: bool = False  # we created the process group, so we destroy it

    @property
    def is_main(self) -> bool:
        return self.rank == 0

    @property
    def active(self) -> bool:
        return self.world_size > 1


def pick_device(name: str, local_rank: int = 0) -> torch.device:
    """``auto``: the rank's CUDA device if present, else Apple MPS, else CPU."""
    if name != "auto":
        return _named_device(name)
    if torch.cuda.is_available():
        return torch.device("cuda", local_rank % torch.cuda.device_count())
    if torch.backends.mps.is_available():
        return torch.device("mps")
    return torch.device("cpu")


def _named_device(name: str) -> torch.device:
    """A device the user named, refused at once (naming it) when unknown or not present."""
    try:
        device = torch.device(name)
    except RuntimeError:
        raise ConfigError(
            f"device {name!r} is not a device; use auto, cpu, cuda, cuda:N or mps"
        ) from None
    if device.type == "cuda":
        count = torch.cuda.device_count() if torch.cuda.is_available() else 0
        if count == 0 or (device.index or 0) >= count:
            raise ConfigError(
                f"device {name!r} asked for, but this machine has {count} CUDA GPU(s)"
            )
    elif device.type == "mps" and not torch.backends.mps.is_available():
        raise ConfigError(f"device {name!r} asked for, but MPS is not available here")
    elif device.type not in ("cpu", "cuda", "mps"):
        raise ConfigError(f"device {name!r} is not supported; use auto, cpu, cuda, cuda:N or mps")
    return device


def planned_world_size() -> int:
    """The number of processes :func:`setup` will join (a group already made, else torchrun's
    ``WORLD_SIZE``), known before joining: a bad setting can then fail before any rank waits."""
    if dist.is_available() and dist.is_initialized():
        return dist.get_world_size()
    return max(int(os.environ.get("WORLD_SIZE", "1")), 1)


def setup(device_name: str) -> tuple[DistInfo, torch.device]:
    """Join the process group torchrun describes (or one the caller already made)."""
    if dist.is_available() and dist.is_initialized():
        info = DistInfo(
            dist.get_rank(),
            dist.get_world_size(),
            int(os.environ.get("LOCAL_RANK", dist.get_rank())),
        )
        return info, pick_device(device_name, info.local_rank)
    world = int(os.environ.get("WORLD_SIZE", "1"))
    if world <= 1:
        return DistInfo(), pick_device(device_name)
    local_rank = int(os.environ.get("LOCAL_RANK", "0"))
    device = pick_device(device_name, local_rank)
    if device.type == "cuda":
        torch.cuda.set_device(device)
    dist.init_process_group(backend="nccl" if device.type == "cuda" else "gloo")
    return DistInfo(dist.get_rank(), dist.get_world_size(), local_rank, owns_group=True), device


def teardown(info: DistInfo) -> None:
    if info.owns_group and dist.is_initialized():
        dist.destroy_process_group()


def broadcast_state(module: nn.Module) -> None:
    """Make every rank start from rank 0's parameters and buffers."""
    for t in module.state_dict().values():
        dist.broadcast(t, src=0)


def all_reduce_grads(params: list[nn.Parameter]) -> None:
    """Sum gradients over ranks with one flat all-reduce (the loss is already / global batch)."""
    for p in params:  # every rank must send the same layout, used or not
        if p.grad is None:
            p.grad = torch.zeros_like(p)
    grads = [p.grad for p in params]
    if not grads:
        return
    flat = torch.cat([g.reshape(-1) for g in grads])
    dist.all_reduce(flat)
    offset = 0
    for g in grads:
        n = g.numel()
        g.copy_(flat[offset : offset + n].view_as(g))
        offset += n


def accumulation_dtype(device: torch.device) -> torch.dtype:
    """float64 for metric sums and the stablemax loss, except on MPS, which has no float64."""
    return torch.float32 if device.type == "mps" else torch.float64


def all_reduce_sums(values: dict[str, torch.Tensor], device: torch.device) -> dict[str, float]:
    """Sum a dict of scalars over ranks (metrics are kept as sums until reported)."""
    keys = sorted(values)
    # float64 on the CPU (MPS has no float64); NCCL needs the tensor on the GPU.
    flat = torch.stack([torch.as_tensor(values[k]).detach().cpu().double() for k in keys])
    if dist.is_available() and dist.is_initialized() and dist.get_world_size() > 1:
        flat = flat.to(device) if device.type == "cuda" else flat
        dist.all_reduce(flat)
    return dict(zip(keys, flat.tolist(), strict=True))

"""Optimisers: Adam-atan2 for the network, sparse sign-SGD for the puzzle-embedding table."""

from __future__ import annotations

import math
from collections.abc import Iterable

import torch
import torch.distributed as dist

from .layers import PuzzleEmbedding


class AdamAtan2(torch.optim.Optimizer):
    """Adam whose update is ``a * atan2(m_hat, b * sqrt(v_hat))`` instead of ``m_hat / (sqrt(v_hat) + eps)``.

    atan2 is bounded and scale-invariant, so there is no epsilon to tune and tiny second moments
    (common early in training or for rarely-used rows) cannot blow the update up. Weight decay is
    decoupled (AdamW style): ``p <- p * (1 - lr * wd)``.
    """

    def __init__(
        self,
        params: Iterable[torch.Tensor] | Iterable[dict],
        lr: float = 1e-4,
        betas: tuple[float, float] = (0.9, 0.95),
        weight_decay: float = 0.1,
        a: float = 1.27,
        b: float = 1.0,
    ) -> None:
        if lr < 0 or not (0 <= betas[0] < 1 and 0 <= betas[1] < 1) or weight_decay < 0:
            raise ValueError(
                f"invalid AdamAtan2 hyper-parameters lr={lr} betas={betas} wd={weight_decay}"
            )
        super().__init__(params, dict(lr=lr, betas=betas, weight_decay=weight_decay, a=a, b=b))

    @torch.no_grad()
    def step(self, closure=None):  # noqa: D102 - same contract as torch optimisers
        loss = None
        if closure is not None:
            with torch.enable_grad():
                loss = closure()
        for group in self.param_groups:
            lr, (beta1, beta2), wd = group["lr"], group["betas"], group["weight_decay"]
            a, b = group["a"], group["b"]
            for p in group["params"]:
                if p.grad is None:
                    continue
                grad = p.grad
                state = self.state[p]
                if not state:
                    state["step"] = torch.tensor(0.0)
                    state["exp_avg"] = torch.zeros_like(p, memory_format=torch.preserve_format)
                    state["exp_avg_sq"] = torch.zeros_like(p, memory_format=torch.preserve_format)
                state["step"] += 1
                t = state["step"].item()
                m, v = state["exp_avg"], state["exp_avg_sq"]
                m.lerp_(grad, 1 - beta1)
                v.mul_(beta2).addcmul_(grad, grad, value=1 - beta2)
                bias1 = 1 - beta1**t
                bias2_sqrt = math.sqrt(1 - beta2**t)
                p.mul_(1 - lr * wd)
                # atan2(m/bias1, b*sqrt(v)/bias2_sqrt) = atan2(m, b*sqrt(v)*bias1/bias2_sqrt)
                p.add_(torch.atan2(m, v.sqrt().mul_(b * bias1 / bias2_sqrt)), alpha=-lr * a)
        return loss


class SparseSignSGD(torch.optim.Optimizer):
    """Sign-SGD on the rows of a :class:`PuzzleEmbedding` that the last batch used.

    Per unique id: ``p <- p * (1 - lr * wd) - lr * sign(sum of that id's gradients)``. Rows not in
    the batch are neither decayed nor moved, and there is no per-row state, so a 1M x 512 table
    costs nothing beyond itself. Under ``torch.distributed`` the (ids, gradients) of all ranks are
    gathered first, so every rank applies the same update and the tables stay identical.
    """

    def __init__(
        self, embedding: PuzzleEmbedding, lr: float = 1e-2, weight_decay: float = 0.1
    ) -> None:
        if lr < 0 or weight_decay < 0:
            raise ValueError(f"invalid SparseSignSGD hyper-parameters lr={lr} wd={weight_decay}")
        self.embedding = embedding
        super().__init__([embedding.weights], dict(lr=lr, weight_decay=weight_decay))

    @torch.no_grad()
    def step(self, closure=None):  # noqa: D102
        emb = self.embedding
        local = emb.local_weights
        if local is None or local.grad is None:
            return None
        ids, grad = emb.local_ids.long(), local.grad
        if dist.is_available() and dist.is_initialized() and dist.get_world_size() > 1:
            ids, grad = _all_gather(ids), _all_gather(grad)
        unique, inverse = torch.unique(ids, return_inverse=True)
        summed = torch.zeros(unique.shape[0], grad.shape[1], dtype=grad.dtype, device=grad.device)
        summed.index_add_(0, inverse, grad)

        group = self.param_groups[0]
        table = emb.weights
        rows = table[unique]
        rows.mul_(1 - group["lr"] * group["weight_decay"]).add_(
            summed.sign().to(rows.dtype), alpha=-group["lr"]
        )
        table[unique] = rows
        return None

    def zero_grad(self, set_to_none: bool = True) -> None:
        """Drop the local copy: the next training forward makes a fresh one."""
        self.embedding.local_weights = None
        self.embedding.local_ids = None


def _all_gather(t: torch.Tensor) -> torch.Tensor:
    parts = [torch.empty_like(t) for _ in range(dist.get_world_size())]
    dist.all_gather(parts, t.contiguous())
    return torch.cat(parts)

"""Exponential moving average of the weights, the copy TRM evaluates and checkpoints.

After every optimiser step each trainable parameter's shadow becomes
``(1 - rate) * param + rate * shadow``. The shadow lives in a full copy of the model, so
evaluating or saving it is evaluating or saving a model; its buffers (the puzzle-embedding table,
trained by its own sparse optimiser, and the fixed initial states) are copied from the trained
model just before each use rather than averaged.
"""

from __future__ import annotations

import copy

import torch
from torch import nn


class EMA:
    def __init__(self, model: nn.Module, rate: float) -> None:
        if not 0.0 < rate < 1.0:
            raise ValueError(f"ema rate must be in (0, 1), got {rate}")
        self.rate = rate
        self.model = copy.deepcopy(model).eval()
        for p in self.model.parameters():
            p.requires_grad_(False)

    @torch.no_grad()
    def update(self, model: nn.Module) -> None:
        mu = self.rate
        for shadow, param in zip(self.model.parameters(), model.parameters(), strict=True):
            shadow.copy_((1.0 - mu) * param + mu * shadow)

    @torch.no_grad()
    def synced(self, model: nn.Module) -> nn.Module:
        """The averaged model with ``model``'s current buffers: ready to evaluate or save."""
        for mine, theirs in zip(self.model.buffers(), model.buffers(), strict=True):
            mine.copy_(theirs)
        return self.model

"""TRM (Tiny Recursive Model), HRM's successor: one small network reused for both states.

Per segment, ``h_cycles - 1`` rounds run without gradient and one with. A round is ``l_cycles``
updates ``z_L <- net(z_L, z_H + x)`` then one ``z_H <- net(z_H, z_L)``, all with the same
weights (``L_level``, ``l_layers`` blocks), so the gradient of a segment spans a whole round
rather than HRM's last two updates. Embeddings, heads and state-dict keys are HRM's (see
:class:`arcdata.hrm.model.InnerBase`); ``mixer: mlp`` is TRM's ``mlp_t``.

Shapes in comments: B batch, T tokens, L positions the blocks see, D hidden size.
"""

from __future__ import annotations

import torch

from .layers import trunc_normal_
from .model import HRMConfig, InnerBase


class TRMInner(InnerBase):
    def __init__(self, config: HRMConfig) -> None:
        super().__init__(config)
        c = config
        self.L_level = self.reasoning_module(c.l_layers)
        # Fixed, not learnt, starting states, as in HRM.
        self.register_buffer("H_init", trunc_normal_(torch.empty(c.hidden_size), 1.0).to(c.dtype))
        self.register_buffer("L_init", trunc_normal_(torch.empty(c.hidden_size), 1.0).to(c.dtype))

    def init_vectors(self) -> tuple[torch.Tensor, ...]:
        return self.H_init, self.L_init

    def round(
        self,
        z_H: torch.Tensor,
        z_L: torch.Tensor,
        x: torch.Tensor,
        rotary: tuple[torch.Tensor, torch.Tensor] | None,
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """``l_cycles`` updates of z_L from (z_L, z_H + x), then one of z_H from (z_H, z_L)."""
        for _ in range(self.config.l_cycles):
            z_L = self.L_level(z_L, z_H + x, rotary)  # (B, L, D)
        z_H = self.L_level(z_H, z_L, rotary)  # (B, L, D)
        return z_H, z_L

    def segment(
        self,
        states: tuple[torch.Tensor, ...],
        inputs: torch.Tensor,
        puzzle_identifiers: torch.Tensor,
    ) -> tuple[tuple[torch.Tensor, ...], torch.Tensor, torch.Tensor, torch.Tensor]:
        z_H, z_L = states  # (B, L, D) each
        x = self.embed(inputs, puzzle_identifiers)  # (B, L, D)
        rotary = self.positions()
        with torch.no_grad():
            for _ in range(self.config.h_cycles - 1):
                z_H, z_L = self.round(z_H, z_L, x, rotary)
        z_H, z_L = self.round(z_H, z_L, x, rotary)  # the one round under gradient
        logits, q_halt, q_continue = self.heads(z_H)
        return (z_H.detach(), z_L.detach()), logits, q_halt, q_continue

"""HRM's inner network: one ACT segment of H/L recurrence on a carried state.

One call runs ``h_cycles x l_cycles`` low-level updates and ``h_cycles`` high-level updates. Only
the last L and the last H update are under gradient (the one-step gradient approximation), so
memory does not grow with the number of cycles, and the returned state is detached so nothing
flows back across segments.

Shapes in comments: B batch, T tokens per sequence (``seq_len``), P puzzle positions
(``puzzle_emb_len``), L = P + T positions the blocks see, D ``hidden_size``, V ``vocab_size``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch
from torch import nn

from ..errors import ConfigError
from .layers import Embedding, Linear, PuzzleEmbedding, ReasoningModule, Rotary, trunc_normal_


@dataclass
class HRMConfig:
    """Every size of the model. Defaults are the reference's ~27.3M-parameter HRM ACT v1.

    ``vocab_size``, ``seq_len`` and ``num_puzzle_identifiers`` describe the dataset; the trainer
    fills them in from the stream it reads.
    """

    vocab_size: int = 12
    seq_len: int = 900
    num_puzzle_identifiers: int = 1
    puzzle_emb_ndim: int = 512  # 0 disables the prepended puzzle position(s)
    hidden_size: int = 512
    num_heads: int = 8
    expansion: float = 4.0
    h_layers: int = 4
    l_layers: int = 4
    h_cycles: int = 2
    l_cycles: int = 2
    pos_encodings: str = "rope"  # "rope" or "learned"
    rope_theta: float = 10000.0
    rms_norm_eps: float = 1e-5
    halt_max_steps: int = 16
    halt_exploration_prob: float = 0.1

    def __post_init__(self) -> None:
        if self.pos_encodings not in ("rope", "learned"):
            raise ConfigError(
                f"model.pos_encodings must be 'rope' or 'learned', not {self.pos_encodings!r}"
            )
        if self.h_cycles < 1 or self.l_cycles < 1 or self.halt_max_steps < 1:
            raise ConfigError("model.h_cycles, l_cycles and halt_max_steps must be at least 1")
        if self.hidden_size < 1 or self.num_heads < 1 or self.h_layers < 1 or self.l_layers < 1:
            raise ConfigError("model.hidden_size, num_heads, h_layers and l_layers must be >= 1")
        if self.hidden_size % self.num_heads:
            raise ConfigError(
                f"model.hidden_size {self.hidden_size} is not divisible by model.num_heads "
                f"{self.num_heads}; pick num_heads among its divisors"
            )
        if self.pos_encodings == "rope" and (self.hidden_size // self.num_heads) % 2:
            raise ConfigError(
                f"rope needs an even head size, but hidden_size {self.hidden_size} / num_heads "
                f"{self.num_heads} is odd"
            )

    @property
    def puzzle_emb_len(self) -> int:
        """Positions the puzzle embedding occupies (its vector is zero-padded to whole positions)."""
        return math.ceil(self.puzzle_emb_ndim / self.hidden_size)


class HRMInner(nn.Module):
    """Embeddings, the H and L modules and both heads; stateless apart from the carried z_H/z_L."""

    def __init__(self, config: HRMConfig) -> None:
        super().__init__()
        self.config = c = config
        self.embed_scale = math.sqrt(c.hidden_size)
        init_std = 1.0 / self.embed_scale
        total_len = c.seq_len + c.puzzle_emb_len

        self.embed_tokens = Embedding(c.vocab_size, c.hidden_size, init_std)
        self.lm_head = Linear(c.hidden_size, c.vocab_size)
        self.q_head = Linear(c.hidden_size, 2, bias=True)
        # Start by predicting "continue" with high confidence: halting must be learnt, and a
        # random early halt would starve the Q-learning of long trajectories.
        with torch.no_grad():
            self.q_head.weight.zero_()
            self.q_head.bias.fill_(-5.0)

        if c.puzzle_emb_ndim > 0:
            self.puzzle_emb = PuzzleEmbedding(c.num_puzzle_identifiers, c.puzzle_emb_ndim)
        if c.pos_encodings == "rope":
            self.rotary = Rotary(c.hidden_size // c.num_heads, total_len, c.rope_theta)
        else:
            self.embed_pos = Embedding(total_len, c.hidden_size, init_std)

        self.H_level = ReasoningModule(
            c.h_layers, c.hidden_size, c.num_heads, c.expansion, c.rms_norm_eps
        )
        self.L_level = ReasoningModule(
            c.l_layers, c.hidden_size, c.num_heads, c.expansion, c.rms_norm_eps
        )
        # Fixed, not learnt, starting states: resetting a slot must not depend on training.
        self.register_buffer("H_init", trunc_normal_(torch.empty(c.hidden_size), 1.0))
        self.register_buffer("L_init", trunc_normal_(torch.empty(c.hidden_size), 1.0))

    def embed(self, inputs: torch.Tensor, puzzle_identifiers: torch.Tensor) -> torch.Tensor:
        """Token embeddings with the puzzle vector prepended, scaled so each position has norm ~1*sqrt(d).

        inputs: (B, T) token ids; puzzle_identifiers: (B,). Returns (B, L, D).
        """
        c = self.config
        x = self.embed_tokens(inputs.long())
        if c.puzzle_emb_ndim > 0:
            p = self.puzzle_emb(puzzle_identifiers)  # (B, puzzle_emb_ndim)
            pad = c.puzzle_emb_len * c.hidden_size - c.puzzle_emb_ndim
            if pad:
                p = nn.functional.pad(p, (0, pad))  # (B, P * D)
            x = torch.cat([p.view(-1, c.puzzle_emb_len, c.hidden_size).to(x.dtype), x], dim=1)
            # x: (B, L, D), puzzle positions first
        if c.pos_encodings == "learned":
            # 1/sqrt(2) keeps the sum of two unit-scale embeddings at unit scale.
            x = 0.707106781 * (x + self.embed_pos.embedding_weight.to(x.dtype))  # + (L, D)
        return self.embed_scale * x  # (B, L, D)

    def initial_state(
        self, batch_size: int, device: torch.device
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """Fresh (z_H, z_L) for ``batch_size`` sequences, each (B, L, D)."""
        shape = (
            batch_size,
            self.config.seq_len + self.config.puzzle_emb_len,
            self.config.hidden_size,
        )
        return self.H_init.to(device).expand(shape).clone(), self.L_init.to(device).expand(
            shape
        ).clone()

    def forward(
        self,
        z_H: torch.Tensor,
        z_L: torch.Tensor,
        inputs: torch.Tensor,
        puzzle_identifiers: torch.Tensor,
    ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]:
        """One segment. Returns the detached new (z_H, z_L), token logits, q_halt and q_continue logits.

        z_H, z_L: (B, L, D); inputs: (B, T) token ids; puzzle_identifiers: (B,).
        """
        c = self.config
        x = self.embed(inputs, puzzle_identifiers)  # (B, L, D), injected into L every update
        rotary = self.rotary() if c.pos_encodings == "rope" else None  # cos, sin: (L, D / heads)

        with torch.no_grad():
            for h in range(c.h_cycles):
                for l_step in range(c.l_cycles):
                    if h < c.h_cycles - 1 or l_step < c.l_cycles - 1:
                        z_L = self.L_level(z_L, z_H + x, rotary)  # (B, L, D)
                if h < c.h_cycles - 1:
                    z_H = self.H_level(z_H, z_L, rotary)  # (B, L, D)
        z_L = self.L_level(z_L, z_H + x, rotary)  # (B, L, D)
        z_H = self.H_level(z_H, z_L, rotary)  # (B, L, D)

        logits = self.lm_head(z_H[:, c.puzzle_emb_len :])  # (B, T, V): puzzle positions dropped
        q = self.q_head(z_H[:, 0]).float()  # (B, 2): halt, continue; read at the first position
        return z_H.detach(), z_L.detach(), logits, q[:, 0], q[:, 1]

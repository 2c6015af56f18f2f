"""Transformer building blocks of HRM: the pieces both recurrent modules are made of.

Parameter names (``qkv_proj``, ``o_proj``, ``gate_up_proj``, ``down_proj``, ``embedding_weight``)
follow the reference checkpoint layout so that its state dicts load without renaming.

Shapes in comments: B batch, L positions, D hidden size, H heads, Dh = D / H head size,
F SwiGLU inner width, N rows of a table.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn

# Standard deviation of a unit normal truncated to [-2, 2]; dividing by it makes the *truncated*
# distribution have the requested std (the JAX convention the reference initialises with).
_TRUNC2_STD = 0.8796256610342398


def trunc_normal_(tensor: torch.Tensor, std: float = 1.0) -> torch.Tensor:
    """Fill with a normal truncated at two standard deviations whose actual std is ``std``.

    ``torch.nn.init.trunc_normal_`` takes the std of the untruncated normal, which makes weights
    ~12% smaller than asked; correcting for it keeps activations at the intended scale.
    """
    if std == 0:
        return tensor.zero_()
    sigma = std / _TRUNC2_STD
    return nn.init.trunc_normal_(tensor, mean=0.0, std=sigma, a=-2 * sigma, b=2 * sigma)


def rms_norm(x: torch.Tensor, eps: float = 1e-5) -> torch.Tensor:
    """RMSNorm without a learnt scale, computed in float32 so bf16 activations stay stable."""
    dtype = x.dtype
    x = x.float()  # (..., D)
    x = x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + eps)  # rsqrt term: (..., 1)
    return x.to(dtype)


class Linear(nn.Module):
    """Bias-free (or biased) linear layer with LeCun truncated-normal init (std 1/sqrt(fan_in))."""

    def __init__(self, in_features: int, out_features: int, bias: bool = False) -> None:
        super().__init__()
        self.weight = nn.Parameter(
            trunc_normal_(torch.empty(out_features, in_features), 1.0 / math.sqrt(in_features))
        )
        self.bias = nn.Parameter(torch.zeros(out_features)) if bias else None

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        # Weights stay float32 for the optimiser; the product runs in the activations' dtype
        # (a no-op cast in float32, bfloat16 under a bfloat16 forward).
        bias = self.bias.to(x.dtype) if self.bias is not None else None
        return F.linear(x, self.weight.to(x.dtype), bias)  # (..., in) -> (..., out)


class Embedding(nn.Module):
    """Token or position table; the attribute name matches the reference key ``embedding_weight``."""

    def __init__(self, num_embeddings: int, dim: int, init_std: float) -> None:
        super().__init__()
        self.embedding_weight = nn.Parameter(
            trunc_normal_(torch.empty(num_embeddings, dim), init_std)
        )

    def forward(self, ids: torch.Tensor) -> torch.Tensor:
        return F.embedding(ids, self.embedding_weight)  # (...) ids -> (..., D)


class Rotary(nn.Module):
    """Rotary position tables for a fixed sequence length (puzzle positions included).

    Uses the "rotate half" layout (first and second halves of each head paired), which is the one
    a reference checkpoint's q/k projections were trained with.
    """

    def __init__(self, head_dim: int, max_len: int, theta: float = 10000.0) -> None:
        super().__init__()
        inv_freq = 1.0 / (theta ** (torch.arange(0, head_dim, 2, dtype=torch.float32) / head_dim))
        freqs = torch.outer(torch.arange(max_len, dtype=torch.float32), inv_freq)  # (L, Dh / 2)
        angles = torch.cat([freqs, freqs], dim=-1)  # (L, Dh)
        # Not persistent: derived from the config, and absent from reference checkpoints.
        self.register_buffer("cos", angles.cos(), persistent=False)
        self.register_buffer("sin", angles.sin(), persistent=False)

    def forward(self) -> tuple[torch.Tensor, torch.Tensor]:
        return self.cos, self.sin  # (L, Dh) each


def apply_rotary(x: torch.Tensor, cos: torch.Tensor, sin: torch.Tensor) -> torch.Tensor:
    """Rotate ``x`` (B, L, ..., Dh) by position (any head dims between); cos/sin are (L, Dh)."""
    x1, x2 = x.chunk(2, dim=-1)  # (B, L, ..., Dh / 2) each
    rotated = torch.cat([-x2, x1], dim=-1)  # (B, L, ..., Dh)
    shape = (cos.shape[0],) + (1,) * (x.dim() - 3) + (cos.shape[1],)  # (L, 1, ..., 1, Dh)
    return x * cos.view(shape).to(x.dtype) + rotated * sin.view(shape).to(x.dtype)


class Attention(nn.Module):
    """Non-causal multi-head self-attention with a fused [q; k; v] projection."""

    def __init__(self, hidden_size: int, num_heads: int) -> None:
        super().__init__()
        if hidden_size % num_heads:
            raise ValueError(f"hidden_size {hidden_size} is not divisible by num_heads {num_heads}")
        self.num_heads = num_heads
        self.head_dim = hidden_size // num_heads
        self.qkv_proj = Linear(hidden_size, 3 * hidden_size)
        self.o_proj = Linear(hidden_size, hidden_size)

    def forward(
        self, x: torch.Tensor, rotary: tuple[torch.Tensor, torch.Tensor] | None
    ) -> torch.Tensor:
        b, s, _ = x.shape  # x: (B, L, D)
        qkv = self.qkv_proj(x).view(b, s, 3, self.num_heads, self.head_dim)  # (B, L, 3, H, Dh)
        qk, v = qkv[:, :, :2], qkv[:, :, 2]  # (B, L, 2, H, Dh), (B, L, H, Dh)
        if rotary is not None:
            qk = apply_rotary(qk, *rotary)  # q and k in one go: half the small-tensor ops
        q, k = qk.unbind(dim=2)  # (B, L, H, Dh) each
        # Every position sees every other: puzzles are solved as a whole, not left to right.
        out = F.scaled_dot_product_attention(
            q.transpose(1, 2), k.transpose(1, 2), v.transpose(1, 2)
        )  # (B, H, L, Dh)
        return self.o_proj(out.transpose(1, 2).reshape(b, s, -1))  # (B, L, H * Dh) -> (B, L, D)


def swiglu_inner_size(hidden_size: int, expansion: float, multiple: int = 256) -> int:
    """Inner width of SwiGLU: 2/3 of ``expansion * hidden`` (same FLOPs as a plain MLP), rounded up."""
    return multiple * math.ceil(expansion * hidden_size * 2 / 3 / multiple)


class SwiGLU(nn.Module):
    """Gated MLP with a fused [gate; up] projection."""

    def __init__(self, hidden_size: int, expansion: float) -> None:
        super().__init__()
        inner = swiglu_inner_size(hidden_size, expansion)
        self.gate_up_proj = Linear(hidden_size, 2 * inner)
        self.down_proj = Linear(inner, hidden_size)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        gate, up = self.gate_up_proj(x).chunk(2, dim=-1)  # (B, L, D) -> (B, L, F) each
        return self.down_proj(F.silu(gate) * up)  # (B, L, D)


class Block(nn.Module):
    """Post-norm transformer block: norm(x + mix(x)), then norm(x + mlp(x)).

    The mixer is self-attention, or with ``seq_len`` given (TRM's ``mlp_t``) a SwiGLU across the
    ``seq_len`` positions: the states are transposed to (B, D, L) so the MLP's features are
    positions, and its residual and RMSNorm are taken in that layout (normalised over positions).
    """

    def __init__(
        self,
        hidden_size: int,
        num_heads: int,
        expansion: float,
        eps: float,
        seq_len: int | None = None,
    ) -> None:
        super().__init__()
        if seq_len is None:
            self.self_attn = Attention(hidden_size, num_heads)
        else:
            self.mlp_t = SwiGLU(seq_len, expansion)
        self.mlp = SwiGLU(hidden_size, expansion)
        self.eps = eps

    def forward(
        self, x: torch.Tensor, rotary: tuple[torch.Tensor, torch.Tensor] | None
    ) -> torch.Tensor:
        if hasattr(self, "mlp_t"):
            t = x.transpose(1, 2)  # (B, D, L)
            x = rms_norm(t + self.mlp_t(t), self.eps).transpose(1, 2)  # (B, L, D)
        else:
            x = rms_norm(x + self.self_attn(x, rotary), self.eps)  # (B, L, D)
        return rms_norm(x + self.mlp(x), self.eps)  # (B, L, D)


class ReasoningModule(nn.Module):
    """A stack of blocks run on ``hidden + injection``: how H and L receive each other's state."""

    def __init__(
        self,
        num_layers: int,
        hidden_size: int,
        num_heads: int,
        expansion: float,
        eps: float,
        seq_len: int | None = None,
    ) -> None:
        super().__init__()
        self.layers = nn.ModuleList(
            Block(hidden_size, num_heads, expansion, eps, seq_len) for _ in range(num_layers)
        )

    def forward(
        self,
        hidden: torch.Tensor,
        injection: torch.Tensor,
        rotary: tuple[torch.Tensor, torch.Tensor] | None,
    ) -> torch.Tensor:
        hidden = hidden + injection  # (B, L, D) + (B, L, D)
        for layer in self.layers:
            hidden = layer(hidden, rotary)
        return hidden


class PuzzleEmbedding(nn.Module):
    """Per-puzzle vectors kept outside autograd so a huge table costs no dense gradient or state.

    The table is a buffer (key ``weights``, zero-initialised). In a training forward the rows of the
    batch are copied into a small leaf tensor (``local_weights``) that collects the gradient;
    :class:`arcdata.hrm.optim.SparseSignSGD` then writes updates back to those rows only.
    """

    def __init__(self, num_embeddings: int, dim: int) -> None:
        super().__init__()
        self.register_buffer("weights", torch.zeros(num_embeddings, dim))
        self.local_weights: torch.Tensor | None = None
        self.local_ids: torch.Tensor | None = None

    def forward(self, ids: torch.Tensor) -> torch.Tensor:
        rows = self.weights[ids.long()]  # (B,) ids -> (B, puzzle_emb_ndim); table: (N, ndim)
        if self.training and torch.is_grad_enabled():
            rows = rows.detach().requires_grad_(True)
            self.local_weights, self.local_ids = rows, ids
        return rows

"""The inner networks: one ACT segment of recurrence on a carried state, HRM's and TRM's.

HRM (:class:`HRMInner`) is a hierarchy of recurrent levels, slowest first. One segment nests
their cycles: each update of a level follows ``cycles`` rounds of the next faster one; the fastest
level reads the input injection (every slower level's state plus the embedded input), every other
level reads the state of the next faster one. Two levels are HRM ACT v1: H (slow) and L (fast),
``h_cycles x l_cycles`` updates of L and ``h_cycles`` of H. Only the last update of each level
is under gradient (the one-step gradient approximation), so memory does not grow with the number
of cycles, and the returned states are detached so nothing flows back across segments.

TRM (:class:`arcdata.hrm.trm.TRMInner`) shares the embeddings and heads defined here.

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

KINDS = ("hrm", "trm")
HALT_RULES = ("auto", "q_continue", "q_halt")
MIXERS = ("attention", "mlp")
FORWARD_DTYPES = {"float32": torch.float32, "bfloat16": torch.bfloat16, "float16": torch.float16}


@dataclass
class HRMConfig:
    """Every size of the model. Defaults are the reference's ~27.3M-parameter HRM ACT v1.

    ``vocab_size``, ``seq_len`` and ``num_puzzle_identifiers`` describe the dataset; the trainer
    fills them in from the stream it reads.

    ``kind`` picks the network: ``hrm`` (levels from ``levels``, or H and L from the ``h_*`` /
    ``l_*`` fields) or ``trm`` (one network of ``l_layers`` blocks; ``h_cycles`` rounds of
    ``l_cycles`` updates; ``h_layers`` and ``levels`` unused). ``halt_rule`` ``q_continue`` halts
    when q_halt > q_continue and learns q_continue from a second forward (HRM); ``q_halt`` halts
    when q_halt > 0 with no Q-continue target (TRM); ``auto`` picks by kind.
    """

    vocab_size: int = 12
    seq_len: int = 900
    num_puzzle_identifiers: int = 1
    kind: str = "hrm"  # "hrm" or "trm"
    puzzle_emb_ndim: int = 512  # 0 disables the prepended puzzle position(s)
    puzzle_positions: int = 0  # positions the puzzle vector is padded to; 0: as few as fit
    hidden_size: int = 512
    num_heads: int = 8
    expansion: float = 4.0
    h_layers: int = 4
    l_layers: int = 4
    h_cycles: int = 2
    l_cycles: int = 2
    # HRM levels slowest first, each {"layers": n, "cycles": n}; None: [H, L] from h_*/l_*.
    levels: list | None = None
    mixer: str = "attention"  # "attention", or "mlp" across positions (TRM's mlp_t)
    pos_encodings: str = "rope"  # "rope", "learned" or "none"
    rope_theta: float = 10000.0
    rms_norm_eps: float = 1e-5
    halt_max_steps: int = 16
    halt_exploration_prob: float = 0.1
    halt_rule: str = "auto"  # "auto", "q_continue" (HRM) or "q_halt" (TRM)
    forward_dtype: str = "float32"  # activations' dtype ("bfloat16" as the reference on GPU)

    def __post_init__(self) -> None:
        for name, allowed in (
            ("kind", KINDS),
            ("halt_rule", HALT_RULES),
            ("mixer", MIXERS),
            ("pos_encodings", ("rope", "learned", "none")),
            ("forward_dtype", tuple(FORWARD_DTYPES)),
        ):
            if getattr(self, name) not in allowed:
                raise ConfigError(
                    f"model.{name} must be one of {', '.join(map(repr, allowed))}, "
                    f"not {getattr(self, name)!r}"
                )
        if self.levels is not None:
            self.levels = _normalised_levels(self.levels)
            if self.kind == "trm":
                raise ConfigError("model.levels describes an HRM hierarchy; TRM has one network")
        if self.h_cycles < 1 or self.l_cycles < 1 or self.halt_max_steps < 1:
            raise ConfigError("model.h_cycles, l_cycles and halt_max_steps must be at least 1")
        if self.hidden_size < 1 or self.num_heads < 1 or self.h_layers < 1 or self.l_layers < 1:
            raise ConfigError("model.hidden_size, num_heads, h_layers and l_layers must be >= 1")
        if self.puzzle_positions < 0:
            raise ConfigError("model.puzzle_positions must be >= 0 (0: as few as fit)")
        if (
            self.puzzle_positions
            and self.puzzle_positions * self.hidden_size < self.puzzle_emb_ndim
        ):
            raise ConfigError(
                f"model.puzzle_positions {self.puzzle_positions} x hidden_size {self.hidden_size} "
                f"cannot hold puzzle_emb_ndim {self.puzzle_emb_ndim}"
            )
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
        if self.puzzle_emb_ndim <= 0:
            return 0
        return self.puzzle_positions or math.ceil(self.puzzle_emb_ndim / self.hidden_size)

    @property
    def level_specs(self) -> list[tuple[int, int]]:
        """HRM's (layers, cycles) per level, slowest first."""
        if self.levels is None:
            return [(self.h_layers, self.h_cycles), (self.l_layers, self.l_cycles)]
        return [(lv["layers"], lv["cycles"]) for lv in self.levels]

    @property
    def halts_on_q_halt_alone(self) -> bool:
        """True: halt when q_halt > 0, no Q-continue target (TRM's ``no_ACT_continue``)."""
        if self.halt_rule == "auto":
            return self.kind == "trm"
        return self.halt_rule == "q_halt"

    @property
    def dtype(self) -> torch.dtype:
        return FORWARD_DTYPES[self.forward_dtype]


def _normalised_levels(levels: object) -> list[dict[str, int]]:
    """``[[layers, cycles], ...]`` or ``[{layers, cycles}, ...]`` -> list of dicts, checked."""
    hint = "model.levels must be a list like [{layers: 4, cycles: 2}, ...] (or [[4, 2], ...])"
    if not isinstance(levels, (list, tuple)) or not levels:
        raise ConfigError(f"{hint}, slowest first; got {levels!r}")
    out = []
    for i, level in enumerate(levels):
        if isinstance(level, dict):
            unknown = set(level) - {"layers", "cycles"}
            if unknown or set(level) != {"layers", "cycles"}:
                raise ConfigError(f"model.levels[{i}]: needs exactly layers and cycles; {hint}")
            layers, cycles = level["layers"], level["cycles"]
        elif isinstance(level, (list, tuple)) and len(level) == 2:
            layers, cycles = level
        else:
            raise ConfigError(f"model.levels[{i}] is {level!r}; {hint}")
        ok = all(
            isinstance(v, int) and not isinstance(v, bool) and v >= 1 for v in (layers, cycles)
        )
        if not ok:
            raise ConfigError(f"model.levels[{i}]: layers and cycles must be integers >= 1")
        out.append({"layers": layers, "cycles": cycles})
    return out


def level_names(n: int) -> list[str]:
    """Module names of n levels, slowest first: H_level, M1_level, ..., L_level.

    The slowest and fastest keep the reference's H/L names, so two levels load its checkpoints.
    """
    if n == 1:
        return ["H_level"]
    return ["H_level", *(f"M{i}_level" for i in range(1, n - 1)), "L_level"]


class InnerBase(nn.Module):
    """What HRM and TRM share: input embeddings, positions, and the two heads (reference names)."""

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
        elif c.pos_encodings == "learned":
            self.embed_pos = Embedding(total_len, c.hidden_size, init_std)

    def reasoning_module(self, layers: int) -> ReasoningModule:
        c = self.config
        positions = c.seq_len + c.puzzle_emb_len if c.mixer == "mlp" else None
        return ReasoningModule(
            layers, c.hidden_size, c.num_heads, c.expansion, c.rms_norm_eps, positions
        )

    def embed(self, inputs: torch.Tensor, puzzle_identifiers: torch.Tensor) -> torch.Tensor:
        """Token embeddings with the puzzle vector prepended, scaled so each position has norm ~1*sqrt(d).

        inputs: (B, T) token ids; puzzle_identifiers: (B,). Returns (B, L, D) in the forward dtype.
        """
        c = self.config
        x = self.embed_tokens(inputs.long()).to(c.dtype)
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

    def positions(self) -> tuple[torch.Tensor, torch.Tensor] | None:
        return self.rotary() if self.config.pos_encodings == "rope" else None  # (L, Dh) each

    def heads(self, z_H: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """Token logits (B, T, V) without the puzzle positions; q_halt, q_continue (B,) float32."""
        logits = self.lm_head(z_H[:, self.config.puzzle_emb_len :])  # (B, T, V)
        q = self.q_head(z_H[:, 0]).float()  # (B, 2): halt, continue; read at the first position
        return logits, q[:, 0], q[:, 1]

    def init_vectors(self) -> tuple[torch.Tensor, ...]:
        """The fixed starting vector (D,) of every carried state, slowest first."""
        raise NotImplementedError

    def initial_state(self, batch_size: int, device: torch.device) -> tuple[torch.Tensor, ...]:
        """Fresh states for ``batch_size`` sequences, each (B, L, D), slowest first."""
        shape = (
            batch_size,
            self.config.seq_len + self.config.puzzle_emb_len,
            self.config.hidden_size,
        )
        return tuple(v.to(device).expand(shape).clone() for v in self.init_vectors())

    def segment(
        self,
        states: tuple[torch.Tensor, ...],
        inputs: torch.Tensor,
        puzzle_identifiers: torch.Tensor,
    ) -> tuple[tuple[torch.Tensor, ...], torch.Tensor, torch.Tensor, torch.Tensor]:
        """One segment: detached new states, token logits, q_halt and q_continue logits."""
        raise NotImplementedError

    def forward(self, *args: torch.Tensor) -> tuple[torch.Tensor, ...]:
        """``inner(*states, inputs, puzzle_identifiers)`` -> ``(*states, logits, q_halt, q_continue)``.

        With two states that is ``(z_H, z_L, logits, q_halt, q_continue)``, as HRM ACT v1's.
        """
        *states, inputs, puzzle_identifiers = args
        new_states, logits, q_halt, q_continue = self.segment(
            tuple(states), inputs, puzzle_identifiers
        )
        return (*new_states, logits, q_halt, q_continue)


class HRMInner(InnerBase):
    """Embeddings, the levels (H ... L) and both heads; stateless apart from the carried states."""

    def __init__(self, config: HRMConfig) -> None:
        super().__init__(config)
        c = config
        specs = c.level_specs
        self.names = level_names(len(specs))
        self.cycles = [cycles for _, cycles in specs]
        for name, (layers, _) in zip(self.names, specs, strict=True):
            self.add_module(name, self.reasoning_module(layers))
        # Fixed, not learnt, starting states: resetting a slot must not depend on training.
        for name in self.names:
            init = trunc_normal_(torch.empty(c.hidden_size), 1.0).to(c.dtype)
            self.register_buffer(name.replace("_level", "_init"), init)

    def init_vectors(self) -> tuple[torch.Tensor, ...]:
        return tuple(getattr(self, n.replace("_level", "_init")) for n in self.names)

    def schedule(self) -> list[int]:
        """Level indices in update order: each update of level i follows cycles[i+1] rounds of i+1.

        The last len(levels) entries are the fastest level's last update, then each slower one's.
        """

        def rounds(i: int) -> list[int]:
            inner = rounds(i + 1) if i + 1 < len(self.cycles) else []
            return (inner + [i]) * self.cycles[i]

        return rounds(0)

    def segment(
        self,
        states: tuple[torch.Tensor, ...],
        inputs: torch.Tensor,
        puzzle_identifiers: torch.Tensor,
    ) -> tuple[tuple[torch.Tensor, ...], torch.Tensor, torch.Tensor, torch.Tensor]:
        n = len(self.names)
        if len(states) != n:
            raise ValueError(f"this HRM has {n} levels but {len(states)} states were given")
        x = self.embed(inputs, puzzle_identifiers)  # (B, L, D), injected into the fastest level
        rotary = self.positions()  # cos, sin: (L, D / heads), or None
        levels = [getattr(self, name) for name in self.names]
        z = list(states)  # each (B, L, D), slowest first

        def update(i: int) -> None:
            if i == n - 1:
                injection = x
                if n > 1:
                    # Every slower level steers the fastest: z_0 + ... + z_{n-2} + x.
                    injection = z[0]
                    for j in range(1, n - 1):
                        injection = injection + z[j]
                    injection = injection + x
            else:
                injection = z[i + 1]  # the next faster level's state
            z[i] = levels[i](z[i], injection, rotary)  # (B, L, D)

        order = self.schedule()
        with torch.no_grad():
            for i in order[:-n]:
                update(i)
        for i in order[-n:]:  # one-step gradient: the last update of each level
            update(i)

        logits, q_halt, q_continue = self.heads(z[0])
        return tuple(s.detach() for s in z), logits, q_halt, q_continue

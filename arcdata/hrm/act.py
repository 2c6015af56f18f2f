"""Adaptive computation time around an inner network: which slot halts, and what Q-learning aims at.

A batch is a set of slots. Each call runs one segment for every slot; slots that halted on the
previous call are first reset and loaded with the matching rows of the new batch, the others keep
their state and their data. Training halts a slot when q_halt > q_continue (HRM; TRM and
``halt_rule: q_halt``: when q_halt > 0), with random minimum depths for exploration, or at
``halt_max_steps``; evaluation always runs ``halt_max_steps``.

Shapes in comments: B slots (batch), T tokens per sequence, L positions the blocks see (puzzle
positions + T), D hidden size, V vocabulary.
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields

import torch
from torch import nn

from .model import HRMConfig, HRMInner, InnerBase
from .trm import TRMInner

# Keys of a batch a slot keeps while it is being worked on.
CARRIED_KEYS = ("inputs", "labels", "puzzle_identifiers")


@dataclass
class Carry:
    """State that persists across segments and batches (per rank)."""

    z_H: torch.Tensor  # (B, L, D) high-level state
    z_L: torch.Tensor  # (B, L, D) low-level state
    steps: torch.Tensor  # int32 (B,): segments run on the slot's current example
    halted: torch.Tensor  # bool (B,): slot finished; refilled on the next call
    data: dict[str, torch.Tensor] = field(default_factory=dict)  # inputs/labels (B, T), ids (B,)
    # (B, L, D) each: the states between H and L of an HRM with more than two levels
    z_mid: tuple[torch.Tensor, ...] = ()

    def state_dict(self) -> dict:
        return {f.name: getattr(self, f.name) for f in fields(self)}

    @classmethod
    def from_state_dict(cls, state: dict, device: torch.device | str) -> Carry:
        return cls(
            z_H=state["z_H"].to(device),
            z_L=state["z_L"].to(device),
            steps=state["steps"].to(device),
            halted=state["halted"].to(device),
            data={k: v.to(device) for k, v in state["data"].items()},
            z_mid=tuple(z.to(device) for z in state.get("z_mid", ())),
        )

    def states(self, n: int) -> tuple[torch.Tensor, ...]:
        """The ``n`` level states, slowest first (one level: z_H, which z_L aliases)."""
        return (self.z_H,) if n == 1 else (self.z_H, *self.z_mid, self.z_L)

    @staticmethod
    def split(states: tuple[torch.Tensor, ...]) -> dict[str, object]:
        """Carry fields for ``states`` (slowest first)."""
        return {"z_H": states[0], "z_L": states[-1], "z_mid": tuple(states[1:-1])}


@dataclass
class ACTOutput:
    logits: torch.Tensor  # (B, T, V)
    q_halt_logits: torch.Tensor  # float32 (B,)
    q_continue_logits: torch.Tensor  # float32 (B,)
    target_q_continue: torch.Tensor | None  # (B,); None outside training (no Q-learning target)


def wants_halt(config: HRMConfig, q_halt: torch.Tensor, q_continue: torch.Tensor) -> torch.Tensor:
    """(B,) bool: the model's own halting decision for each slot under ``config.halt_rule``."""
    if config.halts_on_q_halt_alone:
        return q_halt > 0
    return q_halt > q_continue


def build_inner(config: HRMConfig) -> InnerBase:
    return TRMInner(config) if config.kind == "trm" else HRMInner(config)


class ACTModel(nn.Module):
    """HRM ACT v1 or TRM (``config.kind``). State dict keys (``inner.*``) match the reference
    checkpoint layouts."""

    def __init__(self, config: HRMConfig) -> None:
        super().__init__()
        self.config = config
        self.inner = build_inner(config)

    def initial_carry(self, batch: dict[str, torch.Tensor]) -> Carry:
        """An all-halted carry shaped like ``batch``: the first call loads every slot."""
        b = batch["inputs"].shape[0]
        device = batch["inputs"].device
        states = self.inner.initial_state(b, device)
        return Carry(
            steps=torch.zeros(b, dtype=torch.int32, device=device),
            halted=torch.ones(b, dtype=torch.bool, device=device),
            data={k: torch.zeros_like(batch[k]) for k in CARRIED_KEYS},
            **Carry.split(states),
        )

    def forward(
        self,
        carry: Carry,
        batch: dict[str, torch.Tensor],
        generator: torch.Generator | None = None,
    ) -> tuple[Carry, ACTOutput]:
        """Run one segment. ``generator`` drives exploration (pass one to make runs reproducible)."""
        c = self.config
        halted = carry.halted  # (B,)
        reset = halted.view(-1, 1, 1)  # (B, 1, 1), against the (D,) initial states
        inits = self.inner.init_vectors()
        states = tuple(
            torch.where(reset, init.to(z.dtype), z)  # (B, L, D)
            for init, z in zip(inits, carry.states(len(inits)), strict=True)
        )
        steps = torch.where(halted, 0, carry.steps)  # (B,)
        data = {
            k: torch.where(halted.view(-1, *([1] * (batch[k].dim() - 1))), batch[k], carry.data[k])
            for k in CARRIED_KEYS
        }

        states, logits, q_halt, q_continue = self.inner.segment(
            states, data["inputs"], data["puzzle_identifiers"]
        )

        target = None
        with torch.no_grad():
            steps = steps + 1
            is_last = steps >= c.halt_max_steps
            halted = is_last
            if self.training and c.halt_max_steps > 1:
                halted = is_last | wants_halt(c, q_halt, q_continue)
                # Exploration: some slots must run a random minimum of 2..max segments.
                rng_device = generator.device if generator is not None else steps.device
                b, hi = steps.shape[0], c.halt_max_steps + 1
                explore = (
                    torch.rand(b, generator=generator, device=rng_device) < c.halt_exploration_prob
                )
                depth = torch.randint(2, hi, (b,), generator=generator, device=rng_device)
                min_steps = torch.where(explore, depth, 0).to(steps.device)  # (B,)
                halted = halted & (steps >= min_steps)
                if not c.halts_on_q_halt_alone:
                    # Bootstrap target: the value of continuing is the best Q of the next segment.
                    *_, next_halt, next_continue = self.inner.segment(
                        states, data["inputs"], data["puzzle_identifiers"]
                    )
                    target = torch.sigmoid(
                        torch.where(is_last, next_halt, torch.maximum(next_halt, next_continue))
                    )  # (B,)

        new_carry = Carry(
            steps=steps.to(torch.int32), halted=halted, data=data, **Carry.split(states)
        )
        return new_carry, ACTOutput(logits, q_halt, q_continue, target)


# The name the trainer, tests and users know; it builds TRM too when ``config.kind == "trm"``.
HRM = ACTModel

"""The FLOP estimate against torch's own count of a real training step, for every model shape.

``FlopCounterMode`` counts the matrix products autograd actually runs (forward, the Q target's
second forward, backward). Attention uses the math kernel here, whose products the counter sees
(CPU's fused kernel is not in its table). The estimate ignores element-wise work, as the counter
does, so the two must agree to float rounding (the old 2-level-only count was off by 10-40%).
"""

from __future__ import annotations

import pytest
import torch
from torch.nn.attention import SDPBackend, sdpa_kernel
from torch.utils.flop_counter import FlopCounterMode

from arcdata.hrm.act import HRM
from arcdata.hrm.estimate import step_flops
from arcdata.hrm.model import HRMConfig

BASE = dict(
    vocab_size=11, seq_len=12, num_puzzle_identifiers=3, hidden_size=32, num_heads=2,
    expansion=2.0, puzzle_emb_ndim=32, halt_max_steps=3, halt_exploration_prob=0.0,
)  # fmt: skip
SHAPES = {
    "hrm-2": dict(h_layers=2, l_layers=1, h_cycles=2, l_cycles=3),
    "hrm-3": dict(levels=[[1, 2], [2, 2], [1, 3]]),
    "hrm-1-segment": dict(h_cycles=2, l_cycles=2, halt_max_steps=1),
    "trm": dict(kind="trm", l_layers=2, h_cycles=3, l_cycles=2),
    "trm-mlp_t": dict(kind="trm", mixer="mlp", l_layers=1, h_cycles=2, l_cycles=3),
    "trm-q_continue": dict(kind="trm", halt_rule="q_continue", l_layers=1, h_cycles=2),
}


def counted_step(config: HRMConfig, batch_size: int) -> int:
    """FLOPs torch counts for one training step: a segment forward, then backward."""
    torch.manual_seed(0)
    model = HRM(config).train()
    batch = {
        "inputs": torch.randint(0, config.vocab_size, (batch_size, config.seq_len)),
        "labels": torch.randint(0, config.vocab_size, (batch_size, config.seq_len)),
        "puzzle_identifiers": torch.randint(0, 3, (batch_size,), dtype=torch.int32),
    }
    carry = model.initial_carry(batch)
    counter = FlopCounterMode(display=False)
    with sdpa_kernel(SDPBackend.MATH), counter:
        _, out = model(carry, batch)
        loss = out.logits.float().square().mean() + out.q_halt_logits.square().sum()
        (loss + out.q_continue_logits.square().sum()).backward()
    return counter.get_total_flops()


@pytest.mark.parametrize("name", sorted(SHAPES))
def test_estimate_matches_torchs_count_of_a_training_step(name):
    config = HRMConfig(**{**BASE, **SHAPES[name]})
    counted = counted_step(config, 3)
    assert counted > 0
    assert step_flops(config, 3) == pytest.approx(counted, rel=1e-9), name


def test_an_extra_level_costs_its_updates():
    # A third level of 1 cycle on top of the two: its one update (plus its gradient) more.
    two = HRMConfig(**BASE, levels=[[1, 2], [1, 2]])
    three = HRMConfig(**BASE, levels=[[1, 1], [1, 2], [1, 2]])
    assert step_flops(three, 2) > step_flops(two, 2)

"""``arcdata.hrm.from_reference``: the model a reference run's ``arch:`` mapping describes."""

from __future__ import annotations

import pytest
import torch

from arcdata.errors import ConfigError
from arcdata.hrm import from_reference, load_model_state
from arcdata.hrm.act import HRM
from tests.hrm.hrm_synthetic import tiny_batch, tiny_config

DATA = dict(vocab_size=8, seq_len=8, num_puzzle_identifiers=5)
HRM_ARCH = dict(
    name="hrm.hrm_act_v1@HierarchicalReasoningModel_ACTV1", loss={"name": "losses@ACTLossHead"},
    batch_size=768, H_cycles=2, L_cycles=2, H_layers=1, L_layers=1, hidden_size=32, num_heads=2,
    expansion=2, puzzle_emb_ndim=32, pos_encodings="rope", halt_max_steps=3,
    halt_exploration_prob=0.1, forward_dtype="float32", **DATA,
)  # fmt: skip
TRM_ARCH = dict(
    name="recursive_reasoning.trm@TinyRecursiveReasoningModel_ACTV1", batch_size=768,
    H_cycles=3, L_cycles=2, H_layers=0, L_layers=2, hidden_size=32, num_heads=2, expansion=2,
    puzzle_emb_ndim=32, puzzle_emb_len=4, pos_encodings="none", halt_max_steps=3,
    halt_exploration_prob=0.1, mlp_t=True, no_ACT_continue=True, forward_dtype="float32", **DATA,
)  # fmt: skip


def test_hrm_arch_is_todays_hrm_with_the_same_logits():
    torch.manual_seed(0)
    model = from_reference(HRM_ARCH).eval()
    ours = HRM(tiny_config(expansion=2.0)).eval()
    assert model.config.kind == "hrm" and model.config.halt_rule == "q_continue"
    load_model_state(ours, {f"_orig_mod.model.{k}": v for k, v in model.state_dict().items()})
    batch = tiny_batch(ours.config)
    (_, a), (_, b) = (
        model(model.initial_carry(batch), batch),
        ours(ours.initial_carry(batch), batch),
    )
    assert torch.equal(a.logits, b.logits) and torch.equal(a.q_continue_logits, b.q_continue_logits)


def test_trm_arch_honours_every_field():
    model = from_reference(TRM_ARCH)
    c = model.config
    assert (c.kind, c.mixer, c.halt_rule, c.puzzle_emb_len) == ("trm", "mlp", "q_halt", 4)
    assert (c.h_cycles, c.l_cycles, c.l_layers, c.pos_encodings) == (3, 2, 2, "none")
    assert len(model.inner.L_level.layers) == 2 and hasattr(model.inner.L_level.layers[0], "mlp_t")
    batch = tiny_batch(c)
    carry, out = model(model.initial_carry(batch), batch)
    assert out.logits.shape == (4, 8, 8) and out.q_halt_logits.shape == (4,)
    assert out.q_continue_logits.shape == (4,) and carry.z_H.shape == (4, 12, 32)
    defaults = from_reference({k: v for k, v in TRM_ARCH.items() if k != "puzzle_emb_len"})
    assert defaults.config.puzzle_emb_len == 16
    assert from_reference({**TRM_ARCH, "no_ACT_continue": False}).config.halt_rule == "q_continue"


def test_forward_dtype_is_applied():
    model = from_reference({**HRM_ARCH, "forward_dtype": "bfloat16"}).eval()
    batch = tiny_batch(model.config)
    carry, out = model(model.initial_carry(batch), batch)
    assert out.logits.dtype == torch.bfloat16 and carry.z_H.dtype == torch.bfloat16
    assert out.q_halt_logits.dtype == torch.float32
    assert model.inner.lm_head.weight.dtype == torch.float32  # weights stay float32


@pytest.mark.parametrize(
    "change, message",
    [
        ({"name": "my.model@Thing"}, "neither HRM ACT v1"),
        ({"H_cycle": 2}, "unknown field.*H_cycle"),
        ({"vocab_size": None}, "missing dataset size.*vocab_size"),
        ({"mlp_t": True}, "mlp_t is a TRM field"),
    ],
)
def test_bad_arch_is_named(change, message):
    arch = {**HRM_ARCH, **change}
    arch = {k: v for k, v in arch.items() if v is not None}
    with pytest.raises(ConfigError, match=message):
        from_reference(arch)

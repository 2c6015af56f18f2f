"""TRM: one shared network, rounds of z_L then z_H updates, halting by q_halt alone, mlp_t."""

from __future__ import annotations

import pytest
import torch

from arcdata.hrm.act import HRM
from arcdata.hrm.checkpoint import CheckpointError, load_model_state
from arcdata.hrm.loss import act_loss
from tests.hrm.hrm_synthetic import tiny_batch, tiny_config


def trm_config(**overrides):
    base = dict(kind="trm", l_layers=2, h_cycles=3, l_cycles=2, puzzle_positions=3)
    base.update(overrides)
    return tiny_config(**base)


@pytest.mark.parametrize("mixer", ["attention", "mlp"])
def test_shapes_and_prepended_puzzle_positions(mixer):
    cfg = trm_config(mixer=mixer, pos_encodings="none" if mixer == "mlp" else "rope")
    model = HRM(cfg)
    batch = tiny_batch(cfg)
    carry = model.initial_carry(batch)
    assert carry.z_H.shape == carry.z_L.shape == (4, cfg.seq_len + 3, cfg.hidden_size)
    carry, out = model(carry, batch)
    assert out.logits.shape == (4, cfg.seq_len, cfg.vocab_size)
    assert out.q_halt_logits.shape == out.q_continue_logits.shape == (4,)
    assert not carry.z_H.requires_grad and out.logits.requires_grad


def test_only_the_last_round_is_under_gradient():
    cfg = trm_config()
    inner = HRM(cfg).inner
    calls = []
    inner.L_level.register_forward_hook(lambda *a: calls.append(torch.is_grad_enabled()))
    batch = tiny_batch(cfg)
    inner(
        *inner.initial_state(4, torch.device("cpu")), batch["inputs"], batch["puzzle_identifiers"]
    )
    per_round = cfg.l_cycles + 1
    assert calls == [False] * (cfg.h_cycles - 1) * per_round + [True] * per_round


def test_round_updates_z_L_from_z_H_plus_x_then_z_H_from_z_L():
    cfg = trm_config(h_cycles=1, l_cycles=2)
    inner = HRM(cfg).inner.eval()
    seen = []
    inner.L_level.register_forward_hook(lambda m, args, out: seen.append((args, out)))
    batch = tiny_batch(cfg)
    z_H, z_L = inner.initial_state(4, torch.device("cpu"))
    x = inner.embed(batch["inputs"], batch["puzzle_identifiers"])
    new_H, new_L, *_ = inner(z_H, z_L, batch["inputs"], batch["puzzle_identifiers"])
    (h0, i0), l1 = seen[0][0][:2], seen[0][1]
    assert torch.equal(h0, z_L) and torch.equal(i0, z_H + x)
    assert torch.equal(seen[1][0][0], l1) and torch.equal(seen[1][0][1], z_H + x)
    assert torch.equal(seen[2][0][0], z_H) and torch.equal(seen[2][0][1], seen[1][1])
    assert torch.equal(new_H, seen[2][1]) and torch.equal(new_L, seen[1][1])


def test_gradient_spans_the_whole_last_round():
    cfg = trm_config(l_layers=1)
    model = HRM(cfg).train()
    batch = tiny_batch(cfg)
    _, out = model(model.initial_carry(batch), batch)
    out.logits.float().square().mean().backward()
    assert all(p.grad is not None for p in model.inner.L_level.parameters())


def test_halts_when_q_halt_is_positive_without_a_second_forward():
    cfg = trm_config(halt_max_steps=4, halt_exploration_prob=0.0)
    model = HRM(cfg).train()
    with torch.no_grad():
        model.inner.q_head.bias.copy_(torch.tensor([0.5, 9.0]))  # q_halt > 0, q_continue bigger
    calls = []
    model.inner.L_level.register_forward_hook(lambda *a: calls.append(1))
    batch = tiny_batch(cfg)
    carry, out = model(model.initial_carry(batch), batch)
    assert bool(carry.halted.all()) and out.target_q_continue is None
    assert len(calls) == cfg.h_cycles * (cfg.l_cycles + 1)  # one segment, no bootstrap forward
    _, metrics = act_loss(out, carry)
    assert "q_continue_loss" not in metrics
    with torch.no_grad():
        model.inner.q_head.bias.copy_(torch.tensor([-0.5, -9.0]))  # q_halt < 0 < ... continues
    carry, _ = model(model.initial_carry(batch), batch)
    assert not bool(carry.halted.any())


def test_hrm_halt_rule_can_be_switched_to_q_halt():
    cfg = tiny_config(halt_rule="q_halt", halt_exploration_prob=0.0)
    model = HRM(cfg).train()
    with torch.no_grad():
        model.inner.q_head.bias.copy_(torch.tensor([0.5, 9.0]))
    batch = tiny_batch(cfg)
    carry, out = model(model.initial_carry(batch), batch)
    assert bool(carry.halted.all()) and out.target_q_continue is None


def trm_checkpoint_keys(layers: int, mlp_t: bool) -> list[str]:
    """The key layout of a TRM checkpoint (reference doc, section 10)."""
    keys = [
        "inner.H_init", "inner.L_init", "inner.embed_tokens.embedding_weight",
        "inner.lm_head.weight", "inner.q_head.weight", "inner.q_head.bias",
        "inner.puzzle_emb.weights",
    ]  # fmt: skip
    for n in range(layers):
        mixer = ["mlp_t.gate_up_proj", "mlp_t.down_proj"] if mlp_t else [
            "self_attn.qkv_proj", "self_attn.o_proj"
        ]  # fmt: skip
        for part in [*mixer, "mlp.gate_up_proj", "mlp.down_proj"]:
            keys.append(f"inner.L_level.layers.{n}.{part}.weight")
    return keys


@pytest.mark.parametrize("mlp_t", [False, True])
def test_trm_layout_state_dict_loads(mlp_t):
    cfg = trm_config(mixer="mlp" if mlp_t else "attention", pos_encodings="none")
    source = HRM(cfg)
    state = source.state_dict()
    assert sorted(state) == sorted(trm_checkpoint_keys(cfg.l_layers, mlp_t))
    wrapped = {f"_orig_mod.model.{k}": v.clone() + 1 for k, v in state.items()}
    target = HRM(cfg)
    assert load_model_state(target, wrapped) == {"missing": [], "unexpected": [], "mismatched": []}
    assert torch.equal(target.inner.lm_head.weight, state["inner.lm_head.weight"] + 1)


def test_trm_mismatches_are_named():
    state = HRM(trm_config()).state_dict()
    state["inner.L_level.layers.2.mlp.down_proj.weight"] = torch.zeros(1)
    del state["inner.q_head.bias"]
    with pytest.raises(CheckpointError, match=r"missing \(1\): inner.q_head.bias") as e:
        load_model_state(HRM(trm_config()), state)
    assert "unexpected (1): inner.L_level.layers.2.mlp.down_proj.weight" in str(e.value)


@pytest.mark.parametrize(
    "model",
    [
        dict(kind="trm", l_layers=1, h_cycles=2, l_cycles=2, puzzle_positions=2),
        dict(kind="trm", mixer="mlp", pos_encodings="none", l_layers=1, h_cycles=2, l_cycles=2),
        dict(levels=[[1, 1], [1, 2], [1, 2]]),
    ],
)
def test_trm_and_three_levels_run_through_the_trainer(tmp_path, model):
    from arcdata.hrm.train import train
    from tests.hrm.hrm_synthetic import SyntheticDataset
    from tests.hrm.test_train import TINY_MODEL, _weights, tiny_train_config

    cfg = tiny_train_config(model={**TINY_MODEL, **model}, max_steps=3, ema=0.9)
    result = train(SyntheticDataset(), cfg, tmp_path / "r")
    assert result["step"] == 3 and result["eval"]["count"] > 0
    state = _weights(tmp_path / "r")
    rebuilt = HRM(type(cfg.model)(**{**state["config"]["model"]}))
    load_model_state(rebuilt, state["model"])

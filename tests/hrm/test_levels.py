"""HRM with N levels: two levels are HRM ACT v1 bit for bit; more levels nest their cycles."""

from __future__ import annotations

import pytest
import torch

from arcdata.errors import ArcdataError
from arcdata.hrm.act import HRM
from arcdata.hrm.config import from_dict, load
from tests.hrm.hrm_synthetic import tiny_batch, tiny_config


def reference_segment(inner, z_H, z_L, inputs, ids, h_cycles, l_cycles):
    """HRM ACT v1's segment written out by hand, as the reference code runs it."""
    x = inner.embed(inputs, ids)
    rotary = inner.positions()
    with torch.no_grad():
        for h in range(h_cycles):
            for l_step in range(l_cycles):
                if h < h_cycles - 1 or l_step < l_cycles - 1:
                    z_L = inner.L_level(z_L, z_H + x, rotary)
            if h < h_cycles - 1:
                z_H = inner.H_level(z_H, z_L, rotary)
    z_L = inner.L_level(z_L, z_H + x, rotary)
    z_H = inner.H_level(z_H, z_L, rotary)
    return z_H, z_L, inner.lm_head(z_H[:, inner.config.puzzle_emb_len :])


@pytest.mark.parametrize("pos", ["rope", "learned"])
def test_two_levels_are_hrm_act_v1_bitwise(pos):
    old = tiny_config(pos_encodings=pos, h_layers=2, l_layers=1, h_cycles=2, l_cycles=3)
    new = tiny_config(pos_encodings=pos, levels=[{"layers": 2, "cycles": 2}, [1, 3]])
    torch.manual_seed(0)
    a = HRM(old).eval()
    b = HRM(new).eval()
    assert list(a.state_dict()) == list(b.state_dict())
    b.load_state_dict(a.state_dict())
    a.inner.puzzle_emb.weights.normal_()
    b.inner.puzzle_emb.weights.copy_(a.inner.puzzle_emb.weights)
    batch = tiny_batch(old)
    z = a.inner.initial_state(4, torch.device("cpu"))
    z_H, z_L, logits = reference_segment(
        a.inner, *z, batch["inputs"], batch["puzzle_identifiers"], 2, 3
    )
    for model in (a, b):
        got = model.inner(*z, batch["inputs"], batch["puzzle_identifiers"])
        assert torch.equal(got[0], z_H) and torch.equal(got[1], z_L) and torch.equal(got[2], logits)
    ca, cb = a.initial_carry(batch), b.initial_carry(batch)
    for _ in range(3):
        (ca, oa), (cb, ob) = a(ca, batch), b(cb, batch)
        assert torch.equal(oa.logits, ob.logits) and torch.equal(oa.q_halt_logits, ob.q_halt_logits)


def test_three_levels_nest_cycles_and_take_one_gradient_step_each():
    cfg = tiny_config(levels=[[1, 2], [1, 3], [1, 2]])
    model = HRM(cfg)
    inner = model.inner
    assert inner.names == ["H_level", "M1_level", "L_level"]
    keys = set(model.state_dict())
    assert {"inner.M1_init", "inner.M1_level.layers.0.mlp.down_proj.weight"} <= keys
    calls = []
    for i, name in enumerate(inner.names):
        getattr(inner, name).register_forward_hook(
            lambda *a, i=i: calls.append((i, torch.is_grad_enabled()))
        )
    batch = tiny_batch(cfg)
    states = inner.initial_state(4, torch.device("cpu"))
    assert len(states) == 3
    out = inner(*states, batch["inputs"], batch["puzzle_identifiers"])
    # H updates 2 times, M 2*3, L 2*3*2; each M update follows 2 L updates, each H 3 M rounds.
    order = [i for i, _ in calls]
    assert order == ([2, 2, 1] * 3 + [0]) * 2
    assert [g for _, g in calls] == [False] * (len(calls) - 3) + [True] * 3
    assert order[-3:] == [2, 1, 0]
    assert all(not z.requires_grad for z in out[:3]) and out[3].requires_grad


def test_three_levels_gradient_reaches_every_level():
    cfg = tiny_config(levels=[[1, 1], [1, 2], [1, 2]])
    model = HRM(cfg).train()
    batch = tiny_batch(cfg)
    carry, out = model(model.initial_carry(batch), batch)
    out.logits.float().square().mean().backward()
    for name in model.inner.names:
        grads = [p.grad for p in getattr(model.inner, name).parameters()]
        assert all(g is not None and g.abs().sum() > 0 for g in grads), name
    assert len(carry.z_mid) == 1 and carry.z_mid[0].shape == carry.z_H.shape


def test_one_level_is_a_plain_transformer():
    cfg = tiny_config(levels=[[2, 1]], halt_max_steps=1)
    model = HRM(cfg)
    assert not any("L_level" in k for k in model.state_dict())
    batch = tiny_batch(cfg)
    carry, out = model(model.initial_carry(batch), batch)
    assert out.logits.shape == (4, cfg.seq_len, cfg.vocab_size) and bool(carry.halted.all())


def test_levels_in_the_training_config(tmp_path):
    path = tmp_path / "c.yaml"
    path.write_text("model:\n  levels:\n    - {layers: 2, cycles: 2}\n    - [1, 2]\n")
    cfg = load(path, ["model.kind=hrm"])
    assert cfg.model.level_specs == [(2, 2), (1, 2)]
    cfg = load(None, ["model.levels=[[1, 2], [1, 2], [1, 3]]"])
    assert cfg.model.levels[2] == {"layers": 1, "cycles": 3}
    for bad in ([], [[1, 0]], [{"layers": 1}], "deep"):
        with pytest.raises(ArcdataError, match="model.levels"):
            from_dict({"model": {"levels": bad}})

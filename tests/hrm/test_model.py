import pytest
import torch

from arcdata.errors import ArcdataError
from arcdata.hrm.act import HRM
from arcdata.hrm.model import HRMConfig
from tests.hrm.hrm_synthetic import tiny_batch, tiny_config


def test_default_config_is_the_27m_reference_model():
    torch.manual_seed(0)
    model = HRM(HRMConfig(vocab_size=11, seq_len=81, num_puzzle_identifiers=1))
    n = sum(p.numel() for p in model.parameters())
    assert 27_200_000 < n < 27_400_000
    inner = model.inner
    assert inner.H_level.layers[0].mlp.gate_up_proj.weight.shape == (2 * 1536, 512)
    assert len(inner.H_level.layers) == len(inner.L_level.layers) == 4
    # heads and embeddings initialised like the reference
    assert torch.all(inner.q_head.weight == 0) and torch.all(inner.q_head.bias == -5)
    assert abs(inner.embed_tokens.embedding_weight.std().item() - 512**-0.5) < 0.01
    assert abs(inner.lm_head.weight.std().item() - 512**-0.5) < 0.005
    assert torch.all(inner.puzzle_emb.weights == 0)
    assert abs(inner.H_init.std().item() - 1.0) < 0.15


def test_state_dict_uses_reference_key_layout():
    keys = set(HRM(tiny_config(pos_encodings="learned")).state_dict())
    for key in (
        "inner.H_init",
        "inner.L_init",
        "inner.embed_tokens.embedding_weight",
        "inner.embed_pos.embedding_weight",
        "inner.lm_head.weight",
        "inner.q_head.weight",
        "inner.q_head.bias",
        "inner.puzzle_emb.weights",
        "inner.H_level.layers.0.self_attn.qkv_proj.weight",
        "inner.L_level.layers.0.self_attn.o_proj.weight",
        "inner.L_level.layers.0.mlp.gate_up_proj.weight",
        "inner.H_level.layers.0.mlp.down_proj.weight",
    ):
        assert key in keys
    assert not any("rotary" in k or "local" in k for k in HRM(tiny_config()).state_dict())


@pytest.mark.parametrize("pos", ["rope", "learned"])
def test_segment_shapes_and_detached_carry(pos):
    cfg = tiny_config(pos_encodings=pos)
    inner = HRM(cfg).inner
    batch = tiny_batch(cfg)
    z_H, z_L = inner.initial_state(4, torch.device("cpu"))
    assert z_H.shape == (4, cfg.seq_len + 1, cfg.hidden_size)
    z_H, z_L, logits, q_halt, q_cont = inner(z_H, z_L, batch["inputs"], batch["puzzle_identifiers"])
    assert logits.shape == (4, cfg.seq_len, cfg.vocab_size)
    assert q_halt.shape == q_cont.shape == (4,)
    assert logits.requires_grad and not z_H.requires_grad and not z_L.requires_grad


def test_only_last_L_and_H_update_carry_gradient():
    cfg = tiny_config(h_cycles=3, l_cycles=2)
    inner = HRM(cfg).inner
    calls = {"H": [], "L": []}
    inner.H_level.register_forward_hook(lambda *a: calls["H"].append(torch.is_grad_enabled()))
    inner.L_level.register_forward_hook(lambda *a: calls["L"].append(torch.is_grad_enabled()))
    batch = tiny_batch(cfg)
    inner(
        *inner.initial_state(4, torch.device("cpu")), batch["inputs"], batch["puzzle_identifiers"]
    )
    assert calls["L"] == [False] * 5 + [True]
    assert calls["H"] == [False, False, True]


def test_puzzle_embedding_is_prepended_and_used():
    cfg = tiny_config()
    inner = HRM(cfg).inner.eval()
    batch = tiny_batch(cfg)
    state = inner.initial_state(4, torch.device("cpu"))
    before = inner(*state, batch["inputs"], batch["puzzle_identifiers"])[2]
    inner.puzzle_emb.weights.normal_()
    after = inner(*state, batch["inputs"], batch["puzzle_identifiers"])[2]
    assert not torch.allclose(before, after)


def test_puzzle_embedding_wider_than_hidden_takes_several_positions():
    cfg = tiny_config(puzzle_emb_ndim=48)  # hidden 32 -> two positions, zero-padded
    assert cfg.puzzle_emb_len == 2
    inner = HRM(cfg).inner
    z_H, _ = inner.initial_state(4, torch.device("cpu"))
    assert z_H.shape[1] == cfg.seq_len + 2
    batch = tiny_batch(cfg)
    logits = inner(
        *inner.initial_state(4, torch.device("cpu")), batch["inputs"], batch["puzzle_identifiers"]
    )[2]
    assert logits.shape == (4, cfg.seq_len, cfg.vocab_size)


def test_no_puzzle_embedding():
    cfg = tiny_config(puzzle_emb_ndim=0)
    model = HRM(cfg)
    assert not any("puzzle_emb" in k for k in model.state_dict())
    batch = tiny_batch(cfg)
    carry, out = model(model.initial_carry(batch), batch)
    assert out.logits.shape == (4, cfg.seq_len, cfg.vocab_size)


def test_bad_config_is_an_arcdata_error():
    with pytest.raises(ArcdataError, match="pos_encodings"):
        HRMConfig(pos_encodings="sinusoidal")

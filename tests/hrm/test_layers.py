import math

import torch

from arcdata.hrm.layers import (
    Attention,
    Block,
    Rotary,
    SwiGLU,
    apply_rotary,
    rms_norm,
    swiglu_inner_size,
    trunc_normal_,
)


def test_swiglu_inner_size_matches_reference():
    assert swiglu_inner_size(512, 4) == 1536
    assert swiglu_inner_size(64, 4) == 256


def test_trunc_normal_has_requested_std_and_bounds():
    torch.manual_seed(0)
    x = trunc_normal_(torch.empty(200_000), std=0.02)
    assert abs(x.std().item() - 0.02) < 0.0005
    assert x.abs().max().item() <= 2 * 0.02 / 0.8796256610342398 + 1e-6


def test_rms_norm_unit_rms_and_keeps_dtype():
    x = torch.randn(3, 5, 64) * 7 + 1
    y = rms_norm(x)
    assert torch.allclose(y.pow(2).mean(-1), torch.ones(3, 5), atol=1e-4)
    assert rms_norm(x.bfloat16()).dtype == torch.bfloat16


def test_attention_is_not_causal():
    torch.manual_seed(0)
    attn = Attention(32, 4)
    x = torch.randn(1, 6, 32)
    y = x.clone()
    y[0, -1] += 1.0  # change the last position only
    assert not torch.allclose(attn(x, None)[0, 0], attn(y, None)[0, 0])


def test_attention_uses_fused_qkv_rows_in_q_k_v_order():
    torch.manual_seed(0)
    attn = Attention(16, 2)
    x = torch.randn(2, 5, 16)
    w = attn.qkv_proj.weight
    q, k, v = (x @ w[i * 16 : (i + 1) * 16].T for i in range(3))
    heads = lambda t: t.view(2, 5, 2, 8).transpose(1, 2)  # noqa: E731
    scores = heads(q) @ heads(k).transpose(-1, -2) / math.sqrt(8)
    out = (scores.softmax(-1) @ heads(v)).transpose(1, 2).reshape(2, 5, 16) @ attn.o_proj.weight.T
    assert torch.allclose(attn(x, None), out, atol=1e-5)


def test_swiglu_uses_fused_gate_up_rows_in_gate_up_order():
    torch.manual_seed(0)
    mlp = SwiGLU(16, 4)
    inner = swiglu_inner_size(16, 4)
    x = torch.randn(3, 16)
    gate, up = x @ mlp.gate_up_proj.weight[:inner].T, x @ mlp.gate_up_proj.weight[inner:].T
    expected = (torch.nn.functional.silu(gate) * up) @ mlp.down_proj.weight.T
    assert torch.allclose(mlp(x), expected, atol=1e-5)


def test_rotary_scores_depend_only_on_relative_position():
    torch.manual_seed(0)
    cos, sin = Rotary(8, 20)()
    q, k = torch.randn(1, 1, 1, 8), torch.randn(1, 1, 1, 8)

    def score(i, j):
        qi = apply_rotary(q, cos[i : i + 1], sin[i : i + 1])
        kj = apply_rotary(k, cos[j : j + 1], sin[j : j + 1])
        return (qi * kj).sum().item()

    assert math.isclose(score(2, 5), score(10, 13), rel_tol=1e-4)
    assert not math.isclose(score(2, 5), score(2, 9), rel_tol=1e-3)


def test_block_is_post_norm():
    torch.manual_seed(0)
    out = Block(32, 2, 4, 1e-5)(torch.randn(2, 4, 32) * 10, None)
    assert torch.allclose(out.pow(2).mean(-1), torch.ones(2, 4), atol=1e-3)

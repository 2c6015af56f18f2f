import pickle

import pytest
import torch

from arcdata.errors import ArcdataError
from arcdata.hrm.act import HRM
from arcdata.hrm.checkpoint import CheckpointError, load_model_state, strip_prefixes
from arcdata.hrm.layers import swiglu_inner_size
from tests.hrm.hrm_synthetic import tiny_batch, tiny_config


def reference_state_dict(cfg, prefix="_orig_mod.model.", seed=1) -> dict[str, torch.Tensor]:
    """A state dict laid out like the reference trainer's, written from the documented key list."""
    g = torch.Generator().manual_seed(seed)
    d, inner = cfg.hidden_size, swiglu_inner_size(cfg.hidden_size, cfg.expansion)

    def rnd(*shape, std=0.2):
        return torch.randn(*shape, generator=g) * std

    sd = {
        "inner.H_init": rnd(d, std=1),
        "inner.L_init": rnd(d, std=1),
        "inner.embed_tokens.embedding_weight": rnd(cfg.vocab_size, d),
        "inner.lm_head.weight": rnd(cfg.vocab_size, d),
        "inner.q_head.weight": rnd(2, d),
        "inner.q_head.bias": rnd(2),
        "inner.puzzle_emb.weights": rnd(cfg.num_puzzle_identifiers, cfg.puzzle_emb_ndim),
    }
    for level, n in (("H", cfg.h_layers), ("L", cfg.l_layers)):
        for i in range(n):
            p = f"inner.{level}_level.layers.{i}."
            sd[p + "self_attn.qkv_proj.weight"] = rnd(3 * d, d)
            sd[p + "self_attn.o_proj.weight"] = rnd(d, d)
            sd[p + "mlp.gate_up_proj.weight"] = rnd(2 * inner, d)
            sd[p + "mlp.down_proj.weight"] = rnd(d, inner)
    return {prefix + k: v for k, v in sd.items()}


def _outputs(model, batch):
    model.eval()
    carry, out = model(model.initial_carry(batch), batch)
    return out.logits, out.q_halt_logits


def test_loads_reference_layout_file_and_uses_it(tmp_path):
    cfg = tiny_config()
    ref = reference_state_dict(cfg)
    path = tmp_path / "reference.pt"
    torch.save(ref, path)
    model = HRM(cfg)
    batch = tiny_batch(cfg)
    before = _outputs(model, batch)
    report = load_model_state(model, path)
    assert report == {"missing": [], "unexpected": [], "mismatched": []}
    after = _outputs(model, batch)
    assert not torch.allclose(before[0], after[0]) and not torch.allclose(before[1], after[1])
    # the model holds exactly the checkpoint's tensors
    stripped = strip_prefixes(ref)
    for k, v in model.state_dict().items():
        assert torch.equal(v, stripped[k]), k
    # and its output is a function of them: a second model loaded the same way agrees
    other = HRM(tiny_config())
    load_model_state(other, ref)
    assert torch.allclose(_outputs(other, batch)[0], after[0])


@pytest.mark.parametrize("prefix", ["", "model.", "_orig_mod.", "_orig_mod.model."])
def test_prefixes_are_tolerated(prefix):
    cfg = tiny_config()
    assert load_model_state(HRM(cfg), reference_state_dict(cfg, prefix))["missing"] == []


def test_reports_missing_unexpected_and_misshaped_keys_by_name():
    cfg = tiny_config()
    sd = reference_state_dict(cfg)
    del sd["_orig_mod.model.inner.q_head.bias"]
    sd["_orig_mod.model.inner.extra.weight"] = torch.zeros(1)
    sd["_orig_mod.model.inner.puzzle_emb.weights"] = torch.zeros(99, cfg.puzzle_emb_ndim)
    with pytest.raises(CheckpointError) as e:
        load_model_state(HRM(cfg), sd)
    msg = str(e.value)
    assert "inner.q_head.bias" in msg and "inner.extra.weight" in msg
    assert "inner.puzzle_emb.weights" in msg and "(99, 32)" in msg
    assert isinstance(e.value, ArcdataError)

    model = HRM(cfg)
    report = load_model_state(model, sd, strict=False)
    assert report["missing"] == ["inner.q_head.bias"] and report["unexpected"] == [
        "inner.extra.weight"
    ]
    assert torch.equal(model.inner.lm_head.weight, sd["_orig_mod.model.inner.lm_head.weight"])


class _Evil:
    def __reduce__(self):
        return (print, ("code ran",))


def test_files_are_read_weights_only(tmp_path):
    path = tmp_path / "evil.pt"
    with open(path, "wb") as f:
        pickle.dump({"inner.H_init": _Evil()}, f, protocol=2)
    with pytest.raises(CheckpointError, match="weights-only"):
        load_model_state(HRM(tiny_config()), path)
    with pytest.raises(CheckpointError, match="no such"):
        load_model_state(HRM(tiny_config()), tmp_path / "missing.pt")

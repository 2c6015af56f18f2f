"""Weight EMA: the arithmetic, evaluation and checkpoints on the average, exact resume."""

from __future__ import annotations

import pytest
import torch

from arcdata.errors import ConfigError
from arcdata.hrm.act import HRM
from arcdata.hrm.ema import EMA
from arcdata.hrm.train import train
from tests.hrm.hrm_synthetic import SyntheticDataset, tiny_config
from tests.hrm.test_train import _weights, tiny_train_config


def test_ema_arithmetic_by_hand():
    model = HRM(tiny_config())
    ema = EMA(model, 0.9)
    w0 = model.inner.lm_head.weight.detach().clone()
    with torch.no_grad():
        model.inner.lm_head.weight.add_(1.0)
    ema.update(model)
    assert torch.allclose(ema.model.inner.lm_head.weight, 0.1 * (w0 + 1.0) + 0.9 * w0, atol=1e-6)
    with torch.no_grad():
        model.inner.lm_head.weight.mul_(3.0)
    ema.update(model)
    first = 0.1 * (w0 + 1.0) + 0.9 * w0
    assert torch.allclose(
        ema.model.inner.lm_head.weight, 0.1 * 3.0 * (w0 + 1.0) + 0.9 * first, atol=1e-6
    )
    # buffers are copied, not averaged; parameters of the copy never train
    model.inner.puzzle_emb.weights.fill_(2.0)
    assert torch.all(ema.synced(model).inner.puzzle_emb.weights == 2.0)
    assert not any(p.requires_grad for p in ema.model.parameters())


def test_rate_is_checked():
    with pytest.raises(ConfigError, match="ema"):
        tiny_train_config(ema=1.5)
    assert tiny_train_config().ema == 0.0  # off by default


def test_checkpoint_holds_the_average_and_the_trained_weights(tmp_path):
    result = train(SyntheticDataset(), tiny_train_config(ema=0.5, max_steps=4), tmp_path / "r")
    state = _weights(tmp_path / "r")
    assert set(state) >= {"model", "train_model"}
    avg, raw = state["model"], state["train_model"]
    assert not torch.equal(avg["inner.lm_head.weight"], raw["inner.lm_head.weight"])
    assert torch.equal(avg["inner.puzzle_emb.weights"], raw["inner.puzzle_emb.weights"])
    assert torch.equal(result["model"].inner.lm_head.weight, avg["inner.lm_head.weight"])
    assert torch.equal(result["train_model"].inner.lm_head.weight, raw["inner.lm_head.weight"])
    # evaluation ran on the average: its metrics differ from the trained weights' own
    assert result["eval"]["count"] > 0


def test_resume_restores_the_ema_bitwise(tmp_path):
    data = SyntheticDataset(n_train=40)
    full = tiny_train_config(ema=0.8, max_steps=6, eval_interval=-1, checkpoint_interval=0)
    train(data, full, tmp_path / "full")
    first = tiny_train_config(ema=0.8, max_steps=3, eval_interval=-1, checkpoint_interval=0)
    train(data, first, tmp_path / "split")
    train(data, full, tmp_path / "split", resume=True)
    a, b = _weights(tmp_path / "full"), _weights(tmp_path / "split")
    for entry in ("model", "train_model"):
        for k in a[entry]:
            assert torch.equal(a[entry][k], b[entry][k]), (entry, k)
    assert not torch.equal(
        a["model"]["inner.lm_head.weight"], a["train_model"]["inner.lm_head.weight"]
    )

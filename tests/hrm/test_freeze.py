"""``freeze: network``: only the puzzle embeddings train, and no network optimiser exists."""

import dataclasses

import pytest
import torch

from arcdata.errors import ConfigError
from arcdata.hrm.act import HRM
from arcdata.hrm.train import build_optimizers, train
from tests.hrm.hrm_synthetic import SyntheticDataset
from tests.hrm.test_train import tiny_train_config


def _initial_model(cfg) -> HRM:
    """The model ``train`` starts from: same seed, the synthetic dataset's sizes."""
    data = SyntheticDataset()
    torch.manual_seed(cfg.seed)
    sizes = dict(
        vocab_size=data.vocab_size, seq_len=data.seq_len, num_puzzle_identifiers=data.num_ids
    )
    return HRM(dataclasses.replace(cfg.model, **sizes))


def test_frozen_network_is_bitwise_unchanged_while_embeddings_move(tmp_path):
    cfg = tiny_train_config(freeze="network", max_steps=6, eval_interval=-1, lr_warmup_steps=1)
    before = _initial_model(cfg).state_dict()
    result = train(SyntheticDataset(), cfg, tmp_path / "run")
    after = result["train_model"].state_dict()
    table = "inner.puzzle_emb.weights"
    for key, value in before.items():
        if key != table:
            assert torch.equal(value, after[key]), key
    assert not torch.equal(before[table], after[table])
    assert after[table][1:].abs().sum() > 0


def test_unfrozen_training_moves_the_network(tmp_path):
    cfg = tiny_train_config(max_steps=3, eval_interval=-1)
    before = _initial_model(cfg).state_dict()
    after = train(SyntheticDataset(), cfg, tmp_path / "run")["train_model"].state_dict()
    changed = [
        k
        for k in before
        if k != "inner.puzzle_emb.weights" and not torch.equal(before[k], after[k])
    ]
    assert changed


def test_frozen_network_builds_no_network_optimiser():
    cfg = tiny_train_config(freeze="network")
    model = _initial_model(cfg)
    optimizer, sparse = build_optimizers(model, cfg)
    assert optimizer is None and sparse is not None
    assert not any(p.requires_grad for p in model.parameters())


def test_freeze_values_are_checked():
    with pytest.raises(ConfigError, match="freeze must be"):
        tiny_train_config(freeze="all")
    cfg = tiny_train_config(freeze="network", model={"puzzle_emb_ndim": 0})
    with pytest.raises(ConfigError, match="nothing to train"):
        build_optimizers(_initial_model(cfg), cfg)

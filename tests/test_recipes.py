"""Every shipped recipe loads and is what it says: the tiny CPU one, the paper's GPU ones."""

from __future__ import annotations

import pytest

from arcdata.config import load_pipeline
from arcdata.hrm.config import load
from tests.conftest import REPO

RECIPES = sorted((REPO / "recipes").glob("*.yaml"))
PAPER = {"arc-agi-1": (0.1, 1e-2), "sudoku-extreme-1k": (1.0, 1e-4), "maze-hard-1k": (1.0, 1e-4)}


def test_the_recipes_are_there():
    assert {p.stem for p in RECIPES} >= {"sudoku4-tiny", *PAPER}


@pytest.mark.parametrize("path", RECIPES, ids=lambda p: p.stem)
def test_every_recipe_loads_with_known_keys(path):
    cfg = load(path)  # unknown keys or bad values raise ConfigError naming them
    assert cfg.max_steps > 0 and cfg.global_batch_size > 0


@pytest.mark.parametrize("name", sorted(PAPER))
def test_paper_recipes_follow_the_reference(name):
    cfg = load(REPO / "recipes" / f"{name}.yaml")
    weight_decay, emb_lr = PAPER[name]
    m = cfg.model
    assert (m.hidden_size, m.num_heads, m.h_layers, m.l_layers, m.h_cycles, m.l_cycles) == (
        512, 8, 4, 4, 2, 2,
    )  # fmt: skip
    assert (m.halt_max_steps, m.puzzle_emb_ndim, m.expansion) == (16, 512, 4.0)
    assert (cfg.global_batch_size, cfg.lr, cfg.lr_warmup_steps, cfg.lr_schedule) == (
        768, 1e-4, 2000, "constant",
    )  # fmt: skip
    assert (cfg.weight_decay, cfg.puzzle_emb_lr, cfg.puzzle_emb_weight_decay) == (
        weight_decay, emb_lr, weight_decay,
    )  # fmt: skip
    assert (cfg.beta1, cfg.beta2, cfg.loss_type, cfg.device) == (0.9, 0.95, "stablemax", "cuda")
    # the reference's epochs of one version per group, in optimiser steps of batch 768
    epochs, examples = (100_000, 4_000) if name == "arc-agi-1" else (20_000, 1_000)
    assert cfg.max_steps == pytest.approx(epochs * examples / 768, rel=0.01)


def test_the_tiny_recipe_fits_a_cpu_and_its_pipeline_resolves():
    from arcdata.hrm.act import HRM

    cfg = load(REPO / "recipes" / "sudoku4-tiny.yaml")
    assert cfg.device == "cpu" and cfg.train_mode == "examples"
    assert sum(p.numel() for p in HRM(cfg.model).parameters()) < 1e6
    pipeline = load_pipeline(REPO / "pipelines" / "sudoku4-tiny.yaml", [])
    assert pipeline["codec"] == "sudoku4" and pipeline["augment"]["sudoku"]
    spec = pipeline["sources"]["generated"]
    assert spec["count"] * (pipeline["augment"]["versions"] + 1) >= 10 * cfg.global_batch_size

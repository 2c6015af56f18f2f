"""``train --init``: tensors copied by name and shape, puzzle rows carried by identifier name."""

from __future__ import annotations

import json
from pathlib import Path

import polars as pl
import pytest
import torch
from click.testing import CliRunner

from arcdata.builder.driver import build
from arcdata.errors import ConfigError
from arcdata.hrm.act import HRM
from arcdata.hrm.init import initialise
from arcdata.hrm.source import PUZZLE_TABLE, Source
from tests.conftest import small_config
from tests.hrm.hrm_synthetic import tiny_config
from tests.hrm.test_source import reference_arch, write_reference

SOURCE_NAMES = ["<blank>", "a", "b", "c", "d"]


def _source(names=SOURCE_NAMES, **cfg) -> Source:
    torch.manual_seed(1)
    model = HRM(tiny_config(num_puzzle_identifiers=5, **cfg))
    with torch.no_grad():
        model.inner.puzzle_emb.weights.normal_()
    state = {k: v.clone() for k, v in model.state_dict().items()}
    return Source(Path("src"), "run", model.config, state, names, Path("ids") if names else None)


def _target(rows: int, **cfg) -> HRM:
    torch.manual_seed(2)
    return HRM(tiny_config(num_puzzle_identifiers=rows, **cfg))


def test_rows_follow_their_names_to_new_ids():
    src = _source()
    theirs = src.state[PUZZLE_TABLE]
    model = _target(4)
    report = initialise(model, src, ["<blank>", "c", "x", "a"])
    table = model.inner.puzzle_emb.weights
    assert torch.equal(table[0], theirs[0])  # the blank
    assert torch.equal(table[1], theirs[3])  # "c" moved from id 3 to id 1 and kept its vector
    assert torch.equal(table[3], theirs[1])  # "a" moved from 1 to 3
    assert torch.allclose(table[2], (theirs[1] + theirs[3]) / 2)  # new: mean of the carried
    r = report.rows
    assert (r.by, r.carried, r.new, r.dropped, r.blank) == ("name", 2, 1, 2, "carried")
    assert "mean of the 2 carried rows" in r.new_rows
    # Every network tensor fits, so every one is copied.
    for key, value in model.state_dict().items():
        if key != PUZZLE_TABLE:
            assert torch.equal(value, src.state[key]), key
    assert not report.skipped and not report.fresh and len(report.copied) == len(src.state) - 1


def test_zero_option_leaves_new_rows_at_zero():
    model = _target(4)
    report = initialise(model, _source(), ["<blank>", "c", "x", "a"], "zero")
    assert torch.count_nonzero(model.inner.puzzle_emb.weights[2]) == 0
    assert report.rows.new_rows == "zero" and report.rows.carried == 2
    with pytest.raises(ConfigError, match="init_embeddings"):
        initialise(_target(4), _source(), None, "random")


def test_unknown_names_carry_nothing_by_position():
    """Same table size, but without the checkpoint's map no row is matched."""
    src = _source(names=None)
    theirs = src.state[PUZZLE_TABLE]
    model = _target(5)
    report = initialise(model, src, SOURCE_NAMES)
    table = model.inner.puzzle_emb.weights
    mean = theirs[1:].mean(dim=0)
    for i in range(1, 5):
        assert torch.allclose(table[i], mean)  # not theirs[i]
    r = report.rows
    assert (r.by, r.carried, r.new, r.dropped) == ("none", 0, 4, 4)
    assert "never carried by position" in r.note and "identifiers.json" in r.note
    model = _target(5)
    report = initialise(model, _source(), None, "zero")  # this dataset's names unknown
    assert torch.count_nonzero(model.inner.puzzle_emb.weights[1:]) == 0
    assert "this dataset's identifier names are unknown" in report.rows.note


def test_mismatched_tensors_are_listed_with_the_reason():
    src = _source()
    src.state["inner.extra.weight"] = torch.zeros(3)
    model = _target(3, expansion=20.0, puzzle_emb_ndim=16)
    before = {k: v.clone() for k, v in model.state_dict().items()}
    report = initialise(model, src, ["<blank>", "a", "zz"])
    gate = "inner.H_level.layers.0.mlp.gate_up_proj.weight"
    assert report.skipped[gate] == "shape (512, 32) in the checkpoint, (1024, 32) here"
    assert torch.equal(model.state_dict()[gate], before[gate])  # left as initialised
    assert report.skipped["inner.extra.weight"] == "not a tensor of this model"
    assert "width 32 in the checkpoint, 16 here" in report.skipped[PUZZLE_TABLE]
    assert report.rows.by == "none" and report.rows.new == 2
    assert "inner.lm_head.weight" in report.copied
    text = "\n".join(report.lines())
    assert "skipped" in text and gate in text


def test_names_that_do_not_fit_this_dataset_are_refused():
    with pytest.raises(ConfigError, match="3 puzzle ids but 2 identifier names"):
        initialise(_target(3), _source(), ["<blank>", "a"])


@pytest.fixture(scope="module")
def arc_dataset(arc_dirs, tmp_path_factory):
    out = tmp_path_factory.mktemp("init") / "ds"
    build(small_config(arc_dirs, versions=2), out, workers=1, progress=False)
    return out


TINY = [
    "max_steps=1", "global_batch_size=8", "eval_interval=-1", "lr=0", "puzzle_emb_lr=0",
    "lr_warmup_steps=1", "progress=false", "model.forward_dtype=float32",
]  # fmt: skip


def test_train_init_from_a_reference_checkpoint(arc_dataset, tmp_path):
    """A reference-layout checkpoint of another build (ids in another order, one task more):
    with lr 0 the trained run holds exactly the carried weights."""
    from arcdata.cli import main

    names = pl.read_parquet(arc_dataset / "identifiers.parquet").sort("embedding_id")["name"]
    names = names.to_list()
    theirs_names = ["<blank>", *reversed(names[1:]), "gone"]
    torch.manual_seed(3)
    ref = HRM(tiny_config(vocab_size=12, seq_len=900, num_puzzle_identifiers=len(theirs_names)))
    with torch.no_grad():
        ref.inner.puzzle_emb.weights.normal_()
    path = write_reference(tmp_path / "ref", ref, reference_arch(), theirs_names, nest=True)

    run = tmp_path / "run"
    sets = [x for t in TINY for x in ("--set", t)]
    res = CliRunner().invoke(
        main, ["train", str(arc_dataset), "--init", str(path), "--out", str(run), *sets]
    )
    assert res.exit_code == 0, res.output
    assert "puzzle rows by name" in res.output
    report = json.loads((run / "init.json").read_text())
    rows = report["rows"]
    assert (rows["carried"], rows["new"], rows["dropped"]) == (len(names) - 1, 0, 1)
    assert report["source_kind"] == "reference" and not report["skipped"]
    state = torch.load(
        run / "checkpoints" / (run / "checkpoints" / "latest").read_text() / "state.pt",
        weights_only=True,
    )["model"]
    given = ref.state_dict()
    where = {n: i for i, n in enumerate(theirs_names)}
    for i, name in enumerate(names):
        assert torch.equal(state[PUZZLE_TABLE][i], given[PUZZLE_TABLE][where[name]]), name
    for key, value in given.items():
        if key != PUZZLE_TABLE:
            assert torch.equal(state[key], value), key
    config = (run / "config.yaml").read_text()
    assert f"init: {path}" in config and "hidden_size: 32" in config  # the checkpoint's model


def test_train_init_from_a_run_refuses_a_missing_config(arc_dataset, tmp_path):
    from arcdata.cli import main

    lone = tmp_path / "lone.pt"
    torch.save(HRM(tiny_config()).state_dict(), lone)
    res = CliRunner().invoke(main, ["train", str(arc_dataset), "--init", str(lone)])
    assert res.exit_code == 2 and "all_config.yaml" in res.output
    assert len(res.output.strip().splitlines()) == 1

"""A CHECKPOINT argument resolved: arcdata runs and reference checkpoints, with their id names."""

from __future__ import annotations

import json

import polars as pl
import pytest
import torch
import yaml

from arcdata.errors import ArcdataError
from arcdata.hrm.act import HRM
from arcdata.hrm.checkpoint import load_model_state
from arcdata.hrm.source import resolve_source
from arcdata.hrm.train import train
from tests.hrm.hrm_synthetic import SyntheticDataset, tiny_config
from tests.hrm.test_train import tiny_train_config

HRM_NAME = "hrm.hrm_act_v1@HierarchicalReasoningModel_ACTV1"
TRM_NAME = "recursive_reasoning.trm@TinyRecursiveReasoningModel_ACTV1"


def reference_arch(**extra) -> dict:
    """A tiny reference ``arch:`` mapping (no dataset sizes: the reference keeps those apart)."""
    arch = {
        "name": HRM_NAME, "loss": {"name": "losses@ACTLossHead"}, "H_cycles": 2, "L_cycles": 2,
        "H_layers": 1, "L_layers": 1, "hidden_size": 32, "num_heads": 2, "expansion": 2,
        "puzzle_emb_ndim": 32, "pos_encodings": "rope", "halt_max_steps": 3,
        "halt_exploration_prob": 0.1,
    }  # fmt: skip
    arch.update(extra)
    return arch


def write_reference(folder, model: HRM, arch: dict, names: list[str] | None = None, nest=False):
    """A reference-style run folder: compiled-wrapper key prefixes, all_config.yaml, names."""
    folder.mkdir(parents=True, exist_ok=True)
    ckpt_dir = folder / "checkpoints" if nest else folder
    ckpt_dir.mkdir(exist_ok=True)
    state = {f"_orig_mod.model.{k}": v for k, v in model.state_dict().items()}
    torch.save(state, ckpt_dir / "step_100")
    (folder / "all_config.yaml").write_text(yaml.safe_dump({"arch": arch, "lr": 1e-4}))
    if names is not None:
        (folder / "identifiers.json").write_text(json.dumps(names))
    return ckpt_dir / "step_100"


def test_reference_checkpoint_hrm(tmp_path):
    torch.manual_seed(0)
    model = HRM(tiny_config(num_puzzle_identifiers=4, seq_len=8))
    with torch.no_grad():
        model.inner.puzzle_emb.weights.normal_()
    names = ["<blank>", "a", "a_t1_0123456789", "b"]
    path = write_reference(tmp_path / "ref", model, reference_arch(), names, nest=True)
    src = resolve_source(path, seq_len=8)
    assert src.kind == "reference" and src.names == names
    assert src.names_path == tmp_path / "ref" / "identifiers.json"
    m = src.model
    assert (m.kind, m.vocab_size, m.seq_len, m.num_puzzle_identifiers) == ("hrm", 8, 8, 4)
    assert src.puzzle_rows == 4 and "inner.puzzle_emb.weights" in src.state
    fresh = HRM(m)
    load_model_state(fresh, src.state)  # strict: every key and shape fits
    for k, v in model.state_dict().items():
        assert torch.equal(fresh.state_dict()[k], v), k


def test_reference_trm_sizes_from_the_weights(tmp_path):
    """With mlp_t the positions (so seq_len) show in the weights; no names: names is None."""
    cfg = tiny_config(kind="trm", mixer="mlp", pos_encodings="none", seq_len=8, puzzle_positions=2)
    model = HRM(cfg)
    arch = reference_arch(name=TRM_NAME, mlp_t=True, pos_encodings="none", puzzle_emb_len=2)
    src = resolve_source(write_reference(tmp_path, model, arch))
    assert src.model.kind == "trm" and src.model.mixer == "mlp" and src.model.seq_len == 8
    assert src.names is None and src.names_path is None
    assert "no identifier names" in src.describe()
    load_model_state(HRM(src.model), src.state)


def test_arcdata_run_dir_and_its_state_file(tmp_path):
    run = tmp_path / "run"
    result = train(SyntheticDataset(), tiny_train_config(max_steps=2, eval_interval=-1), run)
    names = ["<blank>", "t1", "t2", "t3", "t4"]
    pl.DataFrame({"embedding_id": list(range(5)), "name": names}).with_columns(
        pl.col("embedding_id").cast(pl.Int32)
    ).write_parquet(run / "identifiers.parquet")
    src = resolve_source(run)
    assert src.kind == "run" and src.names == names and src.path == run
    assert src.model == result["model"].config
    for k, v in result["model"].state_dict().items():
        assert torch.equal(src.state[k], v), k
    state_file = next((run / "checkpoints").glob("step_*/state.pt"))
    again = resolve_source(state_file)
    assert again.names == names and again.model == src.model


def _assert_one_line(excinfo, *parts):
    text = str(excinfo.value)
    assert "\n" not in text, text
    for p in parts:
        assert p in text, text


def test_errors_name_the_path_and_the_fix(tmp_path):
    model = HRM(tiny_config())
    with pytest.raises(ArcdataError) as e:
        resolve_source(tmp_path / "nothing")
    _assert_one_line(e, "nothing", "no such run directory or checkpoint file")

    lone = tmp_path / "lone"
    lone.mkdir()
    torch.save(model.state_dict(), lone / "ckpt")
    with pytest.raises(ArcdataError) as e:
        resolve_source(lone / "ckpt", seq_len=8)
    _assert_one_line(e, str(lone / "ckpt"), "all_config.yaml", "copy the run's")

    (lone / "all_config.yaml").write_text("lr: 1\n")
    with pytest.raises(ArcdataError) as e:
        resolve_source(lone / "ckpt", seq_len=8)
    _assert_one_line(e, "all_config.yaml", "no 'arch:' mapping")

    (lone / "all_config.yaml").write_text("arch: [unclosed\n")
    with pytest.raises(ArcdataError) as e:
        resolve_source(lone / "ckpt", seq_len=8)
    _assert_one_line(e, "all_config.yaml", "cannot be read as YAML")

    (lone / "all_config.yaml").write_text(yaml.safe_dump({"arch": reference_arch()}))
    with pytest.raises(ArcdataError) as e:
        resolve_source(lone / "ckpt")  # rope: the weights do not tell the sequence length
    _assert_one_line(e, "all_config.yaml", "seq_len")

    (lone / "all_config.yaml").write_text(yaml.safe_dump({"arch": reference_arch(H_cyclez=1)}))
    with pytest.raises(ArcdataError) as e:
        resolve_source(lone / "ckpt", seq_len=8)
    _assert_one_line(e, "all_config.yaml", "H_cyclez")

    (lone / "all_config.yaml").write_text(yaml.safe_dump({"arch": reference_arch()}))
    (lone / "identifiers.json").write_text(json.dumps(["<blank>", "a"]))
    with pytest.raises(ArcdataError) as e:
        resolve_source(lone / "ckpt", seq_len=8)
    _assert_one_line(e, "identifiers.json", "2 names", "5 rows", "another build")

    (lone / "identifiers.json").write_text("{not json")
    with pytest.raises(ArcdataError) as e:
        resolve_source(lone / "ckpt", seq_len=8)
    _assert_one_line(e, "identifiers.json", "not a JSON file")

    (lone / "identifiers.json").unlink()
    (lone / "empty").write_bytes(b"")
    with pytest.raises(ArcdataError) as e:
        resolve_source(lone / "empty")
    _assert_one_line(e, "empty", "0 bytes")
    (lone / "junk").write_bytes(b"not a checkpoint at all")
    with pytest.raises(ArcdataError) as e:
        resolve_source(lone / "junk")
    _assert_one_line(e, "junk", "cannot be read")
    torch.save({"a": 1}, lone / "notensors")
    with pytest.raises(ArcdataError) as e:
        resolve_source(lone / "notensors")
    _assert_one_line(e, "notensors", "not a state dict of tensors")

    run = tmp_path / "run"
    run.mkdir()
    with pytest.raises(ArcdataError) as e:
        resolve_source(run)
    _assert_one_line(e, "not an arcdata run", "config.yaml")
    (run / "config.yaml").write_text("{}\n")
    with pytest.raises(ArcdataError) as e:
        resolve_source(run)
    _assert_one_line(e, "no checkpoint yet", "train it first")


def test_weights_that_do_not_fit_the_config_are_refused(tmp_path):
    model = HRM(tiny_config(seq_len=8))
    path = write_reference(tmp_path, model, reference_arch(H_layers=2))
    with pytest.raises(ArcdataError) as e:
        resolve_source(path, seq_len=8)
    _assert_one_line(e, "all_config.yaml describes", "missing inner.H_level.layers.1")
    path = write_reference(tmp_path, model, reference_arch(expansion=20))
    with pytest.raises(ArcdataError) as e:
        resolve_source(path, seq_len=8)
    _assert_one_line(e, "shapes", "gate_up_proj")

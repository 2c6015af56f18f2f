import pytest

from arcdata.errors import ConfigError
from arcdata.hrm.config import TrainConfig, from_dict, load


def test_defaults_are_the_reference():
    cfg = TrainConfig()
    assert cfg.model.hidden_size == 512 and cfg.model.halt_max_steps == 16
    assert (cfg.lr, cfg.beta1, cfg.beta2, cfg.lr_warmup_steps) == (1e-4, 0.9, 0.95, 2000)
    assert cfg.global_batch_size == 768


def test_yaml_and_overrides(tmp_path):
    path = tmp_path / "c.yaml"
    path.write_text("lr: 1e-4\nmodel:\n  hidden_size: 128\n  num_heads: 4\nmax_steps: 10\n")
    cfg = load(path, ["lr=3e-3", "model.h_cycles=3", "compile=true", "eval_max_batches=2"])
    assert cfg.lr == 3e-3 and isinstance(cfg.lr, float)
    assert cfg.model.hidden_size == 128 and cfg.model.h_cycles == 3 and cfg.model.num_heads == 4
    assert cfg.compile is True and cfg.max_steps == 10 and cfg.eval_max_batches == 2
    assert load(path).lr == 1e-4  # YAML reads "1e-4" as a string; it is coerced


@pytest.mark.parametrize(
    "data, key",
    [
        ({"lr_warmup_step": 5}, "lr_warmup_step"),
        ({"model": {"hidden": 5}}, "model.hidden"),
        ({"max_steps": "many"}, "max_steps"),
        ({"max_steps": 1.5}, "max_steps"),
        ({"lr_schedule": "linear"}, "lr_schedule"),
        ({"model": {"pos_encodings": "alibi"}}, "pos_encodings"),
    ],
)
def test_bad_keys_and_values_are_named(data, key):
    with pytest.raises(ConfigError, match=key):
        from_dict(data)


def test_bad_override_is_named():
    with pytest.raises(ConfigError, match="a.b.c"):
        load(None, ["a.b.c=1"])

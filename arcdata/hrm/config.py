"""Training configuration: one dataclass, read from YAML and ``--set key=value`` overrides.

Keys are checked against the dataclasses, so a typo (``lr_warmup_step``) fails before any work
starts and names the key, instead of being silently ignored for a 10-hour run.
"""

from __future__ import annotations

import dataclasses
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from ..config import parse_override
from ..errors import ConfigError
from .model import HRMConfig


@dataclass
class TrainConfig:
    """Optimisation, schedule, evaluation and I/O settings. Defaults follow the reference (ARC)."""

    model: HRMConfig = field(default_factory=HRMConfig)
    global_batch_size: int = 768
    max_steps: int = 100_000  # optimiser steps; each is one ACT segment
    lr: float = 1e-4
    lr_warmup_steps: int = 2000
    lr_schedule: str = "constant"  # "constant" or "cosine" (after warm-up)
    lr_min_ratio: float = 0.1  # cosine ends at lr * lr_min_ratio
    beta1: float = 0.9
    beta2: float = 0.95
    weight_decay: float = 0.1
    puzzle_emb_lr: float = 1e-2
    puzzle_emb_weight_decay: float = 0.1
    loss_type: str = "stablemax"  # or "softmax"
    seed: int = 0
    train_mode: str = (
        "hrm"  # stream sampling: "hrm" (one version per group per epoch) or "examples"
    )
    eval_interval: int = 5000  # 0: evaluate only at the end; -1: never
    eval_split: str = "test"
    eval_batch_size: int | None = None  # default: global_batch_size
    eval_max_batches: int | None = None  # cap for quick looks at large test splits
    checkpoint_interval: int = 5000  # 0: only at the end
    keep_checkpoints: int = 1
    log_interval: int = 50
    device: str = "auto"  # "auto", "cuda", "cuda:1", "mps", "cpu"
    compile: bool = False
    num_workers: int = 0
    progress: bool = True  # a bar on a terminal, plain lines in a log file
    tensorboard: bool = True  # RUN_DIR/tensorboard event files, when tensorboard is installed
    # Weight EMA rate (TRM uses 0.999); 0 is off. When on, evaluation and checkpoints use the EMA.
    ema: float = 0.0
    # "none": train everything; "network": only the puzzle embeddings (no network optimiser).
    freeze: str = "none"
    init: str | None = None  # start from this run dir or checkpoint (train --init)
    init_embeddings: str = "mean"  # puzzle rows --init cannot carry by name: "mean" or "zero"

    def __post_init__(self) -> None:
        if self.lr_schedule not in ("constant", "cosine"):
            raise ConfigError(
                f"lr_schedule must be 'constant' or 'cosine', not {self.lr_schedule!r}"
            )
        if self.train_mode not in ("hrm", "examples"):
            raise ConfigError(f"train_mode must be 'hrm' or 'examples', not {self.train_mode!r}")
        if self.loss_type not in ("stablemax", "softmax"):
            raise ConfigError(f"loss_type must be 'stablemax' or 'softmax', not {self.loss_type!r}")
        if not re.fullmatch(r"auto|cpu|mps|cuda(:[0-9]+)?", self.device):
            raise ConfigError(f"device must be auto, cpu, cuda, cuda:N or mps, not {self.device!r}")
        if not 0.0 <= self.ema < 1.0:
            raise ConfigError(
                f"ema must be 0 (off) or a rate in (0, 1) such as 0.999, not {self.ema}"
            )
        if self.init_embeddings not in ("mean", "zero"):
            raise ConfigError(
                f"init_embeddings must be 'mean' or 'zero', not {self.init_embeddings!r}"
            )
        if self.freeze not in ("none", "network"):
            raise ConfigError(f"freeze must be 'none' or 'network', not {self.freeze!r}")
        if self.global_batch_size < 1 or self.max_steps < 0:
            raise ConfigError("global_batch_size must be >= 1 and max_steps >= 0")


def to_dict(config: TrainConfig) -> dict[str, Any]:
    return dataclasses.asdict(config)


def from_dict(data: dict[str, Any], base: TrainConfig | None = None) -> TrainConfig:
    """Build a config from (possibly partial) nested data on top of ``base`` (defaults if None)."""
    base = base or TrainConfig()
    if not isinstance(data, dict):
        raise ConfigError(f"a training config must be a mapping, got {type(data).__name__}")
    model_data = data.get("model") or {}
    if not isinstance(model_data, dict):
        raise ConfigError("config key 'model' must be a mapping")
    model_fields = _checked(HRMConfig, model_data, "model.")
    rest = _checked(TrainConfig, {k: v for k, v in data.items() if k != "model"}, "")
    try:
        return dataclasses.replace(
            base, model=dataclasses.replace(base.model, **model_fields), **rest
        )
    except ValueError as e:
        raise ConfigError(str(e)) from None


def load(
    path: str | Path | None = None,
    overrides: list[str] | None = None,
    base: TrainConfig | None = None,
) -> TrainConfig:
    """Read a YAML file (optional) and apply ``key=value`` overrides (dotted keys for ``model.*``)
    on top of ``base`` (the defaults if None; ``train --init`` passes the checkpoint's model)."""
    data: dict[str, Any] = {}
    if path is not None:
        try:
            data = yaml.safe_load(Path(path).read_text()) or {}
        except (OSError, yaml.YAMLError) as e:
            raise ConfigError(f"{path}: cannot read training config: {e}") from None
        if not isinstance(data, dict):
            raise ConfigError(f"{path}: a training config must be a mapping")
    return from_dict(apply_overrides(data, overrides or []), base)


def apply_overrides(data: dict[str, Any], overrides: list[str]) -> dict[str, Any]:
    out = {k: (dict(v) if isinstance(v, dict) else v) for k, v in data.items()}
    for text in overrides:
        parts, value = parse_override(text)
        if len(parts) == 2 and parts[0] == "model":
            out.setdefault("model", {})[parts[1]] = value
        elif len(parts) == 1:
            out[parts[0]] = value
        else:
            raise ConfigError(f"--set {'.'.join(parts)}: unknown key")
    return out


def _checked(cls: type, data: dict[str, Any], prefix: str) -> dict[str, Any]:
    """Check names against ``cls``'s fields and coerce YAML scalars to the field's type."""
    types = {f.name: str(f.type) for f in dataclasses.fields(cls) if f.name != "model"}
    out = {}
    for key, value in data.items():
        if key not in types:
            raise ConfigError(
                f"unknown config key '{prefix}{key}'; known: {', '.join(sorted(types))}"
            )
        out[key] = _coerce(value, types[key], f"{prefix}{key}")
    return out


_BOOLS = {
    "true": True,
    "yes": True,
    "on": True,
    "1": True,
    "false": False,
    "no": False,
    "off": False,
    "0": False,
}


def _coerce(value: Any, type_name: str, key: str) -> Any:
    """YAML scalar -> field type. Strings are accepted for numbers: YAML reads ``1e-4`` as one."""
    base = type_name.split("|")[0].strip()
    if value is None:
        if type_name.endswith("| None"):
            return None
        raise ConfigError(f"config key {key!r} cannot be empty")
    try:
        if base == "str":
            return str(value)
        if base == "list":
            if isinstance(value, (list, tuple)):
                return list(value)
            raise ValueError
        if base == "bool":
            return value if isinstance(value, bool) else _BOOLS[str(value).lower()]
        if isinstance(value, bool):  # bool is an int subclass; "max_steps: yes" is a mistake
            raise ValueError
        number = float(value)
        if base == "float":
            return number
        if base == "int" and number.is_integer():
            return int(number)
    except (KeyError, TypeError, ValueError):
        pass
    raise ConfigError(f"config key {key!r} expects {base}, got {value!r}")


FROM_DATASET = ("vocab_size", "seq_len", "num_puzzle_identifiers")
"""Model sizes the trainer takes from the dataset it reads, whatever the config says."""


def config_reference() -> str:
    """Every training config key with its default and note, generated from the dataclasses (the
    notes are the fields' trailing comments), for ``arcdata train --help``."""
    lines = []
    for cls, prefix in ((TrainConfig, ""), (HRMConfig, "model.")):
        notes = _field_notes(cls)
        for f in dataclasses.fields(cls):
            if f.name == "model":
                continue
            default = f.default_factory() if f.default is dataclasses.MISSING else f.default
            line = (
                f"{prefix}{f.name}: {yaml.safe_dump(default).strip().removesuffix('...').strip()}"
            )
            note = (
                "set from the dataset" if prefix and f.name in FROM_DATASET else notes.get(f.name)
            )
            if note:
                line = f"{line:<34} {note}"
            lines.append(line)
    return "\n".join(lines)


def _field_notes(cls: type) -> dict[str, str]:
    import inspect

    notes = {}
    for line in inspect.getsource(cls).splitlines():
        m = re.match(r"\s+(\w+):[^#]*#\s*(.+)$", line)
        if m:
            notes[m.group(1)] = m.group(2).strip()
    return notes

"""What a CHECKPOINT argument names: an arcdata run, or a released reference checkpoint file.

Commands that start from trained weights (``train --init``, ``adapt``, ``evaluate`` of a
reference checkpoint) all need the same three things: the model the weights belong to, the
weights themselves (wrapper prefixes removed) and, when it is known, the identifier name of every
row of the puzzle-embedding table, without which rows cannot be matched to another build's ids.
:func:`resolve_source` finds them once, for either kind of argument:

* an arcdata run directory (``config.yaml``, ``checkpoints/latest``, the dataset's
  ``identifiers.parquet`` copied into the run by ``arcdata train``), or one of its
  ``checkpoints/step_N/state.pt`` files;
* a reference checkpoint file with the run's ``all_config.yaml`` beside it or in its parent
  folder (its ``arch:`` mapping says HRM or TRM and every size), and optionally the dataset's
  ``identifiers.json`` beside the checkpoint or the config.

Sizes the reference config leaves to its dataset (``vocab_size``, ``num_puzzle_identifiers``,
``seq_len``) are read from the weights' shapes where they show; ``seq_len`` with rotary
positions does not, so the caller passes the dataset's.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch
import yaml

from ..errors import ConfigError
from .checkpoint import RUN_CHECKPOINT_FORMAT, CheckpointError, load_file, strip_prefixes
from .model import HRMConfig
from .reference import reference_config

REFERENCE_CONFIG = "all_config.yaml"
REFERENCE_IDENTIFIERS = "identifiers.json"
RUN_IDENTIFIERS = "identifiers.parquet"
PUZZLE_TABLE = "inner.puzzle_emb.weights"
_TOKENS = "inner.embed_tokens.embedding_weight"
_POSITIONS = "inner.embed_pos.embedding_weight"


@dataclass
class Source:
    """Trained weights and what is known about them.

    ``names[i]`` is the identifier name of puzzle-table row ``i`` (``names[0]`` the blank), or
    ``names`` is None when no map was found: rows can then not be matched by name.
    """

    path: Path  # what the argument named
    kind: str  # "run" (arcdata) or "reference"
    model: HRMConfig
    state: dict[str, torch.Tensor]  # keys without wrapper prefixes, e.g. inner.puzzle_emb.weights
    names: list[str] | None
    names_path: Path | None  # where ``names`` were read

    @property
    def puzzle_rows(self) -> int:
        table = self.state.get(PUZZLE_TABLE)
        return 0 if table is None else int(table.shape[0])

    def describe(self) -> str:
        """One line for logs: what was loaded and whether its ids have names."""
        where = f"names from {self.names_path}" if self.names_path else "no identifier names"
        m = self.model
        return (
            f"{self.kind} checkpoint {self.path}: {m.kind}, hidden {m.hidden_size}, "
            f"{self.puzzle_rows} puzzle rows ({where})"
        )


def resolve_source(path: str | os.PathLike, *, seq_len: int | None = None) -> Source:
    """The :class:`Source` that ``path`` (a run directory or a checkpoint file) names.

    ``seq_len`` (the dataset's) is used only where neither the config nor the weights give it.
    Every failure is one :class:`~arcdata.errors.ArcdataError` line naming the path and a fix.
    """
    path = Path(path)
    if path.is_dir():
        return _from_run(path)
    if not path.exists():
        raise CheckpointError(
            f"{path}: no such run directory or checkpoint file (an arcdata run, or a reference "
            f"checkpoint with its {REFERENCE_CONFIG})"
        )
    obj = load_file(path)
    if isinstance(obj, Mapping) and obj.get("format") == RUN_CHECKPOINT_FORMAT:
        return _from_run_file(path, obj)
    return _from_reference(path, obj, seq_len)


# arcdata runs -----------------------------------------------------------------------------


def _from_run(run_dir: Path) -> Source:
    if not (run_dir / "config.yaml").is_file():
        raise CheckpointError(
            f"{run_dir}: not an arcdata run (no config.yaml); pass a run directory written by "
            "`arcdata train`, or a checkpoint file"
        )
    pointer = run_dir / "checkpoints" / "latest"
    if not pointer.is_file():
        raise CheckpointError(
            f"{run_dir}: the run has no checkpoint yet (no checkpoints/latest); train it first, "
            "or pass a checkpoint file"
        )
    name = pointer.read_text().strip()
    state_file = pointer.parent / name / "state.pt"
    if not name or not state_file.is_file():
        raise CheckpointError(
            f"{pointer} names {name!r}, which has no state.pt; the run's checkpoints are "
            "incomplete (pass one of its checkpoints/step_N/state.pt files)"
        )
    obj = load_file(state_file)
    return _from_run_file(state_file, obj, run_dir)


def _from_run_file(path: Path, obj: Mapping, run_dir: Path | None = None) -> Source:
    """An arcdata ``state.pt``: its own config, and the map of the run it sits in."""
    from .config import from_dict

    if not isinstance(obj.get("model"), Mapping) or not isinstance(obj.get("config"), Mapping):
        raise CheckpointError(f"{path}: arcdata checkpoint without its model or config entry")
    try:
        model = from_dict(dict(obj["config"])).model
    except ConfigError as e:
        raise CheckpointError(f"{path}: its saved config does not load ({e})") from None
    if run_dir is None and path.parent.parent.name == "checkpoints":
        run_dir = path.parent.parent.parent  # RUN/checkpoints/step_N/state.pt
    names, names_path = None, None
    if run_dir is not None and (run_dir / RUN_IDENTIFIERS).is_file():
        names_path = run_dir / RUN_IDENTIFIERS
        names = _read_names(names_path)
    state = _tensors(obj["model"], path)
    source = Source(run_dir or path, "run", model, state, names, names_path)
    _check_names(source)
    _check_fits(source, path)
    return source


# reference checkpoints --------------------------------------------------------------------


def _from_reference(path: Path, obj: object, seq_len: int | None) -> Source:
    state = _tensors(obj, path)
    config_path = _beside(path, REFERENCE_CONFIG)
    if config_path is None:
        raise CheckpointError(
            f"{path}: no {REFERENCE_CONFIG} beside the checkpoint or in its parent folder; "
            f"copy the run's {REFERENCE_CONFIG} next to it (it says which model the weights are)"
        )
    arch = _read_arch(config_path)
    try:
        model = reference_config(_with_sizes(arch, state, seq_len, config_path))
    except ConfigError as e:
        raise ConfigError(f"{config_path}: {e}") from None
    names_path = _beside(path, REFERENCE_IDENTIFIERS) or _beside(config_path, REFERENCE_IDENTIFIERS)
    names = _read_names(names_path) if names_path is not None else None
    source = Source(path, "reference", model, state, names, names_path)
    _check_names(source)
    _check_fits(source, config_path)
    return source


def _beside(path: Path, name: str) -> Path | None:
    """``name`` in ``path``'s folder, else in the folder above (a run's checkpoints/ layout)."""
    for folder in (path.parent, path.parent.parent):
        if (folder / name).is_file():
            return folder / name
    return None


def _read_arch(config_path: Path) -> dict[str, Any]:
    try:
        data = yaml.safe_load(config_path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as e:
        why = str(e).replace("\n", " ")
        raise ConfigError(f"{config_path}: cannot be read as YAML ({why})") from None
    arch = data.get("arch") if isinstance(data, Mapping) else None
    if not isinstance(arch, Mapping):
        raise ConfigError(
            f"{config_path}: no 'arch:' mapping (the reference run's model settings); is this the "
            "run's all_config.yaml?"
        )
    return dict(arch)


def _with_sizes(
    arch: dict[str, Any], state: Mapping[str, torch.Tensor], seq_len: int | None, where: Path
) -> dict[str, Any]:
    """``arch`` plus the dataset sizes it lacks, read from the weights' shapes where they show."""
    out = dict(arch)
    if _TOKENS in state:
        out.setdefault("vocab_size", int(state[_TOKENS].shape[0]))
    out.setdefault(
        "num_puzzle_identifiers", int(state[PUZZLE_TABLE].shape[0]) if PUZZLE_TABLE in state else 1
    )
    if "seq_len" not in out:
        out["seq_len"] = 1  # provisional: the positions' count below needs the rest
        positions = _positions(state)
        if positions is not None:
            prefix = reference_config(out).puzzle_emb_len
            out["seq_len"] = positions - prefix
        elif seq_len is not None:
            out["seq_len"] = int(seq_len)
        else:
            raise ConfigError(
                f"{where}: the sequence length is not in arch: nor in the weights (rotary "
                "positions); add seq_len (the dataset's, e.g. 900 for ARC) under arch:"
            )
    return out


def _positions(state: Mapping[str, torch.Tensor]) -> int | None:
    """Positions the network sees (puzzle ones included), when the weights are shaped by them."""
    if _POSITIONS in state:
        return int(state[_POSITIONS].shape[0])
    for key, value in state.items():
        if ".mlp_t.gate_up_proj." in key:  # (2 * inner, positions)
            return int(value.shape[1])
    return None


# shared -----------------------------------------------------------------------------------


def _tensors(obj: object, path: Path) -> dict[str, torch.Tensor]:
    if not isinstance(obj, Mapping) or not obj:
        raise CheckpointError(f"{path}: not a state dict (expected a mapping of tensor names)")
    bad = [k for k, v in obj.items() if not isinstance(v, torch.Tensor)]
    if bad:
        raise CheckpointError(
            f"{path}: not a state dict of tensors ({bad[0]!r} is {type(obj[bad[0]]).__name__})"
        )
    return strip_prefixes(obj)


def _read_names(path: Path) -> list[str]:
    """A map's names, index = id, checked like a build's ``identifiers`` key checks them."""
    from arcdata.builder.idmap import check_names, read_names

    try:
        names = read_names(path)
        check_names(names, f"identifiers {path}")
    except ConfigError as e:
        raise CheckpointError(str(e).replace(" (the pipeline key identifiers.path)", "")) from None
    return names


def _check_names(source: Source) -> None:
    """A map that does not fit the puzzle table belongs to another build: refuse it."""
    if source.names is None or PUZZLE_TABLE not in source.state:
        return
    if len(source.names) != source.puzzle_rows:
        raise CheckpointError(
            f"{source.names_path}: {len(source.names)} names but the checkpoint's puzzle table "
            f"has {source.puzzle_rows} rows; the map belongs to another build (remove it, or put "
            "the checkpoint's own map there)"
        )


def _check_fits(source: Source, described_by: Path) -> None:
    """Refuse weights that are not the model their config describes (shapes built on the meta
    device: no memory, even for a million-row puzzle table)."""
    from .act import HRM

    with torch.device("meta"):
        expected = HRM(source.model).state_dict()
    missing = sorted(set(expected) - set(source.state))
    unexpected = sorted(set(source.state) - set(expected))
    shapes = [
        f"{k} {tuple(source.state[k].shape)} vs {tuple(v.shape)}"
        for k, v in expected.items()
        if k in source.state and source.state[k].shape != v.shape
    ]
    problems = [
        f"{what} {', '.join(keys[:3])}{' ...' if len(keys) > 3 else ''}"
        for what, keys in (("missing", missing), ("unexpected", unexpected), ("shapes", shapes))
        if keys
    ]
    if problems:
        raise CheckpointError(
            f"{source.path}: the weights are not the model {described_by} describes "
            f"({'; '.join(problems)}); is the config the one of the run that saved them?"
        )

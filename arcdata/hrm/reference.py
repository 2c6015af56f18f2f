"""Models from a reference run's ``all_config.yaml`` ``arch:`` mapping (HRM ACT v1 or TRM).

The mapping's field names are the reference codes' (``H_cycles``, ``mlp_t``, ``no_ACT_continue``
...); they are translated here, once, into :class:`arcdata.hrm.model.HRMConfig`'s words, so a
released checkpoint can be loaded into the model its own run described. The dataset sizes
(``vocab_size``, ``seq_len``, ``num_puzzle_identifiers``, from the dataset's ``dataset.json``)
must be in the mapping too.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ..errors import ConfigError
from .act import ACTModel
from .model import HRMConfig

# reference field -> HRMConfig field, for the fields whose meaning is the same
_SAME = {
    "H_cycles": "h_cycles",
    "L_cycles": "l_cycles",
    "H_layers": "h_layers",
    "L_layers": "l_layers",
    "hidden_size": "hidden_size",
    "num_heads": "num_heads",
    "expansion": "expansion",
    "puzzle_emb_ndim": "puzzle_emb_ndim",
    "puzzle_emb_len": "puzzle_positions",
    "pos_encodings": "pos_encodings",
    "rope_theta": "rope_theta",
    "rms_norm_eps": "rms_norm_eps",
    "halt_max_steps": "halt_max_steps",
    "halt_exploration_prob": "halt_exploration_prob",
    "forward_dtype": "forward_dtype",
    "vocab_size": "vocab_size",
    "seq_len": "seq_len",
    "num_puzzle_identifiers": "num_puzzle_identifiers",
}
_TRANSLATED = {"name", "mlp_t", "no_ACT_continue"}
_IGNORED = {"batch_size", "loss"}  # the batch size does not shape the model; the loss head is ours
_DATASET = ("vocab_size", "seq_len", "num_puzzle_identifiers")
TRM_PUZZLE_EMB_LEN = 16  # TRM's default when its config leaves puzzle_emb_len out


def reference_kind(name: object) -> str:
    """``hrm`` or ``trm`` from the ``name`` of a reference ``arch:`` mapping."""
    text = str(name)
    if "hrm_act_v1" in text or "HierarchicalReasoningModel_ACTV1" in text:
        return "hrm"
    if "trm" in text.split("@")[0] or "TinyRecursiveReasoningModel" in text:
        return "trm"
    raise ConfigError(
        f"arch.name {name!r} is neither HRM ACT v1 (hrm.hrm_act_v1@...) nor TRM "
        "(recursive_reasoning.trm@...)"
    )


def reference_config(arch: Mapping[str, Any]) -> HRMConfig:
    """:class:`HRMConfig` for a reference ``arch:`` mapping; every field checked by name."""
    if not isinstance(arch, Mapping):
        raise ConfigError(f"arch must be a mapping, got {type(arch).__name__}")
    unknown = sorted(set(arch) - set(_SAME) - _TRANSLATED - _IGNORED)
    if unknown:
        raise ConfigError(f"arch: unknown field(s) {', '.join(unknown)}")
    if "name" not in arch:
        raise ConfigError("arch: no 'name' (which model: hrm.hrm_act_v1@... or ...trm@...)")
    missing = [k for k in _DATASET if k not in arch]
    if missing:
        raise ConfigError(
            f"arch: missing dataset size(s) {', '.join(missing)}; take them from the dataset's "
            "dataset.json"
        )
    kind = reference_kind(arch["name"])
    fields: dict[str, Any] = {"kind": kind}
    for key, name in _SAME.items():
        if key in arch:
            fields[name] = arch[key]
    if kind == "trm":
        fields.pop("h_layers", None)  # TRM ignores H_layers (often 0)
        fields.setdefault("puzzle_positions", TRM_PUZZLE_EMB_LEN)
        fields["mixer"] = "mlp" if arch.get("mlp_t", False) else "attention"
        no_continue = arch.get("no_ACT_continue", True)
    else:
        if arch.get("mlp_t"):
            raise ConfigError("arch: mlp_t is a TRM field; HRM ACT v1 has attention only")
        no_continue = arch.get("no_ACT_continue", False)
    fields["halt_rule"] = "q_halt" if no_continue else "q_continue"
    try:
        return HRMConfig(**fields)
    except TypeError as e:
        raise ConfigError(f"arch: {e}") from None


def from_reference(arch: Mapping[str, Any]) -> ACTModel:
    """The model a reference run's ``arch:`` mapping describes, freshly initialised.

    Use it like arcdata's HRM: ``carry = model.initial_carry(batch)``, then
    ``carry, out = model(carry, batch)`` with ``out.logits``, ``out.q_halt_logits`` and
    ``out.q_continue_logits``; load the run's weights with
    :func:`arcdata.hrm.checkpoint.load_model_state`.
    """
    return ACTModel(reference_config(arch))

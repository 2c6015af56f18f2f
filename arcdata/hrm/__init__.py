"""HRM (Hierarchical Reasoning Model) ACT v1: model, losses, optimisers, checkpoints, trainer.

The trainer module is imported lazily by the CLI so that ``import arcdata.hrm`` stays light.
"""

from .act import HRM, ACTOutput, Carry
from .checkpoint import CheckpointError, load_model_state
from .config import TrainConfig
from .loss import act_loss, softmax_cross_entropy, stablemax_cross_entropy
from .model import HRMConfig, HRMInner
from .optim import AdamAtan2, SparseSignSGD

__all__ = [
    "HRM",
    "ACTOutput",
    "AdamAtan2",
    "Carry",
    "CheckpointError",
    "HRMConfig",
    "HRMInner",
    "SparseSignSGD",
    "TrainConfig",
    "act_loss",
    "load_model_state",
    "softmax_cross_entropy",
    "stablemax_cross_entropy",
]

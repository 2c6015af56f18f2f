"""HRM (Hierarchical Reasoning Model) ACT v1 with N levels, and TRM: models, losses, optimisers,
checkpoints, trainer.

The trainer module is imported lazily by the CLI so that ``import arcdata.hrm`` stays light.
"""

from .act import HRM, ACTModel, ACTOutput, Carry
from .checkpoint import CheckpointError, load_model_state
from .config import TrainConfig
from .loss import act_loss, softmax_cross_entropy, stablemax_cross_entropy
from .model import HRMConfig, HRMInner
from .optim import AdamAtan2, SparseSignSGD
from .reference import from_reference, reference_config
from .trm import TRMInner

__all__ = [
    "HRM",
    "ACTModel",
    "ACTOutput",
    "AdamAtan2",
    "Carry",
    "CheckpointError",
    "HRMConfig",
    "HRMInner",
    "SparseSignSGD",
    "TRMInner",
    "TrainConfig",
    "act_loss",
    "from_reference",
    "reference_config",
    "load_model_state",
    "softmax_cross_entropy",
    "stablemax_cross_entropy",
]

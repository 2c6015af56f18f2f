"""Helpers of the HRM tests: tiny configs and batches, and a tiny generated task as a stream
factory for trainer tests without a built dataset.

Module level (not a conftest fixture) so spawned worker processes can unpickle it.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from arcdata.hrm.data import ArraySource, ArrayStream
from arcdata.hrm.model import HRMConfig


@dataclass
class SyntheticDataset:
    """Each token t in 2..vocab-1 maps to the next one cyclically, and the sequence is reversed.

    Reversal needs attention, yet a tiny model learns the task within tens of steps.
    """

    n_train: int = 256
    n_test: int = 64
    seq_len: int = 8
    vocab_size: int = 8
    num_ids: int = 5
    data_seed: int = 0

    def _arrays(self, split: str):
        n = self.n_train if split == "train" else self.n_test
        rng = np.random.default_rng((self.data_seed, split == "train"))
        inputs = rng.integers(2, self.vocab_size, size=(n, self.seq_len))
        labels = ((inputs - 1) % (self.vocab_size - 2) + 2)[:, ::-1].copy()
        ids = rng.integers(1, self.num_ids, size=n).astype(np.int32)
        return inputs, labels, ids

    def __call__(self, split: str, **kwargs) -> ArrayStream:
        source = ArraySource({split: self._arrays(split)}, self.vocab_size, self.num_ids)
        return source(split, **kwargs)


def tiny_config(**overrides) -> HRMConfig:
    base = dict(
        vocab_size=8, seq_len=8, num_puzzle_identifiers=5, puzzle_emb_ndim=32, hidden_size=32,
        num_heads=2, expansion=2.0, h_layers=1, l_layers=1, h_cycles=2, l_cycles=2, halt_max_steps=3,
    )  # fmt: skip
    base.update(overrides)
    return HRMConfig(**base)


def tiny_batch(cfg: HRMConfig, batch_size: int = 4, seed: int = 0) -> dict[str, torch.Tensor]:
    g = torch.Generator().manual_seed(seed)
    inputs = torch.randint(2, cfg.vocab_size, (batch_size, cfg.seq_len), generator=g)
    return {
        "inputs": inputs,
        "labels": torch.randint(2, cfg.vocab_size, (batch_size, cfg.seq_len), generator=g),
        "puzzle_identifiers": torch.randint(
            1, cfg.num_puzzle_identifiers, (batch_size,), generator=g
        ).int(),
    }

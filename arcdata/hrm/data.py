"""Where batches come from: a built dataset's :class:`arcdata.stream.PuzzleStream`, or any factory.

The trainer needs a stream with ``PuzzleStream``'s interface: iterable over batch dicts
(``inputs``, ``labels``, ``puzzle_identifiers``; ``count`` in eval mode), the attributes
``seq_len``, ``vocab_size``, ``num_puzzle_identifiers``, and ``set_epoch``, ``state_dict`` and
``load_state_dict``. Instead of a dataset directory, ``train`` also takes a factory with
``PuzzleStream``'s call signature; :class:`ArraySource` is one over in-memory arrays (generated
puzzles in tests and benchmarks).
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any, Protocol

import numpy as np
import torch
from torch.utils.data import DataLoader, IterableDataset, get_worker_info

from ..errors import DatasetError
from ..tokens import IGNORE_LABEL


class BatchStream(Protocol):
    seq_len: int
    vocab_size: int
    num_puzzle_identifiers: int

    def set_epoch(self, epoch: int) -> None: ...

    def state_dict(self, batches: int | None = None) -> dict[str, Any]: ...

    def load_state_dict(self, state: dict[str, Any]) -> None: ...

    def __iter__(self) -> Iterator[dict[str, Any]]: ...


StreamFactory = Callable[..., BatchStream]
Dataset = str | os.PathLike | StreamFactory


def open_stream(
    dataset: Dataset,
    split: str,
    *,
    batch_size: int,
    mode: str,
    seed: int,
    rank: int,
    world_size: int,
) -> BatchStream:
    """A stream over ``split``; ``batch_size`` is global, each rank receives its slice."""
    kwargs = dict(batch_size=batch_size, mode=mode, seed=seed, rank=rank, world_size=world_size)
    if callable(dataset):
        return dataset(split, **kwargs)
    from ..stream import PuzzleStream  # late: importing the trainer must not need the stream

    return PuzzleStream(os.fspath(dataset), split, **kwargs)


class BatchCursor:
    """Endless iterator over a stream's epochs that knows how many batches it handed out.

    The count, not the stream object, is the truth about the position: with DataLoader workers
    the batches are produced by copies of the stream that the main process cannot ask.
    """

    def __init__(
        self, stream: BatchStream, num_workers: int = 0, state: dict | None = None
    ) -> None:
        self.stream = stream
        self.num_workers = num_workers
        if state is None:
            stream.set_epoch(0)
            self.epoch, self.batches = 0, 0
        else:
            stream.load_state_dict(state)
            self.epoch, self.batches = int(state["epoch"]), int(state["batches"])
        self._it = self._iterate()

    def _iterate(self) -> Iterator[dict[str, Any]]:
        if self.num_workers > 0:
            return iter(DataLoader(self.stream, batch_size=None, num_workers=self.num_workers))
        return iter(self.stream)

    def __iter__(self) -> BatchCursor:
        return self

    def __next__(self) -> dict[str, Any]:
        try:
            batch = next(self._it)
        except StopIteration:
            if self.batches == 0:
                raise DatasetError(
                    "the training stream yielded no batch in a whole epoch "
                    "(fewer examples than one global batch?)"
                ) from None
            self.epoch += 1
            self.batches = 0
            self.stream.set_epoch(self.epoch)
            self._it = self._iterate()
            return next(self)
        self.batches += 1
        return batch

    def state_dict(self) -> dict[str, Any]:
        return self.stream.state_dict(batches=self.batches)


def to_device(batch: dict[str, Any], device: torch.device) -> dict[str, Any]:
    """Move tensors to ``device``; keep other values (``count``) as they are."""
    return {
        k: v.to(device, non_blocking=True) if isinstance(v, torch.Tensor) else v
        for k, v in batch.items()
    }


class ArrayStream(IterableDataset):
    """PuzzleStream-compatible batches from in-memory arrays.

    Training modes shuffle all examples once per (seed, epoch) and drop the last incomplete
    global batch; ``eval`` is sequential with a padded last batch (identifier 0, labels -100)
    and ``count``. Each rank takes its contiguous slice of every global batch.
    """

    def __init__(
        self,
        inputs: np.ndarray,
        labels: np.ndarray,
        puzzle_identifiers: np.ndarray,
        *,
        vocab_size: int,
        num_puzzle_identifiers: int,
        batch_size: int,
        mode: str = "hrm",
        seed: int = 0,
        rank: int | None = None,
        world_size: int | None = None,
    ) -> None:
        super().__init__()
        self.inputs, self.labels, self.ids = inputs, labels, puzzle_identifiers
        self.seq_len = int(inputs.shape[1])
        self.vocab_size = vocab_size
        self.num_puzzle_identifiers = num_puzzle_identifiers
        self.batch_size, self.mode, self.seed = batch_size, mode, seed
        self.rank, self.world_size = rank or 0, world_size or 1
        if batch_size % self.world_size:
            raise ValueError(
                f"batch_size {batch_size} is not divisible by world_size {self.world_size}"
            )
        self.epoch = 0
        self._start = 0

    def set_epoch(self, epoch: int) -> None:
        self.epoch, self._start = epoch, 0

    def state_dict(self, batches: int | None = None) -> dict[str, Any]:
        return {
            "epoch": self.epoch,
            "batches": self._start if batches is None else batches,
            "seed": self.seed,
        }

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.epoch, self._start, self.seed = (
            int(state["epoch"]),
            int(state["batches"]),
            int(state["seed"]),
        )

    def _plan(self) -> list[np.ndarray]:
        n = len(self.inputs)
        if self.mode == "eval":
            return [np.arange(s, s + self.batch_size) for s in range(0, n, self.batch_size)]
        order = np.random.default_rng((self.seed, self.epoch)).permutation(n)
        return [
            order[s : s + self.batch_size]
            for s in range(0, n - self.batch_size + 1, self.batch_size)
        ]

    def __iter__(self) -> Iterator[dict[str, Any]]:
        info = get_worker_info()
        worker, workers = (info.id, info.num_workers) if info is not None else (0, 1)
        plan, local = self._plan(), self.batch_size // self.world_size
        for b in range(self._start + worker, len(plan), workers):
            yield self._batch(plan[b][self.rank * local : (self.rank + 1) * local])

    def _batch(self, rows: np.ndarray) -> dict[str, Any]:
        n = len(self.inputs)
        pad = rows >= n
        safe = np.where(pad, 0, rows)
        out: dict[str, Any] = {
            "inputs": torch.from_numpy(np.where(pad[:, None], 0, self.inputs[safe])).long(),
            "labels": torch.from_numpy(
                np.where(pad[:, None], IGNORE_LABEL, self.labels[safe])
            ).long(),
            "puzzle_identifiers": torch.from_numpy(np.where(pad, 0, self.ids[safe])).int(),
        }
        if self.mode == "eval":
            out["count"] = int((~pad).sum())
        return out


@dataclass
class ArraySource:
    """A stream factory over in-memory splits: ``{split: (inputs, labels, puzzle_identifiers)}``."""

    splits: dict[str, tuple[np.ndarray, np.ndarray, np.ndarray]]
    vocab_size: int
    num_puzzle_identifiers: int = 1

    def __call__(self, split: str, **kwargs: Any) -> ArrayStream:
        if split not in self.splits:
            raise DatasetError(f"no split {split!r} (have {', '.join(self.splits)})")
        inputs, labels, ids = self.splits[split]
        return ArrayStream(
            inputs, labels, ids, vocab_size=self.vocab_size,
            num_puzzle_identifiers=self.num_puzzle_identifiers, **kwargs,
        )  # fmt: skip

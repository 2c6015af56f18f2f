"""PuzzleStream: the torch IterableDataset that feeds an HRM from a built dataset.

Design (MosaicML streaming / litdata style, sized for HRM):

* one global plan per epoch from ``(seed, epoch)`` (:mod:`arcdata.stream.plan`); every rank
  takes its contiguous slice of every global batch, so all ranks yield the same number of
  batches and never hang DDP;
* DataLoader workers split the rank's batches round-robin, which the loader reassembles in
  order, so batch *k* is the same whatever the worker count;
* state is four numbers and a hash: ``epoch``, ``batches`` consumed (global batches, so a resume
  may even change the world size), ``seed`` and the manifest's sha256;
* rows come already encoded from memory-mapped arrays (:mod:`arcdata.stream.store`), so a
  batch is one row gather per array (inputs, labels, a 16-byte field record) into reused,
  pre-faulted memory: no decoding, no per-batch allocation of the big arrays, no Python loop
  over examples; workers write batches straight into shared memory
  (:mod:`arcdata.stream.transport`).

Resuming with DataLoader workers: the copies of the stream live in the workers, so the main
process cannot count for them. Iterate ``stream.loader(num_workers=n)`` (a DataLoader that
counts what it hands you, so ``stream.state_dict()`` is exact), or count the batches you take
and pass the count: ``stream.state_dict(batches=n)`` (the trainer's ``BatchCursor`` does). A
bare ``state_dict()`` after workers made batches it could not count raises instead of guessing.
On restart call ``stream.load_state_dict(state)`` before creating the DataLoader iterator.
Epoch, start batch and seed live in shared memory, so ``set_epoch`` / ``load_state_dict`` reach
the workers even with ``persistent_workers=True``. Each iteration starts at the loaded position (0 after
``set_epoch``), so iterating twice without ``set_epoch`` replays the same batches.
"""

from __future__ import annotations

import multiprocessing as mp
import os
from dataclasses import dataclass
from multiprocessing.context import get_spawning_popen
from typing import Any

import numpy as np
import torch
from torch.utils.data import IterableDataset, get_worker_info

from arcdata.errors import DatasetError
from arcdata.stream import cache as stream_cache
from arcdata.stream import transport
from arcdata.stream.plan import (
    MODES,
    EpochPlan,
    epoch_rng,
    eval_plan,
    examples_plan,
    hrm_plan,
    worker_batches,
)
from arcdata.stream.store import FIELDS, LABEL_PAD, PAD_FIELDS, Dataset, TokenArrays, open_split
from arcdata.tokens import PAD

TOKEN_DTYPES = ("int8", "int16", "int32", "int64")
NAMES = {"embedding_id": "puzzle_identifiers"}
NAMES.update({name: name for name in FIELDS if name not in NAMES})
"""A batch's name for each stored field."""
STATE_KEYS = ("epoch", "batches", "seed", "fingerprint")


class SharedPosition:
    """Epoch, first batch and seed, in shared memory inherited by DataLoader workers.

    Why: with ``persistent_workers=True`` the workers keep their copy of the stream across
    epochs, so a plain attribute set by ``set_epoch`` in the main process would never reach
    them. A 4-integer ``RawArray`` does. Workers only read it, except the fourth value: a
    worker sets it before its first batch, so the main process knows batches were made where it
    cannot count them (cleared by ``set``).
    """

    def __init__(self, epoch: int, start: int, seed: int) -> None:
        self._values = mp.RawArray("q", [epoch, start, seed, 0])

    epoch = property(lambda self: int(self._values[0]))
    start = property(lambda self: int(self._values[1]))
    seed = property(lambda self: int(self._values[2]))
    in_workers = property(lambda self: bool(self._values[3]))

    def set(self, *, epoch: int, start: int, seed: int) -> None:
        self._values[:] = [epoch, start, seed, 0]

    def mark_workers(self, in_workers: bool) -> None:
        self._values[3] = int(in_workers)

    def __getstate__(self):
        # Shared memory travels only to processes being spawned; anywhere else, plain values.
        if get_spawning_popen() is not None:
            return self._values
        return list(self._values)

    def __setstate__(self, state) -> None:
        self._values = state if not isinstance(state, list) else mp.RawArray("q", state)


@dataclass(frozen=True)
class Placement:
    """Where this process sits: distributed rank and world size."""

    rank: int
    world_size: int

    @classmethod
    def resolve(cls, rank: int | None, world_size: int | None) -> Placement:
        """Given values win; otherwise torch.distributed when initialised; otherwise 0 of 1."""
        dist = torch.distributed
        active = dist.is_available() and dist.is_initialized()
        if world_size is None:
            world_size = dist.get_world_size() if active else 1
        if rank is None:
            rank = dist.get_rank() if active else 0
        if world_size < 1 or not 0 <= rank < world_size:
            raise ValueError(f"rank {rank} is not in a world of size {world_size}")
        return cls(rank, world_size)


class PuzzleStream(IterableDataset):
    """Batches of one split of a built dataset, as dicts of tensors.

    Every batch has ``inputs`` and ``labels`` ([b, seq_len] of ``token_dtype``, int8 by
    default; labels are -100 on PAD cells), ``puzzle_identifiers`` (int32), and what an evaluator needs to undo augmentation:
    ``task_index`` (int32 index into :attr:`task_ids`), ``version``, ``pair_index`` (int32) and
    ``example_index`` (int64 row of the split). Padding rows (eval mode) have PAD inputs, -100
    labels, identifier 0 and -1 in the index fields; ``count`` (eval mode) is the number of real
    rows. ``b = batch_size // world_size``: ``batch_size`` is the global batch.

    Modes: ``hrm`` (reference sampling: one random version per task per epoch), ``examples``
    (shuffled pass over every example) and ``eval`` (sequential, last batch padded).

    ``token_dtype``: int8 (every vocabulary here is under 128 and -100 fits) moves 1 byte per
    token; the model widens on its device (``.long()`` at the embedding and in the loss).
    ``"int32"`` gives the reference's type, ``"int64"`` torch's default index type, at 4 and
    8 times the memory traffic.
    """

    def __init__(
        self,
        path: str | os.PathLike,
        split: str = "train",
        *,
        batch_size: int = 768,
        mode: str = "hrm",
        seed: int = 0,
        rank: int | None = None,
        world_size: int | None = None,
        epoch: int = 0,
        cache_dir: str | os.PathLike | None = None,
        cache: bool = True,
        verify: bool = True,
        worker_slots: int = 6,
        token_dtype: str = "int8",
    ) -> None:
        super().__init__()
        if mode not in MODES:
            raise ValueError(f"mode must be one of {MODES}, got {mode!r}")
        if token_dtype not in TOKEN_DTYPES:
            raise ValueError(f"token_dtype must be one of {TOKEN_DTYPES}, got {token_dtype!r}")
        self.placement = Placement.resolve(rank, world_size)
        if batch_size < 1 or batch_size % self.placement.world_size:
            raise ValueError(
                f"global batch_size {batch_size} must be a positive multiple of "
                f"world_size {self.placement.world_size}"
            )
        if seed < 0 or epoch < 0:
            raise ValueError("seed and epoch must be >= 0")
        self.dataset = Dataset.open(path)
        self.split = split
        self.dataset.split_entry(split)
        self.batch_size = batch_size
        self.mode = mode
        self._shared = SharedPosition(epoch, 0, seed)
        self.worker_slots = worker_slots if transport.AVAILABLE else 0
        self._open = {"cache_dir": cache_dir, "cache": cache, "verify": verify}
        self.token_dtype = np.dtype(token_dtype)
        self._position = 0  # batches consumed in this epoch (in-process, or via loader())
        self._counted = False  # a StreamLoader counts this epoch's batches (main process)
        self._trusted: dict[str, tuple] = {}  # cache entries verified by the parent process
        self._arrays: TokenArrays | None = None
        self._structure: tuple[np.ndarray, np.ndarray] | None = None
        self._plan_cache: tuple[tuple[int, int], EpochPlan] | None = None
        self._scratch: np.ndarray | None = None
        self._pool: transport.SlotPool | None = None
        self._pool_pid = 0
        self._arrays = open_split(self.dataset, split, **self._open)  # before workers fork

    # ------------------------------------------------------------------ description

    @property
    def epoch(self) -> int:
        return self._shared.epoch

    @property
    def seed(self) -> int:
        return self._shared.seed

    @property
    def manifest(self) -> dict:
        return self.dataset.manifest

    @property
    def fingerprint(self) -> str:
        """sha256 of manifest.json: what a saved state is tied to."""
        return self.dataset.fingerprint

    @property
    def seq_len(self) -> int:
        return int(self.manifest["seq_len"])

    @property
    def vocab_size(self) -> int:
        return int(self.manifest["vocab_size"])

    @property
    def num_puzzle_identifiers(self) -> int:
        """Embedding table size, blank id 0 included."""
        return int(self.manifest["embedding_ids"]["count"])

    @property
    def rank(self) -> int:
        return self.placement.rank

    @property
    def world_size(self) -> int:
        return self.placement.world_size

    @property
    def local_batch_size(self) -> int:
        return self.batch_size // self.world_size

    @property
    def arrays(self) -> TokenArrays:
        if self._arrays is None:
            stream_cache.trust(self._trusted)  # a spawned worker: no second checksum pass
            self._arrays = open_split(self.dataset, self.split, **self._open)
        return self._arrays

    @property
    def task_ids(self) -> list[str]:
        """Task id of each ``task_index`` (one group per task, in dataset order)."""
        return self.arrays.task_ids

    @property
    def num_examples(self) -> int:
        return self.arrays.num_rows

    def _puzzles(self) -> tuple[np.ndarray, np.ndarray]:
        if self._structure is None:
            starts = self.arrays.puzzle_starts
            self._structure = (starts, self.arrays.group_puzzles(starts))
        return self._structure

    # ------------------------------------------------------------------ epochs and plans

    def set_epoch(self, epoch: int) -> None:
        """Start epoch ``epoch`` from its first batch (call before creating the iterator;
        reaches persistent DataLoader workers too)."""
        if epoch < 0:
            raise ValueError("epoch must be >= 0")
        self._shared.set(epoch=epoch, start=0, seed=self.seed)
        self._position, self._counted = 0, False

    def plan(self, epoch: int | None = None) -> EpochPlan:
        """The global batches of an epoch (row indices, -1 = padding); cached for one epoch."""
        epoch = self.epoch if epoch is None else epoch
        key = (self.seed, epoch)
        if self._plan_cache is not None and self._plan_cache[0] == key:
            return self._plan_cache[1]
        n = self.arrays.num_rows
        if self.mode == "eval":
            plan = eval_plan(n, self.batch_size)
        elif self.mode == "examples":
            plan = examples_plan(n, self.batch_size, epoch_rng(self.seed, epoch, self.mode))
        else:
            starts, group_puzzles = self._puzzles()
            plan = hrm_plan(
                starts, group_puzzles, self.batch_size, epoch_rng(self.seed, epoch, self.mode)
            )
        self._plan_cache = (key, plan)
        return plan

    def num_batches(self, epoch: int | None = None) -> int:
        """Batches every rank yields in a whole epoch."""
        return self.plan(epoch).num_batches

    def __len__(self) -> int:
        return max(self.num_batches() - self._shared.start, 0)

    def rows(self, batch: int, epoch: int | None = None) -> np.ndarray:
        """This rank's rows of global batch ``batch`` (-1 = padding)."""
        return self.plan(epoch).rank_slice(batch, self.rank, self.world_size)

    # ------------------------------------------------------------------ state

    def state_dict(self, batches: int | None = None) -> dict[str, Any]:
        """Resume point. ``batches``: how many batches of this epoch the consumer has taken;
        defaults to what this object yielded itself (in-process iteration) or what
        :meth:`loader` handed out. Raises if DataLoader workers made batches uncounted."""
        if batches is None and self._shared.in_workers and not self._counted:
            raise RuntimeError(
                "PuzzleStream.state_dict(): DataLoader workers made this epoch's batches, so "
                "the stream cannot tell how many you received; iterate stream.loader(...) "
                "instead of DataLoader(stream), or pass the count: state_dict(batches=n)"
            )
        return {
            "epoch": self.epoch,
            "batches": self._position if batches is None else int(batches),
            "seed": self.seed,
            "fingerprint": self.fingerprint,
            "mode": self.mode,
            "batch_size": self.batch_size,
        }

    def load_state_dict(self, state: dict[str, Any]) -> None:
        """Continue exactly where ``state`` left off; refuses a state of another dataset."""
        missing = [k for k in STATE_KEYS if k not in state]
        if missing:
            raise ValueError(f"stream state lacks {missing}")
        if state["fingerprint"] != self.fingerprint:
            raise DatasetError(
                f"{self.dataset.root}: stream state was saved for another dataset (manifest "
                f"sha256 {str(state['fingerprint'])[:12]}..., this one {self.fingerprint[:12]}...);"
                " resume on the dataset it was saved with"
            )
        for key in ("mode", "batch_size"):
            if key in state and state[key] != getattr(self, key):
                raise ValueError(
                    f"stream state has {key}={state[key]!r}, this stream "
                    f"{getattr(self, key)!r}; resuming would change the batches"
                )
        if int(state["batches"]) < 0:
            raise ValueError("stream state has a negative batch count")
        self._shared.set(
            epoch=int(state["epoch"]), start=int(state["batches"]), seed=int(state["seed"])
        )
        self._position, self._counted = int(state["batches"]), False

    def loader(self, num_workers: int = 2, **kwargs: Any) -> StreamLoader:
        """A DataLoader over this stream (``batch_size=None``, in order) that counts the
        batches it hands out, so :meth:`state_dict` is exact with workers."""
        return StreamLoader(self, num_workers=num_workers, **kwargs)

    # ------------------------------------------------------------------ iteration

    def __iter__(self):
        start = self._shared.start
        info = get_worker_info()
        worker, workers = (info.id, info.num_workers) if info is not None else (0, 1)
        plan = self.plan()
        self._shared.mark_workers(info is not None)  # before the first batch: see state_dict
        self._position = start
        for b in worker_batches(start, plan.num_batches, worker, workers):
            batch = self.make_batch(
                plan.rank_slice(b, self.rank, self.world_size), shared=info is not None
            )
            self._position = b + 1
            yield batch

    def make_batch(self, rows: np.ndarray, *, shared: bool = False) -> dict[str, torch.Tensor]:
        """Tensors for the given rows (-1 = padding). ``shared``: write into a slot of this
        worker's shared-memory pool when one is free."""
        n, length = len(rows), self.seq_len
        real = rows >= 0 if rows.min() < 0 else None  # None: no padding row (the usual case)
        # Pre-faulted, reused slots in-process too: fresh arrays cost a page fault per 4 kB.
        slot = self._slot(n)
        if slot is not None:
            inputs = slot.view(0, (n, length), self.token_dtype)
            labels = slot.view(
                n * length * self.token_dtype.itemsize, (n, length), self.token_dtype
            )
        else:
            inputs = np.empty((n, length), self.token_dtype)
            labels = np.empty((n, length), self.token_dtype)
        self.gather_tokens(rows, real, inputs, labels)
        small = self.gather_fields(rows, real)
        if slot is not None:
            arrays = {"inputs": inputs, "labels": labels}
            return transport.publish(slot, arrays, small, local=not shared)
        out = {"inputs": torch.from_numpy(inputs), "labels": torch.from_numpy(labels)}
        out.update({k: torch.from_numpy(v) for k, v in small.items()})
        return out

    def _slot(self, n: int) -> transport.Slot | None:
        if self.worker_slots <= 0:
            return None
        nbytes = 2 * n * self.seq_len * self.token_dtype.itemsize
        pool = self._pool
        # A forked DataLoader worker inherits the parent's pool: same pages, so never reuse it.
        if pool is None or pool.size != transport.HEADER + nbytes or self._pool_pid != os.getpid():
            self._pool = transport.SlotPool(nbytes, self.worker_slots)
            self._pool_pid = os.getpid()
        return self._pool.acquire()

    def gather_tokens(
        self, rows: np.ndarray, real: np.ndarray | None, inputs: np.ndarray, labels: np.ndarray
    ) -> None:
        """Token rows of split rows ``rows`` into ``inputs`` and ``labels``: one row gather
        from the memory-mapped arrays each (rows where ``real`` is False become padding).
        One-byte types are written in place; wider ones through a byte scratch and one widening
        copy (int8 view: the label byte 156 widens to -100)."""
        a = self.arrays
        for source, dest, pad in ((a.inputs, inputs, PAD), (a.labels, labels, LABEL_PAD)):
            wide = dest.dtype.itemsize > 1
            target = self._scratch_for(len(rows)) if wide else dest.view(np.uint8)
            # mode="clip": no bounds-checked copy through a temporary (rows come from the
            # plan, so all are in range; -1 reads row 0 and is overwritten below).
            np.take(source, rows, axis=0, out=target, mode="clip")
            if real is not None:
                target[~real] = pad
            if wide:
                np.copyto(dest, target.view(np.int8))

    def _scratch_for(self, n: int) -> np.ndarray:
        if self._scratch is None or self._scratch.shape[0] != n:
            self._scratch = np.empty((n, self.seq_len), np.uint8)
        return self._scratch

    def gather_fields(self, rows: np.ndarray, real: np.ndarray | None) -> dict[str, np.ndarray]:
        """The batch's ids and indices: one gather of the rows' 16-byte field records."""
        record = np.take(self.arrays.fields, rows, axis=0, mode="clip")  # (b, 4) int32
        columns = np.ascontiguousarray(record.T)  # (4, b): one contiguous array per field
        if real is not None:
            columns[:, ~real] = np.array(PAD_FIELDS, np.int32)[:, None]
        small = {NAMES[name]: columns[i] for i, name in enumerate(FIELDS)}
        small["example_index"] = rows.astype(np.int64)  # a copy: never a view of the plan
        if self.mode != "hrm":  # eval and examples pad their last batch
            count = len(rows) if real is None else int(real.sum())
            small["count"] = np.array(count, dtype=np.int64)
        return small

    # ------------------------------------------------------------------ pickling

    def __getstate__(self) -> dict:
        """Spawned workers re-open the (cached, memory-mapped) arrays instead of receiving
        copies; pools and scratch buffers are per process."""
        state = self.__dict__.copy()
        if self._open["cache"]:
            state["_arrays"] = None
            state["_trusted"] = stream_cache.trusted()
        for key in ("_scratch", "_pool", "_plan_cache", "_structure"):
            state[key] = None
        return state


class StreamLoader:
    """``DataLoader(stream, batch_size=None, ...)`` that tells the stream what it handed out.

    Workers' copies of the stream cannot see what the consumer received (prefetching runs
    ahead), so the count is kept here, on the consumer's side: after the k-th batch of an
    iteration the stream's position is its start + k, and ``stream.state_dict()`` resumes
    exactly after the last batch received. In-order delivery is required for that.
    """

    def __init__(self, stream: PuzzleStream, num_workers: int = 2, **kwargs: Any) -> None:
        from torch.utils.data import DataLoader

        if kwargs.pop("batch_size", None) is not None:
            raise ValueError("PuzzleStream yields whole batches: leave batch_size unset")
        if kwargs.get("in_order") is False:
            raise ValueError("in_order=False would make the batch count an unusable position")
        self.stream = stream
        self.dataloader = DataLoader(stream, batch_size=None, num_workers=num_workers, **kwargs)

    def __len__(self) -> int:
        return len(self.stream)

    def __iter__(self):
        stream = self.stream
        position = stream._shared.start
        stream._position, stream._counted = position, True
        for batch in self.dataloader:
            position += 1
            stream._position = position
            yield batch

    def state_dict(self) -> dict[str, Any]:
        return self.stream.state_dict()

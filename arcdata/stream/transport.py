"""Hand batches from DataLoader workers to the main process through reused shared memory.

Why: a DataLoader worker normally moves every yielded tensor into a *fresh* shared-memory
segment, and the main process maps it again. On small VMs page faults on fresh shared pages
dominate: two int64 [768, 900] tensors per batch cap a loader near 40k examples/s whatever the
worker does. Here each worker keeps a few pre-faulted slots (anonymous ``memfd`` segments), writes
batches straight into them, and sends only a small descriptor; the main process maps each slot
once and builds tensors over it without copying.

Safety: a slot is reused only after the main process has dropped every tensor made from it. The
tensors own a per-batch numpy view whose ``weakref.finalize`` clears the slot's busy flag (a byte
in the shared segment) when the last one dies; views, ``.numpy()`` results and DataLoader pinning
keep it alive as they should. When all slots are busy (a consumer holding many batches) or the
batch is consumed inside the worker (auto-collation), the worker falls back to ordinary tensors,
never waits and never overwrites data in use.
"""

from __future__ import annotations

import mmap
import os
import threading
import uuid
import weakref
from dataclasses import dataclass, field
from multiprocessing.reduction import DupFd

import numpy as np
import torch

HEADER = 64  # busy flag at byte 0; data starts 64-byte aligned
AVAILABLE = hasattr(os, "memfd_create")


@dataclass
class Slot:
    """One shared segment in a worker: fd, mapping, busy flag and an id the main side caches by."""

    fd: int
    mm: mmap.mmap
    size: int
    token: str = field(default_factory=lambda: uuid.uuid4().hex)
    sent: bool = False  # the main process already received the fd
    handed_over: bool = False  # the current batch was pickled for the main process
    generation: int = 0  # publications so far: a finalizer of an older batch must not free it

    @property
    def flag(self) -> np.ndarray:
        return np.frombuffer(self.mm, dtype=np.uint8, count=1)

    def view(self, offset: int, shape: tuple[int, ...], dtype) -> np.ndarray:
        return np.ndarray(shape, dtype=dtype, buffer=self.mm, offset=HEADER + offset)


class SlotPool:
    """A worker's slots of one size; grows to ``max_slots`` on demand, then falls back."""

    def __init__(self, nbytes: int, max_slots: int) -> None:
        self.size = HEADER + nbytes
        self.max_slots = max_slots
        self.slots: list[Slot] = []

    def acquire(self) -> Slot | None:
        for slot in self.slots:
            if slot.flag[0] == 0:
                return slot
        if len(self.slots) >= self.max_slots:
            return None
        fd = os.memfd_create("arcdata-stream-batch", os.MFD_CLOEXEC)
        os.ftruncate(fd, self.size)
        mm = mmap.mmap(fd, self.size)
        np.frombuffer(mm, dtype=np.uint8)[:] = 0  # fault every page in now, once
        slot = Slot(fd, mm, self.size)
        self.slots.append(slot)
        return slot


@dataclass(frozen=True)
class Field:
    """Where one big array of a batch sits in its slot."""

    name: str
    offset: int
    shape: tuple[int, ...]
    dtype: str


class SharedBatch(dict):
    """A batch dict whose big tensors live in a worker's slot; pickles as a descriptor.

    Inside the worker it is an ordinary dict of tensors (DataLoader's ``default_convert``
    shallow-copies it, hence ``__copy__``). Pickled for the main process it becomes the slot's
    token and layout plus the other entries by value. If code in the worker replaced a big
    tensor (auto-collation stacks batches into new tensors), it pickles as a plain dict.
    """

    def __init__(self, data, slot: Slot, layout: tuple[Field, ...], own: dict) -> None:
        super().__init__(data)
        self.slot = slot
        self.layout = layout
        self.own = own  # name -> the tensor over the slot

    def __copy__(self) -> SharedBatch:
        return SharedBatch(self, self.slot, self.layout, self.own)

    def __reduce__(self):
        if any(self.get(name) is not t for name, t in self.own.items()):
            return (dict, (dict(self),))
        rest = {k: _by_value(v) for k, v in self.items() if k not in self.own}
        slot = self.slot
        handle = None
        if not slot.sent:
            handle = DupFd(slot.fd)
            slot.sent = True
        slot.handed_over = True
        return (_rebuild, (slot.token, os.getpid(), slot.size, handle, self.layout, rest))


def _by_value(value):
    """Small CPU tensors travel inside the pickle as numpy (no shared-memory segment each)."""
    if isinstance(value, torch.Tensor) and value.device.type == "cpu" and not value.requires_grad:
        return value.numpy()
    return value


def publish(slot: Slot, arrays: dict[str, np.ndarray], small: dict, *, local: bool = False) -> dict:
    """Wrap arrays that were written into ``slot`` (views from :meth:`Slot.view`) as a batch.

    The slot becomes busy; if the batch dies in the worker without being pickled (consumed
    there), the slot is freed again. ``local``: the batch is for this process (in-process
    iteration reuses pre-faulted slots too), so a plain dict that never travels as a slot.
    """
    slot.flag[0] = 1
    slot.handed_over = False
    slot.generation += 1
    generation = slot.generation
    base = np.frombuffer(slot.mm, dtype=np.uint8)
    layout, own = [], {}
    for name, arr in arrays.items():
        offset = arr.__array_interface__["data"][0] - base.__array_interface__["data"][0] - HEADER
        layout.append(Field(name, offset, arr.shape, arr.dtype.str))
    del base
    release = _Countdown(len(arrays), lambda: _release_local(slot, generation))
    for name, arr in arrays.items():
        view = arr.view()
        weakref.finalize(view, release).atexit = False
        own[name] = torch.from_numpy(view)
    data = dict(own)
    data.update(
        {k: torch.from_numpy(v) if isinstance(v, np.ndarray) else v for k, v in small.items()}
    )
    if local:
        return data
    return SharedBatch(data, slot, tuple(layout), own)


def _release_local(slot: Slot, generation: int) -> None:
    """Free the slot when its batch died in the worker unsent. Only for the batch now in it: the
    previous batch's tensors often die just after the slot was reused for the next one (the
    stream's generator still holds it while making the next), and freeing then would let a
    third batch overwrite one the main process has not read yet."""
    if slot.generation == generation and not slot.handed_over:
        slot.flag[0] = 0


class _Countdown:
    """Calls ``fn`` once, after being called ``n`` times (once per finalized array)."""

    def __init__(self, n: int, fn) -> None:
        self.n = n
        self.fn = fn
        self.lock = threading.Lock()

    def __call__(self) -> None:
        with self.lock:
            self.n -= 1
            done = self.n == 0
        if done:
            self.fn()


# ----------------------------------------------------------------------------- main process side

_MAPPINGS: dict[str, tuple[mmap.mmap, int]] = {}
_MAPPINGS_LOCK = threading.Lock()


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _mapping(token: str, pid: int, size: int, handle) -> mmap.mmap:
    with _MAPPINGS_LOCK:
        found = _MAPPINGS.get(token)
        if found is not None:
            return found[0]
        if handle is None:
            raise RuntimeError("arcdata stream: batch from an unknown shared slot")
        fd = handle.detach()
        try:
            mm = mmap.mmap(fd, size)
        finally:
            os.close(fd)
        # Forget slots of workers that have exited; live tensors keep their mapping alive.
        for key in [k for k, (_, p) in _MAPPINGS.items() if p != pid and not _alive(p)]:
            del _MAPPINGS[key]
        _MAPPINGS[token] = (mm, pid)
        return mm


def _rebuild(token: str, pid: int, size: int, handle, layout, rest) -> dict:
    mm = _mapping(token, pid, size, handle)
    flag = np.frombuffer(mm, dtype=np.uint8, count=1)

    def free() -> None:
        flag[0] = 0

    release = _Countdown(len(layout), free)
    batch = {}
    for f in layout:
        arr = np.ndarray(f.shape, dtype=np.dtype(f.dtype), buffer=mm, offset=HEADER + f.offset)
        weakref.finalize(arr, release).atexit = False
        batch[f.name] = torch.from_numpy(arr)
    for k, v in rest.items():
        batch[k] = torch.from_numpy(v) if isinstance(v, np.ndarray) else v
    return batch

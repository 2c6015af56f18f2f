"""Shared-slot hand-off: a slot is free again only when the batch now in it is done with."""

from __future__ import annotations

import gc

import numpy as np
import pytest

from arcdata.stream import transport

pytestmark = pytest.mark.skipif(not transport.AVAILABLE, reason="no memfd_create")


def publish(slot: transport.Slot, value: int) -> transport.SharedBatch:
    arr = slot.view(0, (8,), np.int64)
    arr[:] = value
    return transport.publish(slot, {"x": arr}, {})


def test_an_older_batch_dying_late_does_not_free_the_slot_of_the_next():
    pool = transport.SlotPool(64, 1)
    slot = pool.acquire()
    first = publish(slot, 1)
    slot.sent = True  # as if the fd already went to the main process
    first.__reduce__()  # pickled for the main process
    slot.flag[0] = 0  # ... which read it and let go
    assert pool.acquire() is slot
    second = publish(slot, 2)  # in flight to the main process, not read yet
    del first  # the stream's generator drops the older batch only now
    gc.collect()
    assert slot.flag[0] == 1 and pool.acquire() is None  # so no third batch overwrites it
    second.__reduce__()
    del second
    gc.collect()
    assert slot.flag[0] == 1  # handed over: only the main process frees it


def test_a_batch_consumed_in_the_worker_frees_its_slot():
    pool = transport.SlotPool(64, 1)
    slot = pool.acquire()
    batch = publish(slot, 3)
    assert pool.acquire() is None
    del batch
    gc.collect()
    assert slot.flag[0] == 0 and pool.acquire() is slot

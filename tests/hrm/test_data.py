import numpy as np
import pytest
import torch

from arcdata.errors import DatasetError
from arcdata.hrm.data import ArraySource, BatchCursor


def _source(n=10):
    inputs = np.arange(n * 3).reshape(n, 3) % 7
    return ArraySource(
        {"train": (inputs, inputs + 1, np.arange(n, dtype=np.int32))},
        vocab_size=9,
        num_puzzle_identifiers=n,
    )


def test_eval_mode_pads_the_last_batch_and_slices_by_rank():
    batches = [
        list(_source()("train", batch_size=4, mode="eval", seed=0, rank=r, world_size=2))
        for r in (0, 1)
    ]
    assert [b["count"] for b in batches[0]] == [2, 2, 2] and [b["count"] for b in batches[1]] == [
        2,
        2,
        0,
    ]
    last = batches[1][-1]
    assert torch.all(last["labels"] == -100) and torch.all(last["puzzle_identifiers"] == 0)
    ids = sorted(
        int(i) for bs in batches for b in bs for i in b["puzzle_identifiers"][: b["count"]]
    )
    assert ids == list(range(10))


def test_training_mode_shuffles_per_epoch_and_drops_the_rest():
    s = _source()("train", batch_size=4, mode="hrm", seed=0, rank=0, world_size=1)
    first = [b["puzzle_identifiers"].tolist() for b in s]
    assert len(first) == 2
    s.set_epoch(1)
    assert [b["puzzle_identifiers"].tolist() for b in s] != first


def test_cursor_crosses_epochs_and_resumes_from_its_state():
    make = lambda: _source()("train", batch_size=4, mode="hrm", seed=3, rank=0, world_size=1)  # noqa: E731
    cursor = BatchCursor(make())
    seen = [next(cursor)["puzzle_identifiers"].tolist() for _ in range(3)]
    assert cursor.epoch == 1 and cursor.batches == 1
    state = cursor.state_dict()
    rest = [next(cursor)["puzzle_identifiers"].tolist() for _ in range(4)]
    resumed = BatchCursor(make(), state=state)
    assert [next(resumed)["puzzle_identifiers"].tolist() for _ in range(4)] == rest
    assert seen[2] != seen[0]


def test_cursor_with_dataloader_workers_gives_the_same_batches():
    make = lambda: _source(20)("train", batch_size=4, mode="hrm", seed=1, rank=0, world_size=1)  # noqa: E731
    plain = BatchCursor(make())
    workers = BatchCursor(make(), num_workers=2)
    for _ in range(7):  # crosses an epoch (5 batches each)
        assert torch.equal(next(plain)["inputs"], next(workers)["inputs"])


def test_cursor_refuses_an_empty_epoch():
    with pytest.raises(DatasetError, match="no batch"):
        next(
            BatchCursor(_source(3)("train", batch_size=4, mode="hrm", seed=0, rank=0, world_size=1))
        )

"""PuzzleStream end to end on a small real build: tokens, modes, ranks x workers, resume, errors."""

from __future__ import annotations

import json
import pickle
import shutil
import tracemalloc
from types import SimpleNamespace

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
import torch
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from torch.utils.data import DataLoader

import arcdata.stream.dataset as stream_module
from arcdata.errors import DatasetError
from arcdata.stream import PuzzleStream
from arcdata.tokens import ARC, IGNORE_LABEL, encode


def parquet_rows(root, split):
    m = json.loads((root / "manifest.json").read_text())
    tables = [pq.read_table(root / e["path"]) for e in m["splits"][split]["shards"]]
    return pa.concat_tables(tables).to_pylist()


def batches_of(stream):
    return [{k: v.clone() for k, v in b.items()} for b in stream]


def assert_same_batches(a, b):
    assert len(a) == len(b)
    for x, y in zip(a, b, strict=True):
        assert x.keys() == y.keys()
        for k in x:
            torch.testing.assert_close(x[k], y[k], rtol=0, atol=0)


@pytest.mark.parametrize(
    ("split", "token_dtype", "expected"),
    [
        ("train", None, torch.int8),  # the default: one byte per token
        ("test", None, torch.int8),
        ("train", "int32", torch.int32),
        ("test", "int64", torch.int64),
    ],
)
def test_tokens_and_fields_match_the_reference_encoding_for_every_row(
    open_stream, small_ds, split, token_dtype, expected
):
    rows = parquet_rows(small_ds, split)
    options = {} if token_dtype is None else {"token_dtype": token_dtype}
    stream = open_stream(split, batch_size=40, mode="eval", **options)
    seen = 0
    for batch in stream:
        assert batch["inputs"].dtype == expected and batch["labels"].dtype == expected
        for key in ("puzzle_identifiers", "task_index", "version", "pair_index"):
            assert batch[key].dtype == torch.int32
        for k in range(int(batch["count"])):
            r = rows[seen]
            offset = (r["offset_r"], r["offset_c"])
            grid_in = np.frombuffer(r["input"], np.uint8).reshape(r["input_h"], r["input_w"])
            grid_out = np.frombuffer(r["output"], np.uint8).reshape(r["output_h"], r["output_w"])
            expected_labels = encode(ARC, grid_out, offset).astype(np.int64)
            expected_labels[expected_labels == 0] = IGNORE_LABEL
            np.testing.assert_array_equal(batch["inputs"][k].numpy(), encode(ARC, grid_in, offset))
            np.testing.assert_array_equal(batch["labels"][k].numpy(), expected_labels)
            assert stream.task_ids[int(batch["task_index"][k])] == r["task_id"]
            assert int(batch["version"][k]) == r["version"]
            assert int(batch["pair_index"][k]) == r["pair_index"]
            assert int(batch["puzzle_identifiers"][k]) == r["embedding_id"]
            assert int(batch["example_index"][k]) == seen
            seen += 1
    assert seen == len(rows)


def test_token_dtype_is_checked(open_stream):
    with pytest.raises(ValueError, match="token_dtype must be one of"):
        open_stream("test", token_dtype="uint8")


def test_attributes(open_stream, small_ds):
    m = json.loads((small_ds / "manifest.json").read_text())
    s = open_stream("test", batch_size=8, mode="eval")
    assert (s.seq_len, s.vocab_size) == (900, 12)
    assert s.num_puzzle_identifiers == m["embedding_ids"]["count"]
    assert s.task_ids == ["00576224", "009d5c81"]
    assert s.num_examples == m["splits"]["test"]["rows"]
    assert len(s) == s.num_batches() == -(-s.num_examples // 8)


def test_eval_mode_pads_the_last_batch(open_stream):
    s = open_stream("test", batch_size=12, mode="eval")
    batches = batches_of(s)
    assert [int(b["count"]) for b in batches] == [12, s.num_examples - 12]
    last, n = batches[-1], int(batches[-1]["count"])
    assert last["inputs"].shape == (12, 900)
    assert (last["inputs"][n:] == 0).all() and (last["labels"][n:] == IGNORE_LABEL).all()
    assert (last["puzzle_identifiers"][n:] == 0).all() and (last["task_index"][n:] == -1).all()
    assert (last["labels"][:n] != IGNORE_LABEL).any(axis=1).all()


def test_hrm_mode_one_version_per_task_examples_together(open_stream):
    s = open_stream("train", batch_size=16, mode="hrm", seed=3)
    a = s.arrays
    chosen = []
    for epoch in range(3):
        s.set_epoch(epoch)
        order = np.concatenate([b["example_index"].numpy() for b in s])
        assert len(order) == s.num_batches() * 16 and len(set(order.tolist())) == len(order)
        task, version = a.task_index[order], a.version[order]
        pairs = set(zip(task.tolist(), version.tolist(), strict=True))
        assert len({t for t, _ in pairs}) == len(pairs)  # one version per task
        key = task.astype(np.int64) * 10_000 + version
        assert (np.diff(np.flatnonzero(np.diff(key) != 0)) > 0).all()
        assert len(np.unique(key[np.r_[True, np.diff(key) != 0]])) == len(pairs)  # contiguous
        chosen.append(sorted(pairs))
    assert len({tuple(c) for c in chosen}) > 1


def test_examples_mode_is_a_shuffled_pass(open_stream):
    # 40 does not divide the split (288 rows), so the last batch really is padded.
    s = open_stream("train", batch_size=40, mode="examples", seed=1)
    assert s.num_examples % 40
    batches = batches_of(s)
    order = np.concatenate([b["example_index"].numpy() for b in batches])
    real = order[order >= 0]
    assert len(order) == -(-s.num_examples // 40) * 40 and len(set(real.tolist())) == len(real)
    assert sorted(real.tolist()) == list(range(s.num_examples))  # every example, once
    assert (order[s.num_examples :] == -1).all()  # padding only at the end
    last, n = batches[-1], s.num_examples % 40
    assert int(last["count"]) == n and (last["labels"][n:] == IGNORE_LABEL).all()
    assert not (np.diff(real) > 0).all()
    s2 = open_stream("train", batch_size=40, mode="examples", seed=1)
    s2.set_epoch(1)
    order2 = np.concatenate([b["example_index"].numpy() for b in s2])
    assert not np.array_equal(order, order2)


@pytest.mark.parametrize("mode", ["hrm", "examples"])
def test_deterministic_from_seed_and_epoch(open_stream, mode):
    a = open_stream(batch_size=16, mode=mode, seed=5, epoch=2)
    b = open_stream(batch_size=16, mode=mode, seed=5)
    b.set_epoch(2)
    assert_same_batches(batches_of(a), batches_of(b))


def worker_view(monkeypatch, worker, workers):
    info = SimpleNamespace(id=worker, num_workers=workers)
    monkeypatch.setattr(stream_module, "get_worker_info", lambda: info)


@settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    world=st.integers(1, 4),
    workers=st.integers(1, 3),
    per_rank=st.integers(1, 6),
    mode=st.sampled_from(["hrm", "examples", "eval"]),
    seed=st.integers(0, 5),
)
def test_ranks_times_workers_yield_the_epoch_exactly_once(
    open_stream, monkeypatch, world, workers, per_rank, mode, seed
):
    batch_size = world * per_rank
    reference = open_stream(batch_size=batch_size, mode=mode, seed=seed, world_size=1, rank=0)
    expected = reference.plan().order
    counts, got = set(), []
    for rank in range(world):
        stream = open_stream(
            batch_size=batch_size, mode=mode, seed=seed, rank=rank, world_size=world
        )
        n_rank = 0
        for w in range(workers):
            worker_view(monkeypatch, w, workers)
            for batch in stream:
                assert batch["inputs"].shape[0] == per_rank
                real = batch["example_index"].numpy()
                got.append(real[real >= 0])
                n_rank += 1
        counts.add(n_rank)
    got = np.concatenate(got) if got else np.zeros(0, np.int64)
    assert len(counts) == 1 and counts.pop() == reference.num_batches()
    assert len(set(got.tolist())) == len(got)  # no duplicates
    assert sorted(got.tolist()) == sorted(expected[expected >= 0].tolist())


@pytest.mark.parametrize("mode", ["hrm", "examples", "eval"])
def test_dataloader_workers_deliver_the_in_process_batches(open_stream, mode):
    stream = open_stream(batch_size=8, mode=mode, seed=2)
    expected = batches_of(stream)
    # Holding every batch forces the workers past their shared slots (fallback path too).
    got = list(DataLoader(stream, batch_size=None, num_workers=2))
    assert_same_batches(expected, got)


def test_resume_mid_epoch_gives_the_uninterrupted_batches(open_stream):
    full = open_stream(batch_size=8, mode="examples", seed=4, epoch=1)
    everything = batches_of(full)
    first = open_stream(batch_size=8, mode="examples", seed=4, epoch=1)
    it = iter(first)
    for _ in range(5):
        next(it)
    state = first.state_dict()
    assert state["batches"] == 5 and state["epoch"] == 1 and state["seed"] == 4
    state = pickle.loads(pickle.dumps(state))  # what a checkpoint stores

    resumed = open_stream(batch_size=8, mode="examples", seed=999)
    resumed.load_state_dict(state)
    assert len(resumed) == len(everything) - 5
    assert_same_batches(everything[5:], batches_of(resumed))
    # The same through DataLoader workers, with the consumer-counted position.
    again = open_stream(batch_size=8, mode="examples")
    again.load_state_dict(first.state_dict(batches=7))
    got = list(DataLoader(again, batch_size=None, num_workers=2))
    assert_same_batches(everything[7:], got)


def test_resume_keeps_global_batches_across_world_sizes(open_stream):
    one = batches_of(open_stream(batch_size=8, mode="hrm", seed=1))
    state = open_stream(batch_size=8, mode="hrm", seed=1).state_dict(batches=1)
    halves = []
    for rank in range(2):
        s = open_stream(batch_size=8, mode="hrm", rank=rank, world_size=2)
        s.load_state_dict(state)
        halves.append(batches_of(s))
    for full, a, b in zip(one[1:], *halves, strict=True):
        torch.testing.assert_close(torch.cat([a["inputs"], b["inputs"]]), full["inputs"])


def test_state_of_another_dataset_is_refused(open_stream, small_ds, tmp_path, stream_cache):
    other = tmp_path / "other"
    shutil.copytree(small_ds, other)
    m = json.loads((other / "manifest.json").read_text())
    m["name"] = "other"
    (other / "manifest.json").write_text(json.dumps(m))
    state = PuzzleStream(other, batch_size=8, cache_dir=stream_cache).state_dict()
    with pytest.raises(DatasetError, match="another dataset"):
        open_stream(batch_size=8).load_state_dict(state)
    with pytest.raises(ValueError, match="batch_size"):
        open_stream(batch_size=16).load_state_dict(open_stream(batch_size=8).state_dict())


@pytest.mark.parametrize("damage", ["missing", "truncated", "flipped"])
def test_damaged_shard_names_the_file(small_ds, tmp_path, damage):
    ds = tmp_path / "ds"
    shutil.copytree(small_ds, ds)
    shard = sorted((ds / "train").glob("part-*.parquet"))[-1]
    data = bytearray(shard.read_bytes())
    if damage == "missing":
        shard.unlink()
    elif damage == "truncated":
        shard.write_bytes(data[: len(data) // 2])
    else:
        data[len(data) // 2] ^= 0xFF
        shard.write_bytes(bytes(data))
    with pytest.raises(DatasetError, match=str(shard)):
        PuzzleStream(ds, "train", cache_dir=tmp_path / "cache")
    # Without sha256 checks a flipped byte still surfaces as a DatasetError or decodes; never
    # as a raw pyarrow error.
    if damage == "flipped":
        try:
            PuzzleStream(ds, "train", cache=False, verify=False)
        except DatasetError as e:
            assert str(shard) in str(e)


def test_missing_split_and_manifest(small_ds, tmp_path):
    with pytest.raises(DatasetError, match="no split"):
        PuzzleStream(small_ds, "nope", cache=False)
    with pytest.raises(DatasetError, match="manifest"):
        PuzzleStream(tmp_path, cache=False)


def test_rank_and_world_size_come_from_torch_distributed(open_stream, monkeypatch):
    dist = torch.distributed
    monkeypatch.setattr(dist, "is_available", lambda: True)
    monkeypatch.setattr(dist, "is_initialized", lambda: True)
    monkeypatch.setattr(dist, "get_rank", lambda: 1)
    monkeypatch.setattr(dist, "get_world_size", lambda: 4)
    s = open_stream(batch_size=16, mode="examples")
    assert (s.rank, s.world_size, s.local_batch_size) == (1, 4, 4)
    assert next(iter(s))["inputs"].shape == (4, 900)
    with pytest.raises(ValueError, match="multiple of world_size"):
        open_stream(batch_size=18)


def test_no_cache_and_cache_agree_and_pickle_is_small(open_stream, small_ds):
    cached = open_stream(batch_size=16, mode="examples")
    memory = PuzzleStream(small_ds, batch_size=16, mode="examples", cache=False)
    assert_same_batches(batches_of(cached), batches_of(memory))
    blob = pickle.dumps(cached)
    assert len(blob) < 20_000  # arrays are re-mapped from the cache, not shipped
    assert_same_batches(batches_of(pickle.loads(blob)), batches_of(cached))


def test_memory_stays_flat_over_an_epoch(open_stream):
    s = open_stream(batch_size=8, mode="examples")
    it = iter(s)
    for _ in range(3):
        next(it)
    tracemalloc.start()
    base = tracemalloc.get_traced_memory()[0]
    for _ in range(25):
        next(it)
    grown = tracemalloc.get_traced_memory()[0] - base
    tracemalloc.stop()
    assert grown < 200_000


def test_set_epoch_reaches_persistent_workers(open_stream):
    stream = open_stream(batch_size=8, mode="hrm", seed=7)
    expected = []
    for epoch in range(3):
        stream.set_epoch(epoch)
        expected.append(batches_of(stream))
    loader = DataLoader(stream, batch_size=None, num_workers=2, persistent_workers=True)
    for epoch in range(3):
        stream.set_epoch(epoch)
        assert_same_batches(expected[epoch], list(loader))
    stream.load_state_dict(stream.state_dict(batches=2))
    assert_same_batches(expected[2][2:], list(loader))


def test_workers_reuse_a_few_shared_slots(open_stream):
    from arcdata.stream import transport

    if not transport.AVAILABLE:
        pytest.skip("no memfd_create on this platform")
    stream = open_stream(batch_size=4, mode="examples", worker_slots=3)
    expected = batches_of(stream)
    before = set(transport._MAPPINGS)
    n = 0
    for got, want in zip(DataLoader(stream, batch_size=None, num_workers=1), expected, strict=True):
        assert_same_batches([want], [got])
        n += 1
    new = set(transport._MAPPINGS) - before
    assert n == len(expected) > 10 and 1 <= len(new) <= 3


def test_in_process_batches_held_by_the_consumer_are_never_overwritten(open_stream):
    stream = open_stream(batch_size=8, mode="examples", worker_slots=2)
    expected = batches_of(stream)  # copies
    held = list(stream)  # no copies: the first two use the reused slots, the rest fresh arrays
    assert len(held) > 4
    assert_same_batches(expected, held)
    from arcdata.stream import transport

    if transport.AVAILABLE:
        assert len(stream._pool.slots) == 2
    del held
    again = [next(iter(stream)) for _ in range(3)]  # slots freed once the tensors died
    assert_same_batches(expected[:1] * 3, again)


def test_auto_collation_in_workers_frees_slots(open_stream):
    stream = open_stream(batch_size=4, mode="examples", worker_slots=2)
    expected = batches_of(stream)
    loader = DataLoader(stream, batch_size=2, num_workers=1, drop_last=True)
    for k, got in enumerate(loader):
        for j in range(2):
            for key, value in expected[2 * k + j].items():
                torch.testing.assert_close(got[key][j], value, rtol=0, atol=0)


def test_manifest_paths_outside_the_dataset_are_refused(small_ds, tmp_path):
    ds = tmp_path / "ds"
    shutil.copytree(small_ds, ds)
    m = json.loads((ds / "manifest.json").read_text())
    m["splits"]["train"]["shards"][0]["path"] = "../../etc/passwd"
    (ds / "manifest.json").write_text(json.dumps(m))
    with pytest.raises(DatasetError, match="shard path"):
        PuzzleStream(ds, "train", cache=False)

"""The stream cache under attack: planted, damaged, raced, cleaned; and resume under workers.

Every test opens the tiny reference build through its own cache folder. "A new process" is
simulated by forgetting which entries this process verified (``cache._VERIFIED``), which is
all a fresh process lacks.
"""

from __future__ import annotations

import json
import multiprocessing as mp
import os
import re
import stat
import warnings
import zlib

import numpy as np
import pytest
import torch
from click.testing import CliRunner

from arcdata.cli import main
from arcdata.stream import PuzzleStream, store
from arcdata.stream import cache as stream_cache
from arcdata.stream.cache import CacheWarning, UnsafeCacheError
from arcdata.stream.store import Dataset, encode_split, open_split, read_split

FIELDS = ("inputs", "labels", "fields")


def assert_same_arrays(a, b) -> None:
    assert a.task_ids == b.task_ids
    for name in FIELDS:
        np.testing.assert_array_equal(getattr(a, name), getattr(b, name), err_msg=name)


@pytest.fixture
def ds(tiny):
    return Dataset.open(tiny.reference)


@pytest.fixture
def truth(ds):
    """The train split read straight from Parquet and encoded: what any open must serve."""
    return encode_split(read_split(ds, "train", ds.split_entry("train"), verify=True), ds.codec)


def entry_of(cache_dir, ds, split="train"):
    return cache_dir / stream_cache.entry_name(ds.fingerprint, split)


def new_process() -> None:
    stream_cache._VERIFIED.clear()


def open_quietly(ds, cache_dir):
    """Open the train split, failing the test on any CacheWarning."""
    with warnings.catch_warnings():
        warnings.simplefilter("error", CacheWarning)
        return open_split(ds, "train", cache_dir=cache_dir)


# ----------------------------------------------------------------------------- a private folder


def test_cache_folder_is_created_private_and_records_sizes_and_checksums(ds, truth, tmp_path):
    cache_dir = tmp_path / "deep" / "cache"
    assert_same_arrays(open_quietly(ds, cache_dir), truth)
    assert stat.S_IMODE(cache_dir.stat().st_mode) == 0o700
    entry = entry_of(cache_dir, ds)
    meta = json.loads((entry / "meta.json").read_text())
    assert set(meta["files"]) == set(store.CACHE_FILES)
    for name, record in meta["files"].items():
        assert record["bytes"] == (entry / name).stat().st_size
        assert record["crc32"] == stream_cache.file_crc32(entry / name)
    assert [p.name for p in cache_dir.iterdir() if p.name.startswith(".")] == []


@pytest.mark.parametrize("mode", [0o777, 0o770, 0o722])
def test_folder_writable_by_group_or_others_is_refused(ds, tmp_path, mode):
    cache_dir = tmp_path / "shared"
    cache_dir.mkdir()
    os.chmod(cache_dir, mode)
    with pytest.raises(UnsafeCacheError, match=f"{cache_dir} is writable by group or others"):
        PuzzleStream(ds.root, "train", cache_dir=cache_dir)
    assert list(cache_dir.iterdir()) == []  # nothing written there either


def test_planted_cache_of_another_user_is_refused(ds, tmp_path, monkeypatch):
    """Someone else created the cache folder first (the default path is predictable) and put
    an entry with the right name in it: it is refused, never served."""
    mine = tmp_path / "mine"
    open_quietly(ds, mine)
    planted = tmp_path / "planted"
    os.rename(mine, planted)
    entry = entry_of(planted, ds)
    labels = bytearray((entry / "labels.u8").read_bytes())
    labels[len(labels) // 2] ^= 0x07
    (entry / "labels.u8").write_bytes(bytes(labels))
    if os.getuid() == 0:
        os.chown(planted, 4242, 4242)
        owner = 4242
    else:  # not root: pretend to be someone else instead
        owner = os.getuid()
        monkeypatch.setattr(os, "getuid", lambda: owner + 1)
    with pytest.raises(UnsafeCacheError, match=f"{planted} is owned by uid {owner}, not you"):
        open_split(ds, "train", cache_dir=planted)
    monkeypatch.setenv("ARCDATA_STREAM_CACHE", str(planted))
    with pytest.raises(UnsafeCacheError, match=str(planted)):
        PuzzleStream(ds.root, "train")


def test_a_symlinked_root_of_another_user_is_refused(ds, tmp_path, monkeypatch):
    target = tmp_path / "target"
    target.mkdir(mode=0o700)
    link = tmp_path / "link"
    link.symlink_to(target)
    uid = os.getuid()
    real_lstat = os.lstat

    def lstat(path, *a, **kw):  # the link appears to be someone else's
        st = real_lstat(path, *a, **kw)
        if os.fspath(path) == os.fspath(link):
            fields = list(st)
            fields[stat.ST_UID] = uid + 1
            return os.stat_result(fields)
        return st

    monkeypatch.setattr(os, "lstat", lstat)
    with pytest.raises(UnsafeCacheError, match="symlink owned by uid"):
        open_split(ds, "train", cache_dir=link)


def test_a_broken_symlink_root_is_refused(ds, tmp_path):
    link = tmp_path / "link"
    link.symlink_to(tmp_path / "gone")
    with pytest.raises(UnsafeCacheError, match=f"{link} is a broken symlink"):
        open_split(ds, "train", cache_dir=link)


# ----------------------------------------------------------------------------- damage


def flip(path, where: float = 0.5) -> None:
    data = bytearray(path.read_bytes())
    data[int(len(data) * where)] ^= 0xFF
    path.write_bytes(bytes(data))


def truncate(path) -> None:
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])


DAMAGE = {
    "flipped tokens": ("inputs.u8", flip, "does not match its checksum"),
    "flipped labels": ("labels.u8", lambda p: flip(p, 0.2), "does not match its checksum"),
    "flipped field record": ("fields.i32", lambda p: flip(p, 0.9), "does not match its checksum"),
    "truncated": ("labels.u8", truncate, "bytes, meta.json says"),
    "deleted": ("fields.i32", os.remove, "fields.i32 is missing"),
    "flipped meta": ("meta.json", lambda p: flip(p, 0.3), "meta.json"),
    "deleted meta": ("meta.json", os.remove, "meta.json is missing"),
}


@pytest.mark.parametrize("damage", sorted(DAMAGE))
def test_damaged_entry_is_rebuilt_with_a_warning_never_served(ds, truth, tmp_path, damage):
    name, hurt, reason = DAMAGE[damage]
    cache_dir = tmp_path / "cache"
    open_quietly(ds, cache_dir)
    entry = entry_of(cache_dir, ds)
    hurt(entry / name)
    new_process()
    with pytest.warns(CacheWarning, match=f"{re.escape(str(entry))}.*{reason}.*rebuilding"):
        arrays = open_split(ds, "train", cache_dir=cache_dir)
    assert_same_arrays(arrays, truth)
    # Repaired for good: the next processes open it silently and get the same arrays.
    new_process()
    assert_same_arrays(open_quietly(ds, cache_dir), truth)
    assert sorted(p.name for p in cache_dir.iterdir()) == sorted(
        [entry.name, entry.name + stream_cache.LOCK_SUFFIX]
    )


def test_an_entry_of_another_split_under_this_name_is_not_served(ds, tmp_path):
    """Entry names flatten odd split names ('a/b' and 'a_b' share one): meta.json decides."""
    cache_dir = tmp_path / "cache"
    open_quietly(ds, cache_dir)
    os.rename(entry_of(cache_dir, ds, "train"), entry_of(cache_dir, ds, "test"))
    with pytest.warns(CacheWarning, match="written for another manifest or split"):
        arrays = open_split(ds, "test", cache_dir=cache_dir)
    test = read_split(ds, "test", ds.split_entry("test"), verify=True)
    assert_same_arrays(arrays, encode_split(test, ds.codec))


def test_flipped_byte_is_caught_within_a_process_when_the_file_changed(ds, truth, tmp_path):
    """Once-per-process checking trusts an entry only while its files keep the inode, size and
    mtime it verified; rewriting a file (as a planted or edited file is) is checked again."""
    cache_dir = tmp_path / "cache"
    open_quietly(ds, cache_dir)
    flip(entry_of(cache_dir, ds) / "inputs.u8")
    with pytest.warns(CacheWarning, match="inputs.u8 does not match its checksum"):
        assert_same_arrays(open_split(ds, "train", cache_dir=cache_dir), truth)


def test_checksums_run_once_per_process_and_spawned_workers_inherit_the_check(
    ds, tmp_path, monkeypatch
):
    cache_dir = tmp_path / "cache"
    open_quietly(ds, cache_dir)  # writes: checksums computed while sealing
    calls = []
    real = stream_cache._crc_all
    monkeypatch.setattr(stream_cache, "_crc_all", lambda *a: calls.append(1) or real(*a))
    open_quietly(ds, cache_dir)
    assert calls == []  # verified by this process already
    handed_over = stream_cache.trusted()
    new_process()
    stream_cache.trust(handed_over)  # what a spawned DataLoader worker does
    open_quietly(ds, cache_dir)
    assert calls == []
    new_process()
    open_quietly(ds, cache_dir)
    assert calls == [1]  # a process that did not verify it checks every file once


def test_stream_pickles_what_it_verified_for_spawned_workers(ds, tmp_path):
    import pickle

    stream = PuzzleStream(ds.root, "train", batch_size=8, cache_dir=tmp_path / "cache")
    state = pickle.loads(pickle.dumps(stream))._trusted
    assert str(entry_of(tmp_path / "cache", ds)) in state


def test_stale_temporary_and_trash_folders_are_swept(ds, tmp_path):
    cache_dir = tmp_path / "cache"
    cache_dir.mkdir(mode=0o700)
    stale = cache_dir / ".tmp-deadbeef"
    fresh = cache_dir / ".tmp-writing-now"
    trash = cache_dir / ".trash-old"
    for folder in (stale, fresh, trash):
        folder.mkdir()
        (folder / "x.npy").write_bytes(b"x")
    old = stale.stat().st_mtime - 2 * stream_cache.STALE_TMP_S
    os.utime(stale, (old, old))
    open_quietly(ds, cache_dir)
    assert not stale.exists() and not trash.exists()
    assert fresh.exists()  # may be another process's write in progress


def test_losing_a_publish_race_keeps_the_winner(ds, truth, tmp_path):
    """Two writers that skipped the lock (another host on a shared disk): the second rename
    fails, its copy is dropped, and both end with one whole entry."""
    root = stream_cache.private_root(tmp_path / "cache")
    key = stream_cache.EntryKey(ds.fingerprint, "train", str(ds.root))
    entry = ds.split_entry("train")

    def write(tmp):
        return store._write_cache(ds, "train", entry, tmp, True)

    stream_cache._write_entry(root, root / key.name, key, write)
    first = (root / key.name / "meta.json").read_bytes()
    stream_cache._write_entry(root, root / key.name, key, write)
    assert (root / key.name / "meta.json").read_bytes() == first
    assert [p.name for p in root.iterdir()] == [key.name]
    new_process()
    assert_same_arrays(open_quietly(ds, root), truth)


def _open_in_child(args) -> str:
    root, cache_dir, barrier, log = args
    barrier.wait()

    real = store._write_cache

    def counting(*a, **kw):
        with open(log, "a") as f:
            f.write(f"{os.getpid()}\n")
        return real(*a, **kw)

    store._write_cache = counting
    with warnings.catch_warnings():
        warnings.simplefilter("error", CacheWarning)
        arrays = open_split(Dataset.open(root), "train", cache_dir=cache_dir)
    return json.dumps([arrays.task_ids] + [zlib.crc32(getattr(arrays, f)) for f in FIELDS])


def test_concurrent_cold_openers_decode_once_and_agree(ds, truth, tmp_path):
    """Four processes (ranks, workers) open a cold cache at the same instant."""
    cache_dir = tmp_path / "cache"
    log = tmp_path / "writers.log"
    ctx = mp.get_context("fork")
    n = 4
    barrier = ctx.Manager().Barrier(n)
    with ctx.Pool(n) as pool:
        results = pool.map(_open_in_child, [(ds.root, cache_dir, barrier, log)] * n)
    assert len(set(results)) == 1
    assert len(log.read_text().split()) == 1  # the lock made the others wait, then map
    entry = entry_of(cache_dir, ds)
    assert sorted(p.name for p in cache_dir.iterdir()) == sorted(
        [entry.name, entry.name + stream_cache.LOCK_SUFFIX]
    )
    new_process()
    assert_same_arrays(open_quietly(ds, cache_dir), truth)


def test_unwritable_cache_falls_back_to_memory_with_a_warning(ds, truth, tmp_path, monkeypatch):
    def full_disk(*a, **kw):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(stream_cache.tempfile, "mkdtemp", full_disk)
    with pytest.warns(CacheWarning, match="No space left"):
        assert_same_arrays(open_split(ds, "train", cache_dir=tmp_path / "cache"), truth)


def test_damaged_entry_that_cannot_be_replaced_is_not_served(ds, truth, tmp_path, monkeypatch):
    """A read-only cache (discarding fails): the damaged entry is read around, in memory."""
    cache_dir = tmp_path / "cache"
    open_quietly(ds, cache_dir)
    flip(entry_of(cache_dir, ds) / "labels.u8")

    def read_only(folder):
        raise PermissionError(13, "Read-only file system", str(folder))

    monkeypatch.setattr(stream_cache, "discard", read_only)
    new_process()
    with pytest.warns(CacheWarning) as caught:
        assert_same_arrays(open_split(ds, "train", cache_dir=cache_dir), truth)
    messages = [str(w.message) for w in caught]
    assert any("labels.u8 does not match" in m for m in messages)
    assert any("into memory" in m for m in messages)


def test_filesystem_without_locks_still_opens(ds, truth, tmp_path, monkeypatch):
    if stream_cache.fcntl is None:
        pytest.skip("no fcntl on this platform")

    def no_locks(fd, op):
        raise OSError(37, "No locks available")

    monkeypatch.setattr(stream_cache.fcntl, "flock", no_locks)
    assert_same_arrays(open_quietly(ds, tmp_path / "cache"), truth)


# ----------------------------------------------------------------------------- arcdata cache


def test_cache_list_and_clear(ds, tmp_path):
    cache_dir = tmp_path / "cache"
    open_quietly(ds, cache_dir)
    open_split(ds, "test", cache_dir=cache_dir)
    (cache_dir / "notes.txt").write_text("not ours")
    runner = CliRunner()
    res = runner.invoke(main, ["cache", "list", "--cache-dir", str(cache_dir)])
    assert res.exit_code == 0, res.output
    assert f"{cache_dir}: 2 entries" in res.output
    lines = [line for line in res.output.splitlines() if entry_of(cache_dir, ds).name in line]
    assert len(lines) == 1 and "ok" in lines[0] and str(ds.root) in lines[0]

    flip(entry_of(cache_dir, ds, "test") / "inputs.u8")
    res = runner.invoke(main, ["cache", "list", "--cache-dir", str(cache_dir), "--verify"])
    assert "damaged: inputs.u8 does not match its checksum" in res.output

    res = runner.invoke(main, ["cache", "clear", "--cache-dir", str(cache_dir)])
    assert res.exit_code == 0 and "removed 2 entries" in res.output
    assert [p.name for p in cache_dir.iterdir()] == ["notes.txt"]
    res = runner.invoke(main, ["cache", "list", "--cache-dir", str(cache_dir)])
    assert f"{cache_dir}: 0 entries" in res.output
    # The next open rebuilds silently.
    open_quietly(ds, cache_dir)


def test_cache_commands_refuse_an_unsafe_folder_in_one_line(tmp_path, monkeypatch):
    shared = tmp_path / "shared"
    shared.mkdir()
    os.chmod(shared, 0o777)
    monkeypatch.setenv("ARCDATA_STREAM_CACHE", str(shared))
    for command in ("list", "clear"):
        res = CliRunner().invoke(main, ["cache", command])
        assert res.exit_code == 2
        assert res.output.startswith(f"error: stream cache folder {shared} is writable")
        assert res.output.count("\n") == 1
    res = CliRunner().invoke(main, ["cache", "list", "--cache-dir", str(tmp_path / "none")])
    assert res.exit_code == 0 and "0 entries" in res.output
    assert not (tmp_path / "none").exists()  # listing creates nothing


# ----------------------------------------------------------------------------- state under workers


def batches_of(iterable) -> list[dict]:
    return [{k: v.clone() for k, v in b.items()} for b in iterable]


def assert_same_batches(a, b) -> None:
    assert len(a) == len(b)
    for x, y in zip(a, b, strict=True):
        assert x.keys() == y.keys()
        for k in x:
            torch.testing.assert_close(x[k], y[k], rtol=0, atol=0)


@pytest.mark.parametrize("mode", ["examples", "hrm"])
def test_state_dict_with_two_workers_resumes_exactly(ds, tmp_path, mode):
    def stream(**kw):
        return PuzzleStream(
            ds.root, "train", batch_size=16, mode=mode, seed=3, cache_dir=tmp_path, **kw
        )

    everything = batches_of(stream())
    assert len(everything) > 8
    first = stream()
    taken = []
    for batch in first.loader(num_workers=2):
        taken.append({k: v.clone() for k, v in batch.items()})
        if len(taken) == 5:
            break
    state = first.state_dict()
    assert state["batches"] == 5  # what the consumer received, not 0, not what was prefetched
    assert_same_batches(everything[:5], taken)
    resumed = stream()
    resumed.load_state_dict(state)
    assert_same_batches(everything[5:], batches_of(resumed.loader(num_workers=2)))
    assert resumed.state_dict()["batches"] == len(everything)


def test_state_dict_after_a_plain_dataloader_raises_instead_of_zero(ds, tmp_path):
    from torch.utils.data import DataLoader

    s = PuzzleStream(ds.root, "train", batch_size=16, mode="examples", cache_dir=tmp_path)
    it = iter(DataLoader(s, batch_size=None, num_workers=2))
    for _ in range(3):
        next(it)
    with pytest.raises(RuntimeError, match=r"stream.loader\(\.\.\.\).*state_dict\(batches=n\)"):
        s.state_dict()
    assert s.state_dict(batches=3)["batches"] == 3  # the consumer's own count is accepted
    del it
    s.set_epoch(1)
    assert s.state_dict()["batches"] == 0  # a fresh epoch: nothing taken yet is the truth
    it = iter(s)
    next(it)
    next(it)
    assert s.state_dict()["batches"] == 2  # in-process iteration counts itself


def test_stream_loader_refuses_settings_that_break_the_count(ds, tmp_path):
    s = PuzzleStream(ds.root, "train", batch_size=16, cache_dir=tmp_path)
    with pytest.raises(ValueError, match="batch_size"):
        s.loader(batch_size=4)
    with pytest.raises(ValueError, match="in_order"):
        s.loader(in_order=False)

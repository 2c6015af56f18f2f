"""Reading and writing ``.npy`` files in bounded memory.

A split's token arrays are gigabytes (ARC-AGI-1 x 1000: 2.8M rows x 900 bytes, twice). Mapping a
whole file and slicing it keeps every touched page in the process (they count as resident until
unmapped), so reading maps one window of rows at a time and drops it.

Writing streams encoded chunks to the files from a second thread, with direct I/O (``O_DIRECT``)
where the filesystem has it: the disk reads the chunk buffers themselves, so gigabytes never pass
through the page cache. Measured on this project's machine, whose page cache is usually full of
other work's files, a buffered write of 2 GB took 4.1 s of kernel CPU (copying, reclaiming
cache pages) and 7.9 s to reach the disk, a direct one 0.3 s and 2.4 s. (A memory-mapped output
was slower still: one page fault per 4 KiB.) Direct I/O wants aligned buffers, offsets and
lengths, so the file is written as one byte stream (header, then rows) in whole blocks: each
chunk's buffer starts with the unaligned tail of the previous one, and the last block is padded,
then the file truncated to its size.
"""

from __future__ import annotations

import errno
import fcntl
import io
import os
import queue
import threading
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from arcdata.errors import DatasetError

ALIGN = 4096
"""Alignment of direct-I/O buffers, offsets and lengths (a multiple of any disk's block size)."""
DIRECT = getattr(os, "O_DIRECT", 0)


def write_npy(path: Path, array: np.ndarray) -> None:
    with open(path, "wb") as f:
        np.save(f, array, allow_pickle=False)


def _aligned(size: int) -> np.ndarray:
    """A zeroed uint8 [size] array whose data starts on an ALIGN boundary."""
    raw = np.zeros(size + ALIGN, np.uint8)
    skip = -raw.ctypes.data % ALIGN
    return raw[skip : skip + size]


def _open(path: Path, direct: bool) -> tuple[int, bool]:
    """A write descriptor, with O_DIRECT when asked and the filesystem takes it."""
    flags = os.O_WRONLY | os.O_CREAT | os.O_TRUNC | getattr(os, "O_CLOEXEC", 0)
    if direct and DIRECT:
        try:
            return os.open(path, flags | DIRECT, 0o644), True
        except OSError as e:
            if e.errno != errno.EINVAL:  # EINVAL: no direct I/O here (tmpfs, some FUSE)
                raise
    return os.open(path, flags, 0o644), False


class _Stream:
    """One output file: its descriptor, bytes handed to the disk, and the unaligned tail that
    goes in front of the next chunk."""

    def __init__(self, path: Path, header: bytes, direct: bool) -> None:
        self.fd, self.direct = _open(path, direct)
        self.tail = header
        self.size = len(header)  # bytes of the file so far, the tail included

    def write(self, data: memoryview) -> None:
        """Write all of ``data`` (whole blocks when direct); falls back to buffered writes if
        the filesystem refuses this direct write."""
        while len(data):
            try:
                done = os.write(self.fd, data)
            except OSError as e:
                if not (self.direct and e.errno == errno.EINVAL):
                    raise
                fcntl.fcntl(self.fd, fcntl.F_SETFL, fcntl.fcntl(self.fd, fcntl.F_GETFL) & ~DIRECT)
                self.direct = False
                continue
            data = data[done:]


class RowWriter:
    """Writes a ``[rows, width]`` uint8 array to several ``.npy`` files, chunk by chunk.

    ``buffer(key, rows)`` hands out a chunk for file ``key`` to encode into (the encoder
    overwrites every byte), ``put(key, chunk)`` queues it for the writer thread; at most
    ``depth`` chunks are in flight, so memory is bounded. Chunks of one file are written in the
    order they are put. ``direct=False`` writes through the page cache.
    """

    def __init__(
        self,
        paths: dict[str, Path],
        rows: int,
        width: int,
        chunk_rows: int,
        depth: int = 4,
        direct: bool = True,
    ):
        self.rows, self.width, self.chunk_rows = rows, width, chunk_rows
        self.written = dict.fromkeys(paths, 0)
        header = {"descr": np.dtype(np.uint8).str, "fortran_order": False, "shape": (rows, width)}
        head = io.BytesIO()
        np.lib.format.write_array_header_1_0(head, header)
        self.streams: dict[str, _Stream] = {}
        try:
            for k, p in paths.items():
                self.streams[k] = _Stream(p, head.getvalue(), direct)
        except BaseException:
            self._close_files()
            raise
        # room for a tail (< ALIGN, the header included) before the rows, and a padded block
        self.size = -(-(max(ALIGN, len(head.getvalue())) + chunk_rows * width) // ALIGN) * ALIGN
        self.free: queue.Queue[np.ndarray] = queue.Queue()
        for _ in range(depth):
            self.free.put(_aligned(self.size))
        self.lent: dict[str, tuple[np.ndarray, int]] = {}
        self.todo: queue.Queue = queue.Queue()
        self.error: BaseException | None = None
        self.thread = threading.Thread(target=self._drain, daemon=True)
        self.thread.start()

    def buffer(self, key: str, rows: int) -> np.ndarray:
        """A ``[rows, width]`` chunk (rows <= chunk_rows) for file ``key``, holding whatever it
        last held; the next ``put(key, ...)`` must hand it back."""
        raw = self.free.get()
        tail = self.streams[key].tail
        raw[: len(tail)] = np.frombuffer(tail, np.uint8)
        self.lent[key] = (raw, len(tail))
        return raw[len(tail) : len(tail) + rows * self.width].reshape(rows, self.width)

    def put(self, key: str, chunk: np.ndarray) -> None:
        if self.error is not None:
            raise self.error
        raw, lead = self.lent.pop(key)
        end = lead + chunk.size
        stream = self.streams[key]
        cut = end - end % ALIGN if stream.direct else end
        stream.tail = raw[cut:end].tobytes()
        stream.size += chunk.size
        self.written[key] += len(chunk)
        self.todo.put((key, raw, cut))

    def _drain(self) -> None:
        while True:
            item = self.todo.get()
            if item is None:
                return
            key, raw, cut = item
            try:
                if self.error is None:
                    self.streams[key].write(memoryview(raw[:cut]))
            except BaseException as e:  # noqa: BLE001 - re-raised in the caller's thread
                self.error = e
            self.free.put(raw)

    def close(self) -> None:
        """Wait for the queued chunks, write the tails, close the files, re-raise an error."""
        self.todo.put(None)
        self.thread.join()
        try:
            if self.error is None:
                for stream in self.streams.values():
                    self._finish(stream)
        except BaseException as e:  # noqa: BLE001 - re-raised below, after closing
            self.error = e
        self._close_files()
        if self.error is not None:
            raise self.error

    def _finish(self, stream: _Stream) -> None:
        """The last partial block: padded to a whole block for direct I/O, then cut off."""
        if not stream.tail:
            return
        if not stream.direct:
            stream.write(memoryview(stream.tail))
            return
        block = _aligned(ALIGN)
        block[: len(stream.tail)] = np.frombuffer(stream.tail, np.uint8)
        stream.write(memoryview(block))
        os.ftruncate(stream.fd, stream.size)

    def _close_files(self) -> None:
        for stream in self.streams.values():
            with suppress(OSError):
                os.close(stream.fd)


@dataclass(frozen=True)
class NpyFile:
    """An ``.npy`` file's header: where the data starts, its dtype and shape."""

    path: Path
    dtype: np.dtype
    shape: tuple[int, ...]
    offset: int

    @classmethod
    def open(cls, path: Path, dtype, ndim: int) -> NpyFile:
        """Read and check the header: ``ndim`` dimensions, a type castable to ``dtype``."""
        if not path.is_file():
            raise DatasetError(f"{path}: missing")
        try:
            arr = np.load(path, mmap_mode="r", allow_pickle=False)
        except (OSError, ValueError) as e:
            raise DatasetError(f"{path}: unreadable npy: {e}") from None
        if arr.ndim != ndim or not np.can_cast(arr.dtype, dtype, "same_kind"):
            raise DatasetError(
                f"{path}: expected a {ndim}-d {np.dtype(dtype)} array, "
                f"found {arr.ndim}-d {arr.dtype}"
            )
        if arr.ndim > 1 and not arr.flags.c_contiguous:
            raise DatasetError(f"{path}: Fortran-ordered arrays are not supported; save in C order")
        header = cls(path, arr.dtype, arr.shape, int(getattr(arr, "offset", 0)))
        del arr
        return header

    def __len__(self) -> int:
        return self.shape[0]

    def load(self) -> np.ndarray:
        """The whole array in memory (for the small structure arrays)."""
        return np.load(self.path, allow_pickle=False)

    @contextmanager
    def rows(self, lo: int, hi: int) -> Iterator[np.ndarray]:
        """Rows lo..hi memory-mapped for the block's duration, then unmapped."""
        if hi <= lo:
            yield np.zeros((0, *self.shape[1:]), self.dtype)
            return
        row_bytes = self.dtype.itemsize * int(np.prod(self.shape[1:], dtype=np.int64))
        window = np.memmap(
            self.path,
            dtype=self.dtype,
            mode="r",
            offset=self.offset + lo * row_bytes,
            shape=(hi - lo, *self.shape[1:]),
        )
        try:
            yield window.view(np.ndarray)
        finally:
            del window  # the last reference: the pages are unmapped now (callers keep no views)

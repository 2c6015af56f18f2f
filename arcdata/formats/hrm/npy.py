"""Reading and writing ``.npy`` files in bounded memory.

A split's token arrays are gigabytes (ARC-AGI-1 x 1000: 2.8M rows x 900 bytes, twice). Mapping a
whole file and slicing it keeps every touched page in the process (they count as resident until
unmapped), so reading maps one window of rows at a time and drops it; writing streams encoded
chunks through ``write`` from a second thread, so encoding and the kernel's copy overlap (a
memory-mapped output measured twice as slow on this project's machine: one page fault per
4 KiB).
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from arcdata.errors import DatasetError


def write_npy(path: Path, array: np.ndarray) -> None:
    with open(path, "wb") as f:
        np.save(f, array, allow_pickle=False)


class RowWriter:
    """Writes a ``[rows, width]`` uint8 array to several ``.npy`` files, chunk by chunk.

    ``buffer()`` hands out a chunk to encode into (the encoder overwrites every byte),
    ``put(key, chunk)`` queues it for the writer thread; at most ``depth`` chunks are in
    flight, so memory is bounded.
    """

    def __init__(self, paths: dict[str, Path], rows: int, width: int, chunk_rows: int, depth=4):
        self.rows, self.width, self.chunk_rows = rows, width, chunk_rows
        self.written = dict.fromkeys(paths, 0)
        self.files = {k: open(p, "wb") for k, p in paths.items()}  # noqa: SIM115
        header = {"descr": np.dtype(np.uint8).str, "fortran_order": False, "shape": (rows, width)}
        for f in self.files.values():
            np.lib.format.write_array_header_1_0(f, header)
        self.free: queue.Queue[np.ndarray] = queue.Queue()
        for _ in range(depth):
            self.free.put(np.zeros((chunk_rows, width), np.uint8))
        self.todo: queue.Queue = queue.Queue()
        self.error: BaseException | None = None
        self.thread = threading.Thread(target=self._drain, daemon=True)
        self.thread.start()

    def buffer(self, rows: int) -> np.ndarray:
        """A ``[rows, width]`` chunk (rows <= chunk_rows), holding whatever it last held."""
        return self.free.get()[:rows]

    def put(self, key: str, chunk: np.ndarray) -> None:
        if self.error is not None:
            raise self.error
        self.written[key] += len(chunk)
        self.todo.put((key, chunk))

    def _drain(self) -> None:
        while True:
            item = self.todo.get()
            if item is None:
                return
            key, chunk = item
            try:
                if self.error is None:
                    self.files[key].write(memoryview(chunk).cast("B"))
            except BaseException as e:  # noqa: BLE001 - re-raised in the caller's thread
                self.error = e
            self.free.put(chunk.base if chunk.base is not None else chunk)

    def close(self) -> None:
        """Wait for the queued chunks, close the files, and re-raise a write error."""
        self.todo.put(None)
        self.thread.join()
        for f in self.files.values():
            f.close()
        if self.error is not None:
            raise self.error


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

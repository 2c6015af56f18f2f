"""The one sha256 helper: files are read in 4 MiB chunks (hashlib releases the GIL on them)."""

from __future__ import annotations

import hashlib
import os

CHUNK = 1 << 22


def file_digest(path: str | os.PathLike) -> tuple[str, int]:
    """sha256 hex digest and size of a file, read once."""
    h = hashlib.sha256()
    size = 0
    with open(path, "rb") as f:
        while chunk := f.read(CHUNK):
            h.update(chunk)
            size += len(chunk)
    return h.hexdigest(), size


def file_sha256(path: str | os.PathLike) -> str:
    return file_digest(path)[0]


def bytes_sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()

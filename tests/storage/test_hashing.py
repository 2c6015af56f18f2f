"""The one sha256 helper agrees with hashlib on files of every size, chunk edges included."""

from __future__ import annotations

import hashlib

import pytest

from arcdata.storage import hashing


@pytest.mark.parametrize("size", [0, 1, hashing.CHUNK - 1, hashing.CHUNK, hashing.CHUNK + 1])
def test_file_digest_matches_hashlib(tmp_path, size):
    data = bytes(range(256)) * (size // 256) + bytes(size % 256)
    path = tmp_path / "f"
    path.write_bytes(data)
    assert hashing.file_digest(path) == (hashlib.sha256(data).hexdigest(), size)
    assert hashing.file_sha256(path) == hashlib.sha256(data).hexdigest()
    assert hashing.bytes_sha256(data) == hashlib.sha256(data).hexdigest()

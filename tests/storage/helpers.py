"""A small dataset folder whose manifest follows the arcdata schema, written without a build."""

from __future__ import annotations

from pathlib import Path

from arcdata.storage.hashing import file_sha256
from arcdata.storage.manifest import FORMAT, write_json

SHA = "0" * 64


def fake_dataset(path: Path, marker: str = "v1") -> Path:
    """One split with one shard holding ``marker``; the manifest names every file."""
    (path / "train").mkdir(parents=True)
    shard = path / "train" / "part-00000.parquet"
    shard.write_bytes(marker.encode())
    (path / "identifiers.parquet").write_bytes(b"ids")
    write_json(path / "manifest.json", fake_manifest(marker, file_sha256(shard)))
    return path


def fake_manifest(marker: str, shard_sha: str = SHA) -> dict:
    return {
        "format": FORMAT,
        "name": marker,
        "codec": "arc",
        "seq_len": 900,
        "vocab_size": 12,
        "code_version": "0",
        "config_hash": SHA,
        "config": {"name": marker, "sources": {}},
        "sources": [],
        "totals": {"tasks": 1, "versions": 1, "examples": 1, "tasks_read": 1, "tasks_rejected": 0},
        "splits": {
            "train": {
                "rows": 1,
                "groups": 1,
                "puzzles": 1,
                "shards": [
                    {"path": "train/part-00000.parquet", "rows": 1, "bytes": 2, "sha256": shard_sha}
                ],
            }
        },
        "embedding_ids": {
            "granularity": "version",
            "count": 2,
            "file": "identifiers.parquet",
            "sha256": SHA,
        },
        "short_tasks": {"requested_versions": 1, "count": 0, "tasks": {}},
        "rejects": [],
        "units": 1,
        "marker": marker,
    }


def marker_of(path: Path) -> str:
    return (path / "train" / "part-00000.parquet").read_text()

"""The partial folder a build writes into, and what ``--resume`` may keep of it.

A build writes into the stage :mod:`arcdata.storage.publish` gives it (a hidden
``.<name>.partial`` beside the destination). Each finished unit leaves a record
(``units/unit-NNNNN.json``) naming its tasks, its files and their sha256. A resumed build keeps
the units only when the inputs fingerprint matches (config hash, code version, every source
file's checksum), and reuses a unit only when its task list, its record and every file it names
still check out; anything else is rebuilt, so a resume never mixes old and new inputs.
"""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

from arcdata.builder.collect import ReadResult
from arcdata.builder.units import Unit
from arcdata.errors import DatasetError
from arcdata.storage.hashing import bytes_sha256, file_sha256

HASH_NAME = "inputs.sha256"


def inputs_fingerprint(digest: str, code_version: str, read: ReadResult) -> str:
    """What finished units depend on besides their own tasks: the config (its hash), the code,
    and every source file's checksum (added, removed or edited files all change it)."""
    sources = [
        [s.name, s.type, [[f.get("path"), f.get("sha256")] for f in s.files]] for s in read.sources
    ]
    blob = json.dumps([digest, code_version, sources], sort_keys=True, default=str)
    return bytes_sha256(blob.encode("utf-8"))


def prepare_tmp(tmp: Path, digest: str, resume: bool) -> None:
    """Start clean, or keep only the finished units of an interrupted build of these inputs
    (``digest`` is :func:`inputs_fingerprint`).

    Anything but ``units/`` (for example shards an interrupted publish already renamed) is
    dropped even on resume: the units it came from are rebuilt because their files moved.
    """
    marker = tmp / HASH_NAME
    same = marker.exists() and marker.read_text().strip() == digest
    keep = {HASH_NAME, "units"} if resume and same else set()
    for child in tmp.iterdir():
        if child.name in keep:
            continue
        if child.is_dir() and not child.is_symlink():
            shutil.rmtree(child)
        else:
            child.unlink()
    _write_text(marker, digest + "\n")


def _write_text(path: Path, text: str) -> None:
    part = path.with_name(path.name + ".tmp")
    part.write_text(text)
    os.replace(part, path)


def key_token(digest: str, tmp: Path) -> str:
    """Task keys from the config and the destination: two builds of one config into two
    folders on a shared scheduler must not share results (each writes into its own folder)."""
    from dask.base import tokenize

    return tokenize(digest, str(tmp))[:16]


def unit_record(tmp: Path, index: int) -> Path:
    return tmp / "units" / f"unit-{index:05d}.json"


def identifiers_part(tmp: Path, index: int) -> Path:
    return tmp / "units" / "identifiers" / f"unit-{index:05d}.parquet"


def finished_unit(tmp: Path, unit: Unit) -> dict | None:
    """A unit finished by an earlier, interrupted run, if all its files still check out."""
    record = unit_record(tmp, unit.index)
    if not record.exists():
        return None
    try:
        stats = json.loads(record.read_text())
        if stats["unit"] != unit.index or stats["task_ids"] != list(unit.task_ids):
            return None
        for s in stats["splits"].values():
            if file_sha256(tmp / s["path"]) != s["sha256"]:
                return None
        ident = identifiers_part(tmp, unit.index)
        if stats["identifiers_sha256"] is None:
            if ident.exists():
                return None
        elif file_sha256(ident) != stats["identifiers_sha256"]:
            return None
    except (OSError, ValueError, KeyError, TypeError):
        return None
    return stats


def accept_unit(tmp: Path, stats: dict, unit: Unit) -> dict:
    """Check a worker's files from the driver's side; note the unit's tasks and the
    identifiers' checksum for a later resume.

    On a real cluster the workers write to the output path themselves; if it is not shared,
    the files are missing here, which must fail now with a clear reason, not at publish time.
    """
    for s in stats["splits"].values():
        path = tmp / s["path"]
        try:
            size = path.stat().st_size
        except FileNotFoundError:
            raise DatasetError(
                f"a worker wrote {path} but this machine cannot see it: the output folder must "
                "be on a filesystem shared by the driver and every worker"
            ) from None
        if size != s["bytes"]:
            raise DatasetError(f"{path}: {size} bytes on disk, the worker wrote {s['bytes']}")
    ident = identifiers_part(tmp, stats["unit"])
    return {
        **stats,
        "task_ids": list(unit.task_ids),
        "identifiers_sha256": file_sha256(ident) if ident.exists() else None,
    }

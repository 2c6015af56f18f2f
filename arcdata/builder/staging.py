"""The partial folder a build writes into, and what ``--resume`` may keep of it.

A build writes under a hidden ``.<name>.partial`` folder beside the destination. Each finished
unit leaves a record (``units/unit-NNNNN.json``) naming its files and their sha256; a resumed
build reuses a unit only when its record and every file it names still check out.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import shutil
from pathlib import Path

from arcdata.builder.shards import file_sha256
from arcdata.builder.units import Unit
from arcdata.errors import DatasetError

LOCK_NAME = ".lock"
HASH_NAME = "config_hash"


def is_dataset(path: Path) -> bool:
    return path.is_dir() and (path / "manifest.json").is_file()


def check_destination(out: Path, overwrite: bool) -> None:
    """Refuse to replace a dataset without ``overwrite``, and anything else at all.

    ``--overwrite --out ~/work`` must not delete a home folder, so only a folder holding a
    manifest.json (an arcdata dataset) or an empty folder may be replaced.
    """
    if not out.exists() and not out.is_symlink():
        return
    if out.is_symlink() or not out.is_dir():
        raise DatasetError(f"{out} exists and is not a folder; not replacing it")
    if not any(out.iterdir()):
        return
    if not is_dataset(out):
        raise DatasetError(
            f"{out} exists and is not an arcdata dataset (no manifest.json); "
            "not replacing it, choose another --out"
        )
    if not overwrite:
        raise DatasetError(f"{out} already exists; pass --overwrite to replace it")


def recover_interrupted_swap(out: Path) -> None:
    """Finish what a build killed inside the final two-rename swap left behind.

    The swap is ``out -> .out.old`` then ``.partial -> out``; a kill between the two leaves the
    previous dataset only under the ``.old`` name, so put it back. A kill after both leaves a
    stale ``.old`` to delete.
    """
    old = out.parent / f".{out.name}.old"
    if not old.exists():
        return
    if not out.exists() and is_dataset(old):
        os.replace(old, out)
    else:
        shutil.rmtree(old, ignore_errors=True)


@contextlib.contextmanager
def locked_tmp(tmp: Path, out: Path):
    """Hold an exclusive advisory lock on the partial folder for the whole build.

    Two builds into one destination would otherwise delete or overwrite each other's units.
    The kernel drops the lock when the process dies, so a SIGKILLed build never blocks a
    resume. The lock file is removed before the folder is published.
    """
    tmp.mkdir(parents=True, exist_ok=True)
    fd = os.open(tmp / LOCK_NAME, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise DatasetError(
                f"another build is writing {out} (lock {tmp / LOCK_NAME} is "
                "held); wait for it or stop it"
            ) from None
        yield tmp / LOCK_NAME
    finally:
        os.close(fd)


def prepare_tmp(tmp: Path, digest: str, resume: bool) -> None:
    """Start clean, or keep only the finished units of an interrupted build of this config.

    Anything but ``units/`` (for example shards an interrupted publish already renamed) is
    dropped even on resume: the units it came from are rebuilt because their files moved.
    """
    marker = tmp / HASH_NAME
    same = marker.exists() and marker.read_text().strip() == digest
    keep = {LOCK_NAME, HASH_NAME, "units"} if resume and same else {LOCK_NAME}
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
        if stats["unit"] != unit.index:
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


def accept_unit(tmp: Path, stats: dict) -> dict:
    """Check a worker's files from the driver's side and note the identifiers' checksum.

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
    return {**stats, "identifiers_sha256": file_sha256(ident) if ident.exists() else None}

"""``arcdata verify``: prove a built dataset is exactly what its manifest says, or name the damage.

A training run fed a silently truncated or bit-flipped shard wastes days, and copies between
machines and object stores do damage files. This re-derives every fact the manifest records
(schema, sha256 and size of every file, row counts, the Arrow schema, embedding-id ranges,
split membership) and reports each mismatch with the file it is in.

Content checks (Arrow schema, ids, split column) run only on files whose sha256 matched: a
damaged file is already failed, and decoding corrupt bytes proves nothing more.
"""

from __future__ import annotations

import json
import os
import sys
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

import click

from arcdata.errors import DatasetError
from arcdata.paths import safe_member

MANIFEST = "manifest.json"
SCHEMA_PATH = Path(__file__).resolve().parent / "schema_files" / "manifest.schema.json"
CHUNK = 1 << 22


@dataclass
class Problem:
    """One thing wrong, and the file (relative to the dataset) it is in."""

    file: str
    message: str


@dataclass
class Report:
    """The outcome of :func:`verify_dataset`: problems, and how much was checked."""

    root: Path
    problems: list[Problem] = field(default_factory=list)
    warnings: list[Problem] = field(default_factory=list)
    files: int = 0
    rows: int = 0
    bytes: int = 0
    shards: int = 0

    @property
    def ok(self) -> bool:
        return not self.problems

    def add(self, file: str, message: str) -> None:
        self.problems.append(Problem(file, message))

    def format(self, verbose: bool = False, checked: list[str] | None = None) -> str:
        lines = [f"arcdata verify {self.root}"]
        if verbose and checked:
            bad = {p.file for p in self.problems}
            lines += [f"  ok    {f}" for f in checked if f not in bad]
        lines += [f"  FAIL  {p.file}: {p.message}" for p in self.problems]
        lines += [f"  warn  {w.file}: {w.message}" for w in self.warnings]
        size = f"{self.bytes / 2**20:,.1f} MiB"
        if self.ok:
            lines.append(
                f"OK: {self.shards} shards, {self.rows:,} rows, {self.files} files, {size} checked"
            )
        else:
            files = len({p.file for p in self.problems})
            lines.append(
                f"FAIL: {len(self.problems)} problem(s) in {files} file(s) "
                f"({self.shards} shards, {size} checked)"
            )
        return "\n".join(lines)

    def as_dict(self) -> dict:
        return {
            "root": str(self.root),
            "ok": self.ok,
            "shards": self.shards,
            "rows": self.rows,
            "bytes": self.bytes,
            "problems": [{"file": p.file, "message": p.message} for p in self.problems],
            "warnings": [{"file": w.file, "message": w.message} for w in self.warnings],
        }


def file_sha256(path: Path) -> tuple[str, int]:
    """sha256 hex digest and size, read in 4 MiB chunks (hashlib releases the GIL on them)."""
    import hashlib

    h = hashlib.sha256()
    size = 0
    with open(path, "rb") as f:
        while chunk := f.read(CHUNK):
            h.update(chunk)
            size += len(chunk)
    return h.hexdigest(), size


def _schema_problems(manifest: object) -> list[str]:
    import jsonschema

    schema = json.loads(SCHEMA_PATH.read_text())
    errors = sorted(
        jsonschema.Draft202012Validator(schema).iter_errors(manifest),
        key=lambda e: [str(p) for p in e.absolute_path],
    )
    out = []
    for e in errors[:20]:
        key = ".".join(str(p) for p in e.absolute_path) or "(top level)"
        out.append(f"schema: {key}: {e.message}")
    if len(errors) > 20:
        out.append(f"schema: ... and {len(errors) - 20} more")
    return out


def _consistency(manifest: dict, report: Report) -> None:
    """Totals that must add up whatever the files hold."""
    splits = manifest["splits"]
    for name, s in splits.items():
        total = sum(e["rows"] for e in s["shards"])
        if total != s["rows"]:
            report.add(MANIFEST, f"split {name}: rows {s['rows']} but its shards hold {total}")
    examples = sum(s["rows"] for s in splits.values())
    t = manifest["totals"]
    if examples != t["examples"]:
        report.add(MANIFEST, f"totals.examples {t['examples']} but the splits hold {examples}")
    if t["tasks_read"] != t["tasks"] + t["tasks_rejected"]:
        report.add(
            MANIFEST,
            f"tasks_read {t['tasks_read']} != tasks {t['tasks']} + "
            f"tasks_rejected {t['tasks_rejected']}",
        )
    built = sum(s["built"] for s in manifest["sources"])
    if built != t["tasks"]:
        report.add(MANIFEST, f"sources built {built} tasks but totals.tasks is {t['tasks']}")


@dataclass
class _Job:
    rel: str
    path: Path
    kind: str  # "shard" or "identifiers"
    split: str | None
    rows: int
    size: int | None
    sha256: str


def _check_shard_content(job: _Job, id_count: int, granularity: str) -> list[str]:
    """Arrow schema, row count, split column and embedding-id range of one intact shard."""
    import pyarrow.parquet as pq

    from arcdata.schema import ROW_SCHEMA

    out = []
    pf = pq.ParquetFile(job.path)
    schema = pf.schema_arrow
    if not schema.equals(ROW_SCHEMA, check_metadata=False):
        want = {f.name: str(f.type) for f in ROW_SCHEMA}
        got = {f.name: str(f.type) for f in schema}
        diff = sorted(set(want.items()) ^ set(got.items()))
        return [f"Arrow schema differs from arcdata.schema.ROW_SCHEMA: {diff[:6]}"]
    if pf.metadata.num_rows != job.rows:
        out.append(f"{pf.metadata.num_rows} rows, manifest says {job.rows}")
    bad_split, lo, hi = 0, None, None
    for batch in pf.iter_batches(batch_size=65536, columns=["split", "embedding_id"]):
        split = batch.column(0).to_numpy(zero_copy_only=False)
        bad_split += int((split != job.split).sum())
        ids = batch.column(1).to_numpy()
        if len(ids):
            lo = int(ids.min()) if lo is None else min(lo, int(ids.min()))
            hi = int(ids.max()) if hi is None else max(hi, int(ids.max()))
    if bad_split:
        out.append(f"{bad_split} rows have a split other than {job.split!r} (its folder)")
    if lo is not None:
        if granularity == "none":
            if (lo, hi) != (0, 0):
                out.append(f"embedding ids {lo}..{hi}, but granularity none means all 0")
        elif lo <= 0 or hi >= id_count:
            out.append(
                f"embedding ids {lo}..{hi} outside 1..{id_count - 1} "
                f"(embedding_ids.count {id_count})"
            )
    return out


def _check_identifiers_content(job: _Job) -> list[str]:
    """The id table's schema, and ids exactly 0, 1, ... count-1 in order (0 the blank)."""
    import numpy as np
    import pyarrow.parquet as pq

    from arcdata.schema import IDENTIFIER_SCHEMA

    pf = pq.ParquetFile(job.path)
    if not pf.schema_arrow.equals(IDENTIFIER_SCHEMA, check_metadata=False):
        return ["Arrow schema differs from arcdata.schema.IDENTIFIER_SCHEMA"]
    if pf.metadata.num_rows != job.rows:
        return [f"{pf.metadata.num_rows} ids, manifest embedding_ids.count says {job.rows}"]
    expect = 0
    for batch in pf.iter_batches(batch_size=1 << 18, columns=["embedding_id"]):
        ids = batch.column(0).to_numpy()
        if not np.array_equal(ids, np.arange(expect, expect + len(ids), dtype=ids.dtype)):
            return [f"embedding ids are not 0..{job.rows - 1} in order (first gap after {expect})"]
        expect += len(ids)
    return []


def _check_file(job: _Job, id_count: int, granularity: str) -> tuple[list[str], int]:
    """All checks of one file; returns (problems, bytes read)."""
    if not job.path.is_file():
        return ["missing"], 0
    actual = job.path.stat().st_size
    problems = []
    if job.size is not None and actual != job.size:
        problems.append(f"{actual} bytes, manifest says {job.size} (truncated or replaced?)")
    digest, read = file_sha256(job.path)
    if digest != job.sha256:
        problems.append(f"sha256 mismatch: manifest {job.sha256[:16]}..., file {digest[:16]}...")
    if problems:
        return problems, read
    try:
        if job.kind == "shard":
            problems += _check_shard_content(job, id_count, granularity)
        else:
            problems += _check_identifiers_content(job)
    except Exception as e:  # an intact-by-checksum file pyarrow cannot read: say so, go on
        problems.append(f"unreadable Parquet: {type(e).__name__}: {e}")
    return problems, read


def _jobs(root: Path, manifest: dict, report: Report) -> list[_Job]:
    jobs, seen = [], set()
    ids = manifest["embedding_ids"]
    try:
        path = safe_member(root, ids["file"], "embedding_ids.file")
        jobs.append(_Job(ids["file"], path, "identifiers", None, ids["count"], None, ids["sha256"]))
    except DatasetError as e:
        report.add(MANIFEST, str(e))
    for split, s in sorted(manifest["splits"].items()):
        for entry in s["shards"]:
            rel = entry["path"]
            try:
                path = safe_member(root, rel, f"split {split} shard path")
            except DatasetError as e:
                report.add(MANIFEST, str(e))
                continue
            if PurePosixPath(rel).parts[0] != split:
                report.add(
                    rel,
                    f"listed under split {split!r} but stored in folder "
                    f"{PurePosixPath(rel).parts[0]!r}",
                )
            if rel in seen:
                report.add(rel, "listed twice in the manifest")
                continue
            seen.add(rel)
            jobs.append(
                _Job(rel, path, "shard", split, entry["rows"], entry["bytes"], entry["sha256"])
            )
    return jobs


def _strays(root: Path, manifest: dict, jobs: list[_Job]) -> list[Problem]:
    """Parquet files in split folders that the manifest does not list (left by a bad copy)."""
    listed = {j.rel for j in jobs}
    out = []
    for split in manifest["splits"]:
        folder = root / split
        if folder.is_dir() and not folder.is_symlink():
            for p in sorted(folder.glob("*.parquet")):
                rel = f"{split}/{p.name}"
                if rel not in listed:
                    out.append(Problem(rel, "not listed in the manifest (ignored by readers)"))
    return out


def verify_dataset(
    root: str | Path,
    *,
    progress: bool = False,
    jobs: int | None = None,
    checked: list[str] | None = None,
) -> Report:
    """Check everything the manifest of the dataset at ``root`` claims; never raises on damage.

    ``checked``, when given, receives the relative paths of the files examined, in order.
    """
    root = Path(root)
    report = Report(root)
    try:
        manifest = json.loads((root / MANIFEST).read_bytes())
    except FileNotFoundError:
        report.add(MANIFEST, "missing (not an arcdata dataset, or an unfinished build)")
        return report
    except (OSError, ValueError) as e:
        report.add(MANIFEST, f"unreadable: {e}")
        return report
    for msg in _schema_problems(manifest):
        report.add(MANIFEST, msg)
    if not report.ok:
        return report
    if checked is not None:
        checked.append(MANIFEST)
    _consistency(manifest, report)
    work = _jobs(root, manifest, report)
    report.shards = sum(1 for j in work if j.kind == "shard")
    report.warnings += _strays(root, manifest, work)
    id_count = manifest["embedding_ids"]["count"]
    granularity = manifest["embedding_ids"]["granularity"]

    from tqdm import tqdm

    total = sum(j.size or 0 for j in work)
    bar = tqdm(
        total=total,
        unit="B",
        unit_scale=True,
        unit_divisor=1024,
        desc="verifying",
        file=sys.stderr,
        disable=None if progress else True,
        delay=1.0,
        leave=False,
    )
    results: dict[int, list[str]] = {}
    n = jobs or min(4, os.cpu_count() or 1)
    with ThreadPoolExecutor(max_workers=n) as pool:
        futs = {pool.submit(_check_file, j, id_count, granularity): i for i, j in enumerate(work)}
        for fut in as_completed(futs):
            i = futs[fut]
            problems, read = fut.result()
            results[i] = problems
            report.bytes += read
            bar.update(work[i].size or read)
    bar.close()
    for i, job in enumerate(work):
        for msg in results[i]:
            report.add(job.rel, msg)
        if job.kind == "shard":
            report.rows += job.rows if not results[i] else 0
        if checked is not None:
            checked.append(job.rel)
    report.files = len(work) + 1
    return report


@click.command("verify")
@click.argument("dataset", type=click.Path(exists=True, file_okay=False, path_type=Path))
@click.option(
    "--jobs", "-j", type=int, default=None, help="Files checked in parallel (default: up to 4)."
)
@click.option("--quiet", is_flag=True, help="No progress bar.")
@click.option("--verbose", "-v", is_flag=True, help="List every file checked, not only failures.")
@click.option("--json", "as_json", is_flag=True, help="Print the report as JSON.")
def verify_cmd(dataset: Path, jobs: int | None, quiet: bool, verbose: bool, as_json: bool):
    """Check a built DATASET against its manifest: every file's sha256 and size, row counts,
    Arrow schema, embedding-id ranges, split membership and the manifest's own schema.

    Prints OK or each problem with the file it is in; exits 1 when anything is wrong.
    """
    checked: list[str] = []
    report = verify_dataset(dataset, progress=not quiet and not as_json, jobs=jobs, checked=checked)
    if as_json:
        click.echo(json.dumps(report.as_dict(), indent=1))
    else:
        click.echo(report.format(verbose=verbose, checked=checked))
    sys.exit(0 if report.ok else 1)

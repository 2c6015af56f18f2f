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
from typing import TYPE_CHECKING

import click

from arcdata import jsonio
from arcdata.errors import DatasetError
from arcdata.rederive import Rules, check_counts, check_identifiers, check_rows
from arcdata.sources.codec import codec_mismatches
from arcdata.storage.card import CARD, card_text
from arcdata.storage.hashing import file_digest
from arcdata.storage.manifest import schema_problems
from arcdata.storage.paths import safe_member

if TYPE_CHECKING:
    import pyarrow as pa

MANIFEST = "manifest.json"


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


def _check_shard_content(job: _Job, rules: Rules) -> tuple[list[str], pa.Table | None]:
    """Arrow schema, row count and every row's content of one intact shard, and its keys."""
    import pyarrow.parquet as pq

    from arcdata.schema import ROW_SCHEMA

    pf = pq.ParquetFile(job.path)
    schema = pf.schema_arrow
    if not schema.equals(ROW_SCHEMA, check_metadata=False):
        want = {f.name: str(f.type) for f in ROW_SCHEMA}
        got = {f.name: str(f.type) for f in schema}
        diff = sorted(set(want.items()) ^ set(got.items()))
        return [f"Arrow schema differs from arcdata.schema.ROW_SCHEMA: {diff[:6]}"], None
    out = []
    if pf.metadata.num_rows != job.rows:
        out.append(f"{pf.metadata.num_rows} rows, manifest says {job.rows}")
    problems, keys = check_rows(pf, job.split, rules)
    return out + problems, keys


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


def _check_file(job: _Job, rules: Rules) -> tuple[list[str], int, pa.Table | None]:
    """All checks of one file; returns (problems, bytes read, a shard's row keys)."""
    if not job.path.is_file():
        return ["missing"], 0, None
    actual = job.path.stat().st_size
    problems = []
    if job.size is not None and actual != job.size:
        problems.append(f"{actual} bytes, manifest says {job.size} (truncated or replaced?)")
    digest, read = file_digest(job.path)
    if digest != job.sha256:
        problems.append(f"sha256 mismatch: manifest {job.sha256[:16]}..., file {digest[:16]}...")
    if problems:
        return problems, read, None
    keys = None
    try:
        if job.kind == "shard":
            found, keys = _check_shard_content(job, rules)
            problems += found
        else:
            problems += _check_identifiers_content(job)
    except Exception as e:  # an intact-by-checksum file pyarrow cannot read: say so, go on
        problems.append(f"unreadable Parquet: {type(e).__name__}: {e}")
    return problems, read, keys


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


KNOWN_FILES = frozenset({MANIFEST, CARD, "build.json"})
"""Top-level files arcdata writes besides the identifiers and the split folders."""


def _unknown(root: Path, manifest: dict, jobs: list[_Job]) -> list[Problem]:
    """Files and folders the manifest does not account for (left by a bad copy or a person).

    Readers ignore them, so they are harmless to training but a sign that the folder is not
    what was built; each unknown folder is named once, not every file inside it.
    """
    listed = {j.rel for j in jobs}
    splits = set(manifest["splits"])
    out = []
    for top in sorted(root.iterdir(), key=lambda p: p.name):
        if top.name in KNOWN_FILES or top.name in listed:
            continue
        if top.name in splits and top.is_dir() and not top.is_symlink():
            for p in sorted(top.iterdir(), key=lambda p: p.name):
                rel = f"{top.name}/{p.name}"
                if rel not in listed:
                    what = "folder" if p.is_dir() else "file"
                    out.append(Problem(rel, f"unknown {what}, not listed in the manifest"))
            continue
        what = "folder" if top.is_dir() else "file"
        out.append(Problem(top.name, f"unknown {what}, not part of an arcdata dataset"))
    return out


def _card_problem(root: Path, manifest: dict) -> Problem | None:
    """The dataset card must say what the manifest says (its splits are what Hugging Face
    ``load_dataset`` reads); datasets built before cards existed simply have none."""
    path = root / CARD
    if not path.exists():
        return None
    try:
        if path.read_text() == card_text(manifest):
            return None
    except (OSError, UnicodeDecodeError):
        pass
    return Problem(
        CARD, "dataset card does not match the manifest (edited or copied from elsewhere)"
    )


def _rules(manifest: dict, report: Report) -> Rules | None:
    """The pipeline's row rules, after checking its codec against its sources."""
    for msg in codec_mismatches(manifest["codec"], manifest["config"].get("sources", {})):
        report.add(MANIFEST, msg)
    try:
        return Rules.of(manifest)
    except KeyError:
        report.add(MANIFEST, f"unknown codec {manifest['codec']!r}; rows cannot be checked")
        return None


def verify_dataset(
    root: str | Path,
    *,
    progress: bool = False,
    jobs: int | None = None,
    checked: list[str] | None = None,
    strict: bool = False,
) -> Report:
    """Check everything the manifest of the dataset at ``root`` claims; never raises on damage.

    ``checked``, when given, receives the relative paths of the files examined, in order.
    ``strict`` makes unknown files and folders problems instead of warnings.
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
    for msg in schema_problems(manifest):
        report.add(MANIFEST, msg)
    if not report.ok:
        return report
    if checked is not None:
        checked.append(MANIFEST)
    _consistency(manifest, report)
    work = _jobs(root, manifest, report)
    report.shards = sum(1 for j in work if j.kind == "shard")
    unknown = _unknown(root, manifest, work)
    (report.problems if strict else report.warnings).extend(unknown)
    card = _card_problem(root, manifest)
    if card is not None:
        (report.problems if strict else report.warnings).append(card)
    rules = _rules(manifest, report)
    if rules is None:
        return report

    from arcdata.progress import progress as reporter

    total = sum(j.size or 0 for j in work)
    bar = reporter(
        total, "verifying", "B", enabled=progress, unit_scale=True, unit_divisor=1024, delay=1.0
    )
    results: dict[int, list[str]] = {}
    keys: dict[int, pa.Table | None] = {}
    n = jobs or min(4, os.cpu_count() or 1)
    with ThreadPoolExecutor(max_workers=n) as pool:
        futs = {pool.submit(_check_file, j, rules): i for i, j in enumerate(work)}
        for fut in as_completed(futs):
            i = futs[fut]
            problems, read, keys[i] = fut.result()
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
    if report.ok:  # counts over damaged or missing shards would only repeat their problems
        _check_derived(manifest, work, keys, report)
    return report


def _check_derived(manifest: dict, work: list[_Job], keys: dict, report: Report) -> None:
    """Counts and id names recomputed from every shard's row keys."""
    by_split: dict[str, list] = {s: [] for s in manifest["splits"]}
    for i, job in enumerate(work):
        if job.kind == "shard":
            by_split[job.split].append(keys[i])
    for msg in check_counts(manifest, by_split):
        report.add(MANIFEST, msg)
    ident = next(j for j in work if j.kind == "identifiers")
    granularity = manifest["embedding_ids"]["granularity"]
    reserved = manifest["embedding_ids"].get("reserved", 0)
    every = [t for tables in by_split.values() for t in tables]
    for msg in check_identifiers(ident.path, granularity, every, reserved):
        report.add(ident.rel, msg)


@click.command("verify")
@click.argument("dataset", type=click.Path(exists=True, file_okay=False, path_type=Path))
@click.option(
    "--jobs", "-j", type=int, default=None, help="Files checked in parallel (default: up to 4)."
)
@click.option("--quiet", is_flag=True, help="No progress bar.")
@click.option("--verbose", "-v", is_flag=True, help="List every file checked, not only failures.")
@click.option("--json", "as_json", is_flag=True, help="Print the report as JSON.")
@click.option("--strict", is_flag=True, help="Unknown files and folders are errors, not warnings.")
def verify_cmd(
    dataset: Path, jobs: int | None, quiet: bool, verbose: bool, as_json: bool, strict: bool
):
    """Check a built DATASET against its manifest: every file's sha256 and size, the manifest's
    own schema, and everything it records re-derived from the rows: per-split rows, groups and
    puzzles, tasks and versions per task, embedding ids and their names. Every row's cells,
    shapes, colour map and dihedral id are checked against the codec and the pipeline, and the
    codec against the sources. Unknown files are reported (errors with --strict).

    Prints OK or each problem with the file it is in; exits 1 when anything is wrong.
    """
    checked: list[str] = []
    report = verify_dataset(
        dataset, progress=not quiet and not as_json, jobs=jobs, checked=checked, strict=strict
    )
    if as_json:
        click.echo(jsonio.dumps(report.as_dict(), indent=1))
    else:
        click.echo(report.format(verbose=verbose, checked=checked))
    sys.exit(0 if report.ok else 1)

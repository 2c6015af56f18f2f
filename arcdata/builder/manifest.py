"""What a build's manifest says: what the dataset is, how it was made and how to check it.

It is deterministic (no clock, no host name: those go to build.json), so two builds of the same
config give byte-identical manifests whatever the worker count. Reading, writing and the
schema live in :mod:`arcdata.storage.manifest`.
"""

from __future__ import annotations

from arcdata.config import mapped_versions
from arcdata.ids import id_count
from arcdata.storage.manifest import FORMAT


def build_manifest(
    *, config, digest, code_version, codec, read, shards, counts, num_ids, identifiers_sha256, units
) -> dict:
    mapped = mapped_versions(config)
    if mapped:  # the map, not the augment settings, says how many versions each task has
        requested = max(counts, default=1)
        short = {t.id: c for t, c in zip(read.tasks, counts, strict=True) if c < requested}
    else:
        requested = config["augment"]["versions"] + 1
        short = {
            t.id: c
            for t, c in zip(read.tasks, counts, strict=True)
            if c < requested and not (t.evaluation and not config["augment"]["evaluation"])
        }
    examples = sum(sum(e["rows"] for e in entries) for entries in shards.values())
    reserved = num_ids - id_count(config["ids"], len(read.tasks), int(sum(counts)), examples)
    splits = {}
    for split, entries in sorted(shards.items()):
        splits[split] = {
            "rows": sum(e["rows"] for e in entries),
            "groups": sum(e["tasks"] for e in entries),
            "puzzles": sum(e["versions"] for e in entries),
            "shards": [{k: e[k] for k in ("path", "rows", "bytes", "sha256")} for e in entries],
        }
    return {
        "format": FORMAT,
        "name": config["name"],
        "codec": codec.name,
        "seq_len": codec.seq_len,
        "vocab_size": codec.vocab_size,
        "code_version": code_version,
        "config_hash": digest,
        "config": config,
        "sources": [
            {
                "name": s.name,
                "type": s.type,
                "skipped": s.skipped,
                "filtered": s.filtered,
                "read": s.read,
                "built": s.built,
                "rejected": s.rejected,
                "files": s.files,
            }
            for s in read.sources
        ],
        "totals": {
            "tasks": len(read.tasks),
            "versions": int(sum(counts)),
            "examples": sum(s["rows"] for s in splits.values()),
            "tasks_read": sum(s.read for s in read.sources),
            "tasks_rejected": sum(s.rejected for s in read.sources),
        },
        "splits": splits,
        "embedding_ids": {
            "granularity": config["ids"],
            "count": num_ids,
            "file": "identifiers.parquet",
            "sha256": identifiers_sha256,
            **({"reserved": reserved} if config.get("identifiers") else {}),
        },
        "short_tasks": {"requested_versions": requested, "count": len(short), "tasks": short},
        "rejects": [e.as_record() for e in read.rejects],
        "units": units,
        **({"leakage": read.leakage} if read.leakage is not None else {}),
    }

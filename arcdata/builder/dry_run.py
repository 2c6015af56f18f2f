"""``arcdata build --dry-run``: the resolved config and the work a build would do, nothing written.

Sources are read and validated exactly as a build reads them (so bad input fails here too), and
the tasks are packed into units as the build packs them; no cluster starts and no file or
folder is created.
"""

from __future__ import annotations

from pathlib import Path

import yaml

from arcdata.builder.collect import read_tasks
from arcdata.builder.idmap import attach as attach_map
from arcdata.builder.units import pack_units
from arcdata.ids import id_count


def describe_build(config: dict, out: Path, overwrite: bool = False) -> str:
    """A report of what ``build(config, out)`` would do: tasks per source, units, a row estimate."""
    from arcdata.storage.publish import check_destination

    check_destination(Path(out).resolve(), overwrite)
    config, idmap = attach_map(config)
    read = read_tasks(config, keep=idmap.keep() if idmap else None)
    if idmap is not None:
        idmap.check(read)
    versions = config["augment"]["versions"]
    units = pack_units(read.tasks, versions, config["shards"]["rows"])
    frozen = not config["augment"]["evaluation"]
    evaluation = sum(t.evaluation for t in read.tasks)
    if idmap is not None and config["ids"] != "task":
        # The map names every version: the counts and rows are exact, not bounds.
        counts = [len(plan) for plan in idmap.plan(read.tasks)[0]]
        rows = sum(len(t.pairs()) * c for t, c in zip(read.tasks, counts, strict=True))
        reserved = len(idmap.names) - id_count(config["ids"], len(read.tasks), sum(counts), rows)
        versions_line = (
            f"versions: {sum(counts):,} in all, as the identifier map names them "
            f"({config['identifiers']['path']}; {reserved:,} of its ids reserved with no rows)"
        )
        rows_line = f"rows: {rows:,} (the map fixes every version)"
        frozen = False
    else:
        rows = sum(
            len(t.pairs()) * (1 if t.evaluation and frozen else versions + 1) for t in read.tasks
        )
        versions_line = f"versions: {versions:,} augmented per task, plus the original"
        rows_line = f"rows: at most {rows:,} (tasks with fewer distinct versions give fewer)"
    lines = [
        "# resolved pipeline config",
        yaml.safe_dump(config, sort_keys=False).rstrip(),
        "",
        f"dry run: would build {out}",
    ]
    for s in read.sources:
        lines.append(f"  source {s.name:<18} {s.type:<16} {s.built:,} tasks")
    lines += [
        f"tasks: {len(read.tasks):,} ({len(read.tasks) - evaluation:,} training, "
        f"{evaluation:,} evaluation{', not augmented' if frozen and evaluation else ''})",
        versions_line,
        f"units: {len(units):,} of about {config['shards']['rows']:,} rows",
        rows_line,
        f"rejected inputs: {len(read.rejects):,}" if read.rejects else "rejected inputs: none",
        "nothing was written",
    ]
    return "\n".join(lines)

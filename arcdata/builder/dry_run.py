"""``arcdata build --dry-run``: the resolved config and the work a build would do, nothing written.

Sources are read and validated exactly as a build reads them (so bad input fails here too), and
the tasks are packed into units as the build packs them; no cluster starts and no file or
folder is created.
"""

from __future__ import annotations

from pathlib import Path

import yaml

from arcdata.builder.collect import read_tasks
from arcdata.builder.units import pack_units


def describe_build(config: dict, out: Path, overwrite: bool = False) -> str:
    """A report of what ``build(config, out)`` would do: tasks per source, units, a row estimate."""
    from arcdata.storage.publish import check_destination

    check_destination(Path(out).resolve(), overwrite)
    read = read_tasks(config)
    versions = config["augment"]["versions"]
    units = pack_units(read.tasks, versions, config["shards"]["rows"])
    frozen = not config["augment"]["evaluation"]
    rows = sum(
        len(t.pairs()) * (1 if t.evaluation and frozen else versions + 1) for t in read.tasks
    )
    evaluation = sum(t.evaluation for t in read.tasks)
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
        f"versions: {versions:,} augmented per task, plus the original",
        f"units: {len(units):,} of about {config['shards']['rows']:,} rows",
        f"rows: at most {rows:,} (tasks with fewer distinct versions give fewer)",
        f"rejected inputs: {len(read.rejects):,}" if read.rejects else "rejected inputs: none",
        "nothing was written",
    ]
    return "\n".join(lines)

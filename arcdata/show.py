"""``arcdata show``: one task's pairs as coloured terminal blocks and optionally a PNG."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from arcdata.augment.transform import Transform
from arcdata.errors import ArcdataError
from arcdata.render import ansi_grid, side_by_side


def _from_dataset(root: Path, task_id: str, version: int):
    from arcdata.dataset import task_examples
    from arcdata.storage.manifest import read_manifest

    manifest = read_manifest(root)
    examples = task_examples(root, task_id, version)
    if not examples:
        raise ArcdataError(f"{root}: no rows for task {task_id!r} version {version}")
    transform = Transform.from_row(vars(examples[0])).describe()
    source = (
        f"dataset {manifest['name']} ({manifest['codec']}), embedding id {examples[0].embedding_id}"
    )
    pairs = [
        (f"{e.split}/{e.role}[{e.pair_index}] offset {e.offset}", e.input, e.output)
        for e in examples
    ]
    return manifest["codec"], transform, source, pairs


def _from_pipeline(path: Path, task_id: str, version: int, overrides: list[str]):
    from arcdata.builder.collect import read_tasks
    from arcdata.builder.idmap import attach as attach_map
    from arcdata.builder.rows import Ids, task_rows
    from arcdata.builder.units import plan_task
    from arcdata.config import load_pipeline

    config, idmap = attach_map(load_pipeline(path, overrides))
    tasks = {t.id: t for t in read_tasks(config).tasks}
    if task_id not in tasks:
        raise ArcdataError(f"{path}: no task {task_id!r} in the pipeline's sources")
    task = tasks[task_id]
    mapped = ""
    if idmap is not None and config["ids"] != "task":
        # Under a map a version is the one the map names, not a planner's draw.
        if task_id not in idmap.by_task:
            raise ArcdataError(
                f"{config['identifiers']['path']}: the identifier map names no version of task "
                f"{task_id!r} (a build would leave it out only with identifiers.unmapped: skip)"
            )
        plans, ids = idmap.plan([task])
        versions = plans[0]
        if 0 <= version < len(versions):
            mapped = f", embedding id {int(ids[0][version, 0])} from the identifier map"
    else:
        versions = plan_task(task, config)
    if not 0 <= version < len(versions):
        raise ArcdataError(f"task {task_id} has versions 0..{len(versions) - 1}")
    rows = task_rows(
        task,
        versions,
        split_rule=config["split"],
        translate=False,
        seed=config["seed"],
        ids=Ids("none", 0),
    )
    pairs = []
    for split, cols in rows.items():
        sel = np.flatnonzero(cols["version"] == version)
        for kind in ("input", "output"):
            starts = np.cumsum(cols[kind + "_sizes"]) - cols[kind + "_sizes"]
            cols[kind + "_grids"] = [
                cols[kind][starts[i] : starts[i] + cols[kind + "_sizes"][i]].reshape(
                    cols[kind + "_h"][i], cols[kind + "_w"][i]
                )
                for i in sel
            ]
        for j, i in enumerate(sel):
            role, idx, _ = task.pairs()[cols["pair_number"][i]]
            pairs.append(
                (f"{split}/{role}[{idx}]", cols["input_grids"][j], cols["output_grids"][j])
            )
    source = f"pipeline {path.name} ({config['codec']}), not built{mapped}"
    return config["codec"], versions.describe(version), source, pairs


def _caption(label: str) -> str:
    """``train/test[0] offset (0, 0)`` as words: split, role and pair (and the canvas offset)."""
    split, rest = label.split("/", 1)
    role, rest = rest.split("[", 1)
    index, offset = rest.split("]", 1)
    kind = {"train": "demonstration", "test": "test"}.get(role, role)
    text = f"split {split} \u00b7 {kind} pair {index} (role {role})"
    return text + (f" \u00b7 offset {offset.strip().removeprefix('offset ')}" if offset else "")


def _visible(line: str) -> str:
    import re

    return re.sub(r"\x1b\[[0-9;]*m", "", line)


def show_task(
    target: Path,
    task_id: str,
    version: int,
    *,
    png: Path | None = None,
    overrides: list[str] | None = None,
    colour: bool = True,
) -> str:
    if target.is_dir():
        codec, transform, source, pairs = _from_dataset(target, task_id, version)
    else:
        codec, transform, source, pairs = _from_pipeline(target, task_id, version, overrides or [])
    out = [f"{task_id} version {version}: {transform}"]
    for label, inp, outp in pairs:
        out.append(label)
        blocks = [ansi_grid(inp, codec, colour), ansi_grid(outp, codec, colour)]
        widths = [len(_visible(b[0])) for b in blocks]
        out.append(side_by_side(blocks, widths))
    if png is not None:
        from arcdata.picture import PairPicture, write_task_png

        title = f"task {task_id} \u00b7 version {version}" + (" (original)" if version == 0 else "")
        subtitle = f"{source}; transform: {transform}"
        rows = [PairPicture(_caption(label), i, o) for label, i, o in pairs]
        write_task_png(png, title, subtitle, rows, codec)
        out.append(f"wrote {png}")
    return "\n".join(out)

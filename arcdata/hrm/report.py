"""What ``arcdata evaluate`` reports: a trained HRM scored on a split the way papers do, with pictures.

Every example runs under a halting rule (:mod:`arcdata.hrm.infer`; ``max``: every segment).
Each prediction is cropped and mapped back through its version's inverse transform into the raw
task's frame, and ``predictions.parquet`` keeps it with q_halt/q_continue after every segment.
Every number below is computed from that table (:func:`summarise`), so a report can be rebuilt
from it without the model. Per family:

* ARC: the versions of each test input vote (:mod:`arcdata.vote`): pass@k, the ARC Prize score
  of ``submission.json`` (two attempts per test input), pass@2 against the number of voters.
* Sudoku: exact accuracy and the share of valid completed grids that keep the givens.
* Maze: exact accuracy and the fair score, "a valid shortest path".

Always: token / exact accuracy, the halting rules side by side (a ``max`` run also tells what
the model's own rule would have answered, from its per-segment record), calibration of
sigmoid(q_halt) against exactness (:mod:`arcdata.calibration`), the reasoning steps and latent
states of a few traced examples (:mod:`arcdata.hrm.trace`), and ``report.html`` with all of it
(:mod:`arcdata.hrm.report_html`).
"""

from __future__ import annotations

import contextlib
import json
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import polars as pl
import torch

from arcdata import jsonio
from arcdata.augment.transform import Transform
from arcdata.calibration import pearson
from arcdata.dataset import shard_paths
from arcdata.errors import ArcdataError, InputError
from arcdata.storage.manifest import read_manifest
from arcdata.tokens import crop, get_codec, token_values
from arcdata.vote import sigmoid

from .act import HRM
from .infer import Predictions, predict  # noqa: F401 (predict: the entry point)

if TYPE_CHECKING:
    from .source import Source


def split_rows(dataset: Path, split: str) -> pl.DataFrame:
    """The split's rows in stream order (manifest shard order), with an ``example_index``."""
    manifest = read_manifest(dataset)
    frame = pl.concat([pl.read_parquet(p) for p in shard_paths(dataset, manifest, split)])
    return frame.with_row_index("example_index")


def row_grid(row: dict, kind: str) -> np.ndarray:
    return np.frombuffer(row[kind], np.uint8).reshape(row[f"{kind}_h"], row[f"{kind}_w"])


GRID_COLUMNS = ("input", "prediction", "target")


def raw_frame_grid(row: dict, grid: np.ndarray | None) -> np.ndarray | None:
    """``grid`` (in ``row``'s version frame) mapped back into the raw task's frame."""
    if grid is None or grid.size == 0:
        return None
    if row.get("colour_map") is None:
        return grid
    return Transform.from_row(row).invert(grid)[0]


def prediction_grid(codec, row: dict, tokens: np.ndarray) -> np.ndarray | None:
    """The grid a predicted token row draws, in the version's frame (None: none drawn)."""
    if codec.eos_border:
        return crop(codec, tokens, (row["offset_r"], row["offset_c"]))
    return token_values(codec, tokens)[: row["output_h"], : row["output_w"]]


def prediction_frame(codec_name: str, rows: pl.DataFrame, preds: Predictions) -> pl.DataFrame:
    """One row per scored example: where it comes from, its raw-frame grids, its record."""
    codec = get_codec(codec_name)
    meta = rows[preds.example_index.tolist()]
    grids: dict[str, list] = {k: [] for k in GRID_COLUMNS}
    for r, tokens in zip(meta.iter_rows(named=True), preds.tokens, strict=True):
        grids["input"].append(raw_frame_grid(r, row_grid(r, "input")))
        grids["prediction"].append(raw_frame_grid(r, prediction_grid(codec, r, tokens)))
        grids["target"].append(raw_frame_grid(r, row_grid(r, "output")))
    columns = [pl.Series(c, meta[c]) for c in ("example_index", "task_id", "version", "role")]
    columns.append(pl.Series("pair_index", meta["pair_index"]))
    for name, values in grids.items():
        columns += [
            pl.Series(name, [None if g is None else g.tobytes() for g in values], pl.Binary),
            pl.Series(f"{name}_h", [0 if g is None else g.shape[0] for g in values], pl.UInt8),
            pl.Series(f"{name}_w", [0 if g is None else g.shape[1] for g in values], pl.UInt8),
        ]
    columns += [
        pl.Series("q_halt", preds.q_halt_steps.tolist(), pl.List(pl.Float32)),
        pl.Series("q_continue", preds.q_continue_steps.tolist(), pl.List(pl.Float32)),
        pl.Series("exact_per_segment", preds.exact_steps.tolist(), pl.List(pl.Boolean)),
        pl.Series("segments", preds.segments, pl.Int16),
        pl.Series("exact", preds.exact, pl.Boolean),
        pl.Series("token_accuracy", preds.token_accuracy, pl.Float32),
        pl.Series("confidence", sigmoid(preds.q_halt), pl.Float64),
    ]
    return pl.DataFrame(columns)


def frame_grid(row: dict, name: str) -> np.ndarray | None:
    """A grid column of :func:`prediction_frame` back as an array (None where null)."""
    if row[name] is None:
        return None
    return np.frombuffer(row[name], np.uint8).reshape(row[f"{name}_h"], row[f"{name}_w"])


def family_scores(codec: str, frame: pl.DataFrame) -> dict:
    """The headline score of each puzzle family, from the predictions table."""
    items = list(frame.iter_rows(named=True))
    if codec == "arc":
        return arc_scores(frame)[0]
    if codec.startswith("sudoku"):
        from arcdata.sudoku.board import agrees, is_valid_solution

        ok = [
            g is not None
            and g.shape == p.shape
            and bool(is_valid_solution(g))
            and bool(agrees(p, g))
            for g, p in ((frame_grid(r, "prediction"), frame_grid(r, "input")) for r in items)
        ]
        return {"valid_completed_grids": float(np.mean(ok)) if ok else 0.0}
    if codec == "maze":
        from arcdata.maze.paths import valid_shortest_paths

        if not items:
            return {"valid_shortest_path": 0.0}
        questions = np.stack([frame_grid(r, "input") for r in items])
        answers = np.stack([frame_grid(r, "prediction") for r in items]).clip(0, 4)
        ok = valid_shortest_paths(questions, answers.astype(np.uint8))
        return {"valid_shortest_path": float(ok.mean())}
    return {}


def arc_scores(frame: pl.DataFrame) -> tuple[dict, dict, tuple[np.ndarray, np.ndarray]]:
    """ARC metrics (pass@k, voters table, calibration after voting), ``submission.json``, and
    per task the voted confidence and whether it was solved."""
    from arcdata.calibration import calibrate
    from arcdata.vote import ballots_of, ks_for, pass_at_k, submission, voter_curve

    test = frame.filter(pl.col("role") == "test")
    items = list(test.iter_rows(named=True))
    tasks = [r["task_id"] for r in items]
    pairs = [r["pair_index"] for r in items]
    grids = [frame_grid(r, "prediction") for r in items]
    conf = [r["confidence"] for r in items]
    truth: dict[tuple[str, int], np.ndarray] = {}
    for r in items:
        truth.setdefault((r["task_id"], int(r["pair_index"])), frame_grid(r, "target"))
    ballots = ballots_of(tasks, pairs, grids, conf)
    versions = test.group_by("task_id", "pair_index").len()["len"]
    most = int(versions.max()) if len(versions) else 1
    scores = pass_at_k(ballots, truth, ks_for(most))
    scores["versions_per_test_input"] = most
    scores["pass@2_by_voters"] = voter_curve(
        test["version"].to_numpy(), tasks, pairs, grids, conf, truth
    )
    counts: dict[str, int] = {}
    for task, pair in truth:
        counts[task] = max(counts.get(task, 0), pair + 1)
    sub = submission(ballots, counts)
    scores["submission_score"] = score_submission(sub, truth)
    # Calibration after voting: the confidence of the chosen (top) grid against its rightness.
    per_input = {key: _top(ballots.get(key), answer) for key, answer in truth.items()}
    by_task: dict[str, list[tuple[float, bool]]] = {}
    for (task, _), pair_result in per_input.items():
        by_task.setdefault(task, []).append(pair_result)
    task_conf = np.array([np.mean([c for c, _ in v]) for v in by_task.values()])
    task_hit = np.array([all(h for _, h in v) for v in by_task.values()])
    scores["calibration_voted_test_inputs"] = calibrate(
        np.array([c for c, _ in per_input.values()]), np.array([h for _, h in per_input.values()])
    ).as_dict()
    scores["calibration_voted_tasks"] = calibrate(task_conf, task_hit).as_dict()
    return scores, sub, (task_conf, task_hit)


def _top(ballot, answer: np.ndarray) -> tuple[float, bool]:
    if ballot is None or not ballot.candidates:
        return 0.0, False
    best = ballot.ranked()[0]
    return best.confidence, bool(best.grid.shape == answer.shape and (best.grid == answer).all())


def score_submission(sub: dict, truth: dict[tuple[str, int], np.ndarray]) -> float:
    """The ARC Prize rule: a test input scores 1 when either attempt equals its answer; a task
    scores the mean over its test inputs; the score is the mean over tasks."""
    per_task = []
    for task, entries in sub.items():
        hits = []
        for pair, entry in enumerate(entries):
            answer = truth[(task, pair)].tolist()
            hits.append(entry["attempt_1"] == answer or entry["attempt_2"] == answer)
        per_task.append(np.mean(hits) if hits else 0.0)
    return float(np.mean(per_task)) if per_task else 0.0


def halting_table(frame: pl.DataFrame, halt: str, q_halt_alone: bool) -> dict:
    """The halting rules side by side: segments (mean, histogram), compute saved, accuracy."""
    n = len(frame)
    if n == 0:
        return {"run": halt}
    q_h = np.array(frame["q_halt"].to_list(), np.float64)
    q_c = np.array(frame["q_continue"].to_list(), np.float64)
    exact_steps = np.array(frame["exact_per_segment"].to_list(), bool)
    max_steps = q_h.shape[1]
    segments = frame["segments"].to_numpy().astype(np.int64)

    def column(seg: np.ndarray, exact: np.ndarray, **extra) -> dict:
        hist = np.bincount(seg, minlength=max_steps + 1)[1:]
        return {
            "exact_accuracy": float(exact.mean()),
            "segments_mean": float(seg.mean()),
            "segments_histogram": {str(k + 1): int(c) for k, c in enumerate(hist)},
            "compute_saved": float(1.0 - seg.sum() / (n * max_steps)),
            **extra,
        }

    table = {"run": halt, "max_segments": max_steps}
    exact = frame["exact"].to_numpy()
    if halt == "max":
        table["max"] = column(segments, exact)
        fires = (q_h > 0) if q_halt_alone else (q_h > q_c)
        fires[:, -1] = True
        first = fires.argmax(1)
        table["q"] = column(first + 1, exact_steps[np.arange(n), first], simulated=True)
    else:
        table["q"] = column(segments, exact, simulated=False)
    return table


def summarise(codec: str, frame: pl.DataFrame, halt: str, q_halt_alone: bool) -> dict:
    """Every number of the report, from the predictions table alone."""
    from arcdata.calibration import calibrate

    n = len(frame)
    exact = frame["exact"].to_numpy()
    conf = frame["confidence"].to_numpy()
    q_last = np.log(conf / np.clip(1 - conf, 1e-300, None)) if n else conf
    return {
        "examples": n,
        "exact_accuracy": float(exact.mean()) if n else 0.0,
        "token_accuracy": float(frame["token_accuracy"].mean()) if n else 0.0,
        "q_halt_accuracy": float(((q_last >= 0) == exact).mean()) if n else 0.0,
        **family_scores(codec, frame),
        "halting": halting_table(frame, halt, q_halt_alone),
        "calibration": calibrate(conf, exact).as_dict(),
        "pixel_accuracy_pearson_r": pearson(conf, frame["token_accuracy"].to_numpy()),
    }


def write_report(
    dataset: Path,
    split: str,
    preds: Predictions,
    out: Path,
    blank: Predictions | None = None,
    traces: list | None = None,
) -> dict:
    """Write predictions, metrics, submission, pictures and report.html to ``out``; return
    the metrics. ``blank``: the same examples with every puzzle id set to 0, reported beside;
    ``traces``: :class:`arcdata.hrm.trace.Trace` records of the traced examples."""
    from .trace import write_traces

    out.mkdir(parents=True, exist_ok=True)
    codec = read_manifest(dataset)["codec"]
    rows = split_rows(dataset, split)
    frame = prediction_frame(codec, rows, preds)
    frame.write_parquet(out / "predictions.parquet")
    blank_frame = None
    if blank is not None:
        blank_frame = prediction_frame(codec, rows, blank)
        blank_frame.write_parquet(out / "predictions_blank_ids.parquet")
    settings = {
        "split": split,
        "codec": codec,
        "halt": preds.halt,
        "ids": preds.ids,
        "q_halt_alone": preds.q_halt_alone,
    }
    write_traces(traces or [], codec, out)
    return write_outputs(settings, frame, out, blank_frame)


def rebuild(folder: Path) -> dict:
    """Rewrite metrics, submission and plots of a report folder from its predictions tables
    alone (no model, no dataset): what ``arcdata report`` runs."""
    try:
        old = json.loads((folder / "metrics.json").read_text())
        frame = pl.read_parquet(folder / "predictions.parquet")
    except (OSError, ValueError) as e:
        raise ValueError(f"{folder}: not a report of `arcdata evaluate` ({e})") from None
    settings = {k: old[k] for k in ("split", "codec", "halt", "ids", "q_halt_alone") if k in old}
    if "codec" not in settings:
        raise ValueError(f"{folder}/metrics.json names no codec; evaluate again to rebuild it")
    from .trace import load, write_traces

    write_traces(load(folder), settings["codec"], folder)
    blank = folder / "predictions_blank_ids.parquet"
    return write_outputs(
        settings, frame, folder, pl.read_parquet(blank) if blank.is_file() else None
    )


def write_outputs(
    settings: dict, frame: pl.DataFrame, out: Path, blank: pl.DataFrame | None = None
) -> dict:
    """metrics.json, submission.json (ARC), the plots and report.html, from the predictions
    tables (and the pictures already in ``out``)."""
    from .report_html import write_html

    codec, rule = settings["codec"], settings["halt"]
    metrics = {**settings, **summarise(codec, frame, rule, settings["q_halt_alone"])}
    if codec == "arc":
        sub = arc_scores(frame)[1]
        (out / "submission.json").write_text(jsonio.dumps(sub) + "\n")
    if blank is not None:
        metrics["ids_blank"] = summarise(codec, blank, rule, settings["q_halt_alone"])
    (out / "metrics.json").write_text(jsonio.dumps(metrics, indent=1) + "\n")
    with contextlib.suppress(ImportError):  # matplotlib is optional
        write_plots(metrics, frame, out)
    write_html(metrics, frame, out)
    return metrics


def write_plots(metrics: dict, frame: pl.DataFrame, out: Path) -> None:
    from arcdata.calibration import calibrate, plot, scatter

    conf, exact = frame["confidence"].to_numpy(), frame["exact"].to_numpy()
    plot(calibrate(conf, exact), out / "calibration.png", "Halting confidence, per example")
    scatter(
        conf,
        frame["token_accuracy"].to_numpy(),
        out / "pixel_accuracy.png",
        "Per-pixel accuracy against halting confidence",
    )
    plot_segments(metrics["halting"], out / "segments.png")
    if "pass@2_by_voters" in metrics:
        plot_voters(metrics["pass@2_by_voters"], out / "voters.png")
        task_conf, task_hit = arc_scores(frame)[2]
        plot(
            calibrate(task_conf, task_hit),
            out / "calibration_voted.png",
            "After voting, per task: top grids' mean confidence",
        )


def plot_segments(table: dict, path: Path) -> None:
    """Histogram of segments per example under each halting rule."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(5, 3.5))
    rules = [r for r in ("max", "q") if r in table]
    width = 0.8 / max(len(rules), 1)
    for i, rule in enumerate(rules):
        hist = table[rule]["segments_histogram"]
        xs = np.array([int(k) for k in hist]) + (i - (len(rules) - 1) / 2) * width
        label = f"--halt {rule}: mean {table[rule]['segments_mean']:.2f}, "
        label += f"exact {table[rule]['exact_accuracy']:.3f}"
        ax.bar(xs, list(hist.values()), width=width, label=label)
    ax.set_xlabel("segments run")
    ax.set_ylabel("examples")
    ax.set_title("Segments per example")
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)


def plot_voters(curve: list[dict], path: Path) -> None:
    """pass@2 against the number of versions that vote."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(5, 3.5))
    xs = [row["versions"] for row in curve]
    ax.plot(xs, [row["pass@2"] for row in curve], "o-", label="pass@2, all-or-nothing per task")
    ax.plot(
        xs,
        [row["pass@2_fractional"] for row in curve],
        "s--",
        label="pass@2, ARC Prize (per test input)",
    )
    ax.set_xscale("log", base=2)
    ax.set_ylim(-0.02, 1.02)
    ax.set_xlabel("versions that vote")
    ax.set_ylabel("score")
    ax.set_title("How many augmentations inference needs")
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)


IDENTIFIERS = "identifiers.parquet"


def trained_source(path: Path, dataset: Path, checkpoint: Path | None = None) -> Source:
    """The weights ``path`` names (an arcdata run directory, or a reference checkpoint file
    with its ``all_config.yaml``), checked against the dataset they are to score.

    ``checkpoint``: with a run directory, score this state dict (any key layout) under the
    run's config instead of its newest checkpoint. Weights stay on the CPU here, so a refusal
    comes before any process joins a group or touches a device."""
    manifest = read_manifest(dataset)
    source = _source(path, checkpoint, int(manifest["seq_len"]))
    check_fits_dataset(source, dataset, manifest)
    return source


def _source(path: Path, checkpoint: Path | None, seq_len: int | None) -> Source:
    from .checkpoint import read_state_dict, strip_prefixes
    from .source import resolve_source

    if checkpoint is None:
        return resolve_source(path, seq_len=seq_len)
    source = _run_with_state(path, checkpoint)
    source.state = strip_prefixes(read_state_dict(checkpoint))
    return source


def _run_with_state(run_dir: Path, checkpoint: Path) -> Source:
    """A run's config and identifier map, for another state dict (``--checkpoint``)."""
    from .config import load
    from .source import Source

    if not (run_dir / "config.yaml").is_file():
        raise InputError(
            f"{run_dir}: --checkpoint needs an arcdata run directory (with config.yaml) to say "
            "which model the weights are; pass a reference checkpoint file as the first argument"
        )
    names_path = run_dir / IDENTIFIERS
    names = names_of(names_path) if names_path.is_file() else None
    model = load(run_dir / "config.yaml").model
    return Source(checkpoint, "run", model, {}, names, names_path if names else None)


def names_of(path: Path) -> list[str]:
    from arcdata.builder.idmap import read_names

    try:
        return read_names(path)
    except ArcdataError as e:
        raise InputError(str(e)) from None


def check_fits_dataset(source: Source, dataset: Path, manifest: dict) -> None:
    """Refuse a dataset the weights cannot score: another token layout, or another puzzle
    identifier map than the one they were trained on (the embeddings would answer for the wrong
    puzzles), naming the first difference. With no map known (runs without a copy, reference
    checkpoints without an identifiers.json beside them) the identifier count must still match
    the puzzle table."""
    m = source.model
    for field, ours in (("seq_len", m.seq_len), ("vocab_size", m.vocab_size)):
        if int(manifest[field]) != int(ours):
            raise InputError(
                f"{dataset}: {field} {manifest[field]} here but {ours} in {source.path}; "
                "evaluate on a dataset of the codec the model was trained on"
            )
    theirs = dataset / IDENTIFIERS
    if source.names is not None and theirs.is_file():
        names = names_of(theirs)
        for i, (x, y) in enumerate(zip(source.names, names, strict=False)):
            if x != y:
                raise InputError(
                    f"{dataset}: puzzle identifier {i} is {y!r} here but {x!r} in "
                    f"{source.names_path}; evaluate on the dataset the weights were trained on "
                    "(or rebuild it the same way)"
                )
        if len(source.names) != len(names):
            raise InputError(
                f"{dataset}: {len(names)} puzzle identifiers here but {len(source.names)} in "
                f"{source.names_path}; evaluate on the dataset the weights were trained on"
            )
    count = int(manifest["embedding_ids"]["count"])
    if m.puzzle_emb_ndim > 0 and count != m.num_puzzle_identifiers:
        raise InputError(
            f"{dataset}: {count} puzzle identifiers here but the puzzle table of {source.path} "
            f"has {m.num_puzzle_identifiers} rows; evaluate on the dataset the weights were "
            "trained on (or build it with the identifiers key and the checkpoint's map)"
        )


def keep_identifiers(dataset: Path, run_dir: Path) -> None:
    """Copy the dataset's identifier map into the run, for :func:`check_fits_dataset`."""
    source = Path(dataset) / IDENTIFIERS
    if source.is_file() and not (run_dir / IDENTIFIERS).exists():
        run_dir.mkdir(parents=True, exist_ok=True)
        (run_dir / IDENTIFIERS).write_bytes(source.read_bytes())


def build_model(source: Source, device: torch.device) -> HRM:
    """The network of ``source`` on ``device``, its weights loaded (every key and shape)."""
    from .checkpoint import load_model_state

    model = HRM(source.model).to(device)
    load_model_state(model, source.state)
    return model


def load_trained(path: Path, device: torch.device, checkpoint: Path | None = None) -> HRM:
    """The model ``path`` names (a run directory: its newest checkpoint, or ``checkpoint``
    under its config; a reference checkpoint file), unchecked against any dataset."""
    return build_model(_source(path, checkpoint, None), device)

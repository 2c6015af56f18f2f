"""``arcdata train``, ``adapt`` and ``evaluate``: the HRM commands, registered lazily by
:data:`arcdata.cli.LAZY_COMMANDS` so that other commands never import torch."""

from __future__ import annotations

import os
from pathlib import Path

import click

from arcdata.cli import ArcdataCommand


def _config_keys() -> str:
    from .config import config_reference

    return "\b\nConfig keys and defaults (a YAML file for --config, or --set KEY=VALUE):\n" + (
        config_reference()
    )


@click.command("train", cls=ArcdataCommand, epilog=_config_keys())
@click.argument("dataset", type=click.Path(exists=True, file_okay=False, path_type=Path))
@click.option(
    "--config",
    "config_file",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="YAML training config (keys of TrainConfig; model sizes under 'model:').",
)
@click.option(
    "--set",
    "overrides",
    multiple=True,
    metavar="KEY=VALUE",
    help="Override a config key, e.g. --set lr=3e-4 --set model.hidden_size=256.",
)
@click.option(
    "--out",
    "out_dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="Run directory (default: runs/<dataset name>).",
)
@click.option(
    "--resume",
    "resume",
    is_flag=False,
    flag_value="",
    default=None,
    metavar="[RUN_DIR]",
    help="Continue a run from its newest checkpoint: RUN_DIR, or --out when given alone. "
    "The run's saved config.yaml is the base config unless --config is given.",
)
@click.option(
    "--init",
    "init",
    type=click.Path(exists=True, path_type=Path),
    default=None,
    metavar="CHECKPOINT",
    help="Start from these weights: an arcdata run dir, or a reference checkpoint with its "
    "all_config.yaml (and identifiers.json) beside it. Its model settings are the base config; "
    "tensors that fit are copied, puzzle rows carried by identifier name (new rows: "
    "init_embeddings), and RUN_DIR/init.json says what was carried.",
)
@click.option(
    "--dry-run",
    is_flag=True,
    help="Print the resolved config, parameters, device, steps and a time estimate; "
    "train nothing and write nothing.",
)
def train_cmd(
    dataset: Path,
    config_file: Path | None,
    overrides: tuple[str, ...],
    out_dir: Path | None,
    resume: str | None,
    init: Path | None,
    dry_run: bool,
) -> None:
    """Train an HRM on the built DATASET. Works under torchrun for several processes/GPUs.

    Before the first step it prints the parameter count, device, dtype, steps and a time
    estimate, and warns when the config will be very slow on the device.
    """
    from .config import TrainConfig, load
    from .train import train

    if resume:
        if out_dir is not None and Path(resume).resolve() != out_dir.resolve():
            raise click.UsageError(f"--resume {resume} and --out {out_dir} name different runs")
        out_dir = Path(resume)
    out_dir = out_dir or Path("runs") / dataset.resolve().name
    saved = out_dir / "config.yaml"
    if resume is not None and config_file is None and saved.is_file():
        config_file = saved
    plan, base = None, None
    if init is not None and resume is None:
        from .init import InitPlan, dataset_names

        plan = InitPlan(_init_source(init, dataset), dataset_names(dataset))
        base = TrainConfig(model=plan.source.model, init=str(init))
    config = load(config_file, list(overrides), base)  # errors: one line from arcdata.cli
    if dry_run:
        from .estimate import dry_run_text

        click.echo(dry_run_text(dataset, config, out_dir, resume=resume is not None))
        return
    result = train(dataset, config, out_dir, resume=resume is not None, init=plan)
    if int(os.environ.get("RANK", "0")) != 0:
        return
    from .report import keep_identifiers

    keep_identifiers(dataset, out_dir)
    if result["eval"]:
        summary = ", ".join(f"{k} {v:.4f}" for k, v in result["eval"].items())
        click.echo(f"step {result['step']}: {summary}")
    click.echo(f"run directory: {out_dir}")


def _init_source(path: Path, dataset: Path):
    """The checkpoint ``--init`` names (rotary positions take the dataset's sequence length)."""
    from arcdata.storage.manifest import read_manifest
    from arcdata.tokens import get_codec

    from .source import resolve_source

    seq_len = get_codec(read_manifest(dataset)["codec"]).seq_len
    return resolve_source(path, seq_len=seq_len)


@click.command("adapt", cls=ArcdataCommand, epilog=_config_keys())
@click.argument("checkpoint", type=click.Path(exists=True, path_type=Path))
@click.argument("dataset", type=click.Path(exists=True, file_okay=False, path_type=Path))
@click.option(
    "--out",
    "out_dir",
    type=click.Path(file_okay=False, path_type=Path),
    required=True,
    help="Run directory to write (score it with `arcdata evaluate RUN DATASET`).",
)
@click.option("--steps", default=200, show_default=True, type=click.IntRange(min=1))
@click.option(
    "--lr", default=1e-2, show_default=True, type=float, help="Puzzle-embedding learning rate."
)
@click.option(
    "--config",
    "config_file",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="YAML training config on top of the checkpoint's model (the network stays frozen).",
)
@click.option("--set", "overrides", multiple=True, metavar="KEY=VALUE", help="Override a key.")
@click.option(
    "--score/--no-score",
    default=True,
    show_default=True,
    help="Measure the demonstrations' loss and accuracy before and after (adapt.json).",
)
def adapt_cmd(
    checkpoint: Path,
    dataset: Path,
    out_dir: Path,
    steps: int,
    lr: float,
    config_file: Path | None,
    overrides: tuple[str, ...],
    score: bool,
) -> None:
    """Test-time adaptation: fit fresh puzzle embeddings of DATASET's evaluation tasks on
    their demonstration pairs only (test outputs are never read), the network of CHECKPOINT
    (an arcdata run dir, or a reference checkpoint with its all_config.yaml) frozen.

    Each task of the test split gets fresh rows (per task under ids: task, per version under
    ids: version), started as `train --init` starts new rows (init_embeddings: mean or zero).
    Demonstrations: the eval_demos split (split: strict) or the tasks' demonstration rows of
    the train split (split: hrm). RUN_DIR is an ordinary run: `arcdata evaluate RUN DATASET`.
    """
    from .adapt import adapt, base_config
    from .config import load

    if (out_dir / "checkpoints" / "latest").exists():
        raise click.UsageError(f"{out_dir} already holds a run; pass another --out")
    source = _init_source(checkpoint, dataset)
    config = load(config_file, list(overrides), base_config(source, steps, lr))
    record = adapt(source, dataset, out_dir, config, score=score)
    click.echo(
        f"adapted {record['rows_fitted']} rows of {record['tasks']} tasks on "
        f"{record['demonstration_examples']} demonstrations ({record['steps']} steps)"
    )
    for when in ("before", "after"):
        m = record[f"demonstrations_{when}"]
        if m:
            click.echo(
                f"demonstrations {when}: lm_loss {m['lm_loss']:.4f}, "
                f"exact_accuracy {m['exact_accuracy']:.4f}"
            )
    click.echo(f"run directory: {out_dir}")


@click.command("evaluate", cls=ArcdataCommand)
@click.argument("run_dir", metavar="CHECKPOINT", type=click.Path(exists=True, path_type=Path))
@click.argument("dataset", type=click.Path(exists=True, file_okay=False, path_type=Path))
@click.option("--split", default="test", show_default=True, help="Split to score.")
@click.option(
    "--out",
    type=click.Path(file_okay=False, path_type=Path),
    help="Report folder (default: RUN_DIR/eval-<split>, or eval-<split> beside a checkpoint file).",
)
@click.option(
    "--checkpoint",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="With a RUN_DIR: score this state dict (any key layout) under the run's config "
    "instead of the run's newest checkpoint.",
)
@click.option(
    "--batch-size",
    default=256,
    show_default=True,
    help="Global batch: under torchrun each process takes its share of it.",
)
@click.option(
    "--max-examples",
    type=click.IntRange(min=1),
    default=None,
    help="Score exactly this many examples (the first ones of the split, whatever the "
    "number of processes).",
)
@click.option(
    "--trace",
    "traced",
    multiple=True,
    metavar="TASK[:VERSION]",
    help="Draw this example's reasoning steps and latents (repeatable; VERSION: the version "
    "column, default its first test pair of any version).",
)
@click.option(
    "--pictures",
    default=2,
    show_default=True,
    help="Without --trace: trace this many right and this many wrong examples.",
)
@click.option(
    "--halt",
    type=click.Choice(["max", "q"]),
    default="max",
    show_default=True,
    help="max: every segment (the reference's evaluation); q: a slot stops when the model's "
    "halting rule fires and takes the next example.",
)
@click.option(
    "--ids",
    type=click.Choice(["real", "blank"]),
    default="real",
    show_default=True,
    help="blank: also score with every puzzle id set to 0, reported beside the real ids.",
)
@click.option("--device", default="auto", show_default=True)
def evaluate_cmd(
    run_dir: Path,
    dataset: Path,
    split: str,
    out: Path | None,
    checkpoint: Path | None,
    batch_size: int,
    max_examples: int | None,
    traced: tuple[str, ...],
    pictures: int,
    halt: str,
    ids: str,
    device: str,
) -> None:
    """Score a trained HRM on a built DATASET. CHECKPOINT: a RUN_DIR from `arcdata train`
    (or one of its checkpoints/step_N/state.pt), or a reference checkpoint file with the
    run's all_config.yaml beside it or one folder up (an identifiers.json there names its
    puzzle ids). A dataset whose identifier map differs from the weights' is refused. Works
    under torchrun: each process scores its share of every batch, rank 0 gathers and writes.

    \b
    Writes to --out:
      metrics.json          exact/token accuracy, q-halt accuracy, ARC pass@k (votes
                            across augmented versions), the ARC Prize score, pass@2 by
                            voters, Sudoku valid-completed and Maze valid-shortest-path
                            rates, the halting rules side by side, calibration
      predictions.parquet   per example: task, version, pair, input/predicted/target
                            grids in the raw frame, q_halt/q_continue/exactness after
                            every segment, segments used, exact, token accuracy
      submission.json       ARC: two attempts per test input (ARC Prize layout)
      calibration.png       reliability diagram: accuracy per confidence bin, counts
      pixel_accuracy.png    per-pixel accuracy against confidence, with Pearson r
      segments.png          segments per example under each halting rule
      voters.png            ARC: pass@2 against the number of versions that vote
      reasoning_steps.png   traced examples: input, the answer after every segment
                            (captioned: q_halt, cells changed, right/wrong), target
      latents.png           traced examples: per segment the norm of each level's
                            state change, and a 2-D PCA of the z_H trajectory
      trace.json            what those two pictures are drawn from
      report.html           one self-contained page: every number, the per-task
                            table, every picture
    """
    from arcdata.errors import ConfigError, InputError

    from .distributed import planned_world_size, setup, teardown
    from .report import trained_source

    if checkpoint is not None and not run_dir.is_dir():
        raise InputError(f"--checkpoint {checkpoint}: only with a RUN_DIR, and {run_dir} is a file")
    source = trained_source(run_dir, dataset, checkpoint)
    world = planned_world_size()
    if batch_size % world:
        raise ConfigError(
            f"--batch-size {batch_size} is the global batch and must be a multiple of the "
            f"{world} processes; use e.g. --batch-size {max(batch_size // world, 1) * world}"
        )
    info, dev = setup(device)
    try:
        target = out or (run_dir if run_dir.is_dir() else run_dir.parent) / f"eval-{split}"
        metrics = _evaluate(
            source, dataset, split, target, batch_size, max_examples, list(traced), pictures,
            halt, ids, dev, info,
        )  # fmt: skip
    finally:
        teardown(info)
    if metrics is None:  # not rank 0: its predictions went to rank 0, which writes the report
        return
    shown = {k: v for k, v in metrics.items() if isinstance(v, float)}
    click.echo(", ".join(f"{k} {v:.4f}" for k, v in shown.items()))
    click.echo(f"report: {target}")


def _evaluate(
    source,
    dataset: Path,
    split: str,
    target: Path,
    batch_size: int,
    max_examples: int | None,
    traced: list[str],
    pictures: int,
    halt: str,
    ids: str,
    dev,
    info,
) -> dict | None:
    """Every rank predicts its share of the split; rank 0 gathers them, traces the chosen
    examples and writes the report (its metrics returned; None on the other ranks)."""
    from arcdata.stream import PuzzleStream

    from .infer import gather
    from .report import build_model, predict, write_report

    model = build_model(source, dev)
    runs = {}
    for mode in ("real", "blank") if ids == "blank" else ("real",):
        stream = PuzzleStream(
            str(dataset), split, batch_size=batch_size, mode="eval",
            rank=info.rank, world_size=info.world_size,
        )  # fmt: skip
        preds = predict(model, stream, dev, halt=halt, ids=mode, max_examples=max_examples, trace=0)
        runs[mode] = gather(preds)
    if not info.is_main:
        return None
    preds = runs["real"]
    traces = _traces(model, dataset, split, preds, traced, pictures, dev)
    return write_report(dataset, split, preds, target, blank=runs.get("blank"), traces=traces)


def _traces(model, dataset: Path, split: str, preds, specs: list[str], per_kind: int, dev):
    """Trace records of the named examples (else ``per_kind`` right and wrong ones)."""
    from arcdata.storage.manifest import read_manifest
    from arcdata.stream import PuzzleStream

    from .report import prediction_frame, split_rows
    from .trace import choose, run_traces

    codec = read_manifest(dataset)["codec"]
    rows = split_rows(dataset, split)
    frame = prediction_frame(codec, rows, preds)
    chosen = choose(frame, specs, per_kind)
    stream = PuzzleStream(  # rank 0 alone traces, so the whole split is its own
        str(dataset), split, batch_size=max(len(chosen), 1), mode="eval", rank=0, world_size=1
    )
    return run_traces(model, stream, rows, chosen, dev, codec)


@click.command("report", cls=ArcdataCommand)
@click.argument("folder", type=click.Path(exists=True, file_okay=False, path_type=Path))
def report_cmd(folder: Path) -> None:
    """Rebuild metrics.json, submission.json, the pictures and report.html of a report folder
    (written by `arcdata evaluate`) from its predictions.parquet and trace.json, without the
    model or the dataset. FOLDER is the report folder, or a RUN_DIR: then every eval-*
    folder in it."""
    from arcdata.errors import InputError

    from .report import rebuild

    folders = [folder]
    if not (folder / "predictions.parquet").is_file():
        found = sorted(p.parent for p in folder.glob("eval-*/predictions.parquet"))
        folders = found or folders
    for one in folders:
        try:
            metrics = rebuild(one)
        except ValueError as e:
            raise InputError(str(e)) from None
        shown = {k: v for k, v in metrics.items() if isinstance(v, float)}
        click.echo(", ".join(f"{k} {v:.4f}" for k, v in shown.items()))
        click.echo(f"report: {one / 'report.html'}")

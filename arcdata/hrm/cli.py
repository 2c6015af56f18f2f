"""``arcdata train``: the click command; add it to the main group with ``main.add_command(train_cmd)``."""

from __future__ import annotations

import os
from pathlib import Path

import click

from ..errors import ArcdataError


@click.command("train")
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
def train_cmd(
    dataset: Path,
    config_file: Path | None,
    overrides: tuple[str, ...],
    out_dir: Path | None,
    resume: str | None,
) -> None:
    """Train an HRM on the built DATASET. Works under torchrun for several processes/GPUs."""
    from .config import load
    from .train import train

    if resume:
        if out_dir is not None and Path(resume).resolve() != out_dir.resolve():
            raise click.UsageError(f"--resume {resume} and --out {out_dir} name different runs")
        out_dir = Path(resume)
    out_dir = out_dir or Path("runs") / dataset.resolve().name
    try:
        saved = out_dir / "config.yaml"
        if resume is not None and config_file is None and saved.is_file():
            config_file = saved
        config = load(config_file, list(overrides))
        result = train(dataset, config, out_dir, resume=resume is not None)
    except ArcdataError as e:
        raise click.ClickException(str(e)) from None
    if int(os.environ.get("RANK", "0")) != 0:
        return
    if result["eval"]:
        summary = ", ".join(f"{k} {v:.4f}" for k, v in result["eval"].items())
        click.echo(f"step {result['step']}: {summary}")
    click.echo(f"run directory: {out_dir}")

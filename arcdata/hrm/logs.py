"""Training metrics for tools: ``metrics.jsonl`` always, TensorBoard event files when available.

``metrics.jsonl`` (one JSON object per log or evaluation, with ``step`` and ``split``) is the
record every run keeps; the TensorBoard writer is optional (``pip install arcdata[tensorboard]``)
and, when its package is missing, simply absent rather than an error.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from .. import jsonio

TENSORBOARD_DIR = "tensorboard"


def summary_writer(log_dir: Path, purge_step: int | None = None):
    """A ``torch.utils.tensorboard.SummaryWriter``, or None when tensorboard is not installed."""
    try:
        from torch.utils.tensorboard import SummaryWriter
    except ImportError:  # torch raises ImportError when the tensorboard package is missing
        return None
    return SummaryWriter(log_dir=str(log_dir), purge_step=purge_step)


class MetricsLog:
    """Appends records to RUN_DIR/metrics.jsonl and mirrors numbers as scalars ``split/key``.

    Only the main rank writes (``enabled``). ``tensorboard`` turns the event files off.
    ``resumed_at`` is the step a resumed run continues from: TensorBoard drops events the
    crashed try wrote after it, as the checkpoint does.
    """

    def __init__(
        self,
        run_dir: Path,
        *,
        enabled: bool = True,
        tensorboard: bool = True,
        resumed_at: int | None = None,
    ) -> None:
        self.path = Path(run_dir) / "metrics.jsonl"
        self.enabled = enabled
        self.writer = None
        if enabled and tensorboard:
            self.writer = summary_writer(Path(run_dir) / TENSORBOARD_DIR, resumed_at)

    def log(self, record: dict[str, Any]) -> None:
        if not self.enabled:
            return
        with self.path.open("a") as f:
            f.write(jsonio.dumps(record) + "\n")
        if self.writer is None:
            return
        step, split = record["step"], record.get("split", "train")
        for key, value in record.items():
            if key not in ("step", "split") and isinstance(value, (int, float)):
                self.writer.add_scalar(f"{split}/{key}", value, step)
        self.writer.flush()

    def close(self) -> None:
        if self.writer is not None:
            self.writer.close()
            self.writer = None

"""metrics.jsonl always; TensorBoard scalars when a writer is available (a fake one here)."""

from __future__ import annotations

import json
import sys

from arcdata.hrm import logs
from arcdata.hrm.logs import MetricsLog, summary_writer
from arcdata.hrm.train import train
from tests.hrm.hrm_synthetic import SyntheticDataset
from tests.hrm.test_train import tiny_train_config


class FakeWriter:
    def __init__(self, log_dir, purge_step=None):
        self.log_dir, self.purge_step = log_dir, purge_step
        self.scalars: list[tuple[str, float, int]] = []
        self.closed = False

    def add_scalar(self, tag, value, step):
        self.scalars.append((tag, value, step))

    def flush(self):
        pass

    def close(self):
        self.closed = True


def test_without_tensorboard_installed_there_is_no_writer(tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "torch.utils.tensorboard", None)  # import now fails
    assert summary_writer(tmp_path) is None
    log = MetricsLog(tmp_path)
    log.log({"step": 1, "split": "train", "loss": 0.5})
    log.close()
    assert json.loads((tmp_path / "metrics.jsonl").read_text()) == {
        "step": 1, "split": "train", "loss": 0.5,
    }  # fmt: skip


def test_training_mirrors_metrics_into_tensorboard(tmp_path, monkeypatch):
    made: list[FakeWriter] = []
    monkeypatch.setattr(
        logs, "summary_writer", lambda d, p=None: made.append(FakeWriter(d, p)) or made[-1]
    )
    train(SyntheticDataset(), tiny_train_config(), tmp_path / "run")
    (writer,) = made
    assert writer.log_dir == tmp_path / "run" / "tensorboard" and writer.closed
    tags = {(tag, step) for tag, _, step in writer.scalars}
    assert {("train/loss", 2), ("train/lr", 6), ("test/exact_accuracy", 3)} <= tags
    records = [json.loads(line) for line in (tmp_path / "run" / "metrics.jsonl").open()]
    assert len({(r["split"], r["step"]) for r in records}) == len(records) == 5


def test_tensorboard_off_and_other_ranks_write_nothing(tmp_path, monkeypatch):
    made = []
    monkeypatch.setattr(logs, "summary_writer", lambda d, p=None: made.append(d))
    MetricsLog(tmp_path, tensorboard=False).log({"step": 1, "split": "train", "loss": 1.0})
    quiet = MetricsLog(tmp_path / "other", enabled=False)
    quiet.log({"step": 1, "split": "train", "loss": 1.0})
    assert made == [] and not (tmp_path / "other").exists()

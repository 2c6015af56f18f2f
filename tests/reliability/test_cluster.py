"""Builds on a real Dask cluster: a ``dask scheduler`` and two ``dask worker`` processes on
127.0.0.1. The result must equal the local build byte for byte, also when a worker is killed
mid-build (its units and lost plan results are recomputed on the other worker)."""

from __future__ import annotations

import json
import os
import subprocess
from collections.abc import Iterator
from contextlib import ExitStack
from dataclasses import dataclass

import pytest

from tests.reliability.helpers import (
    arcdata_cmd,
    assert_same_dataset,
    kill_group,
    poll,
    process_group,
    unit_records,
)

START_TIMEOUT = 120
BUILD_TIMEOUT = 300


@dataclass
class Cluster:
    address: str
    workers: list[subprocess.Popen]


def _connected_workers(address: str) -> int:
    from distributed import Client

    with Client(address, timeout="30s") as client:
        return len(client.scheduler_info(n_workers=-1)["workers"])


def start_scheduler(stack: ExitStack, tmp_path) -> str:
    info = tmp_path / "scheduler.json"
    stack.enter_context(
        process_group(
            [
                "dask",
                "scheduler",
                "--host",
                "127.0.0.1",
                "--port",
                "0",
                "--dashboard-address",
                "127.0.0.1:0",
                "--scheduler-file",
                str(info),
            ],
            tmp_path / "scheduler.log",
        )
    )
    poll(lambda: info.exists() and info.stat().st_size > 0, START_TIMEOUT, "the scheduler file")
    address = json.loads(info.read_text())["address"]
    assert address.startswith("tcp://127.0.0.1:")
    return address


def start_worker(
    stack: ExitStack, tmp_path, address: str, name: str, *extra: str
) -> subprocess.Popen:
    return stack.enter_context(
        process_group(
            [
                "dask",
                "worker",
                address,
                "--nthreads",
                "1",
                "--nworkers",
                "1",
                "--no-dashboard",
                "--name",
                name,
                *extra,
            ],
            tmp_path / f"{name}.log",
        )
    )


@pytest.fixture
def cluster(tmp_path) -> Iterator[Cluster]:
    """A scheduler on a free loopback port and two single-threaded workers; every process
    group is killed at teardown, also when the test fails."""
    with ExitStack() as stack:
        address = start_scheduler(stack, tmp_path)
        workers = [start_worker(stack, tmp_path, address, f"w{i}") for i in range(2)]
        poll(lambda: _connected_workers(address) == 2, START_TIMEOUT, "two workers", interval=0.5)
        yield Cluster(address, workers)


def test_cluster_build_equals_local_build(tiny, cluster, tmp_path):
    out = tmp_path / "data"
    done = subprocess.run(
        arcdata_cmd("build", str(tiny.pipeline), "--out", str(out), "--scheduler", cluster.address),
        capture_output=True,
        text=True,
        timeout=BUILD_TIMEOUT,
    )
    assert done.returncode == 0, done.stderr
    assert f"dask: scheduler {cluster.address}, dashboard http://127.0.0.1:" in done.stderr
    info = json.loads((out / "build.json").read_text())
    assert info["workers"] == 2 and info["scheduler"] == cluster.address
    assert_same_dataset(tiny.reference, out)


def test_killing_a_worker_mid_build_still_gives_the_same_bytes(tiny, cluster, tmp_path):
    out = tmp_path / "data"
    partial = tmp_path / ".data.partial"
    cmd = arcdata_cmd("build", str(tiny.pipeline), "--out", str(out), "--quiet")
    log = tmp_path / "build.log"
    with process_group(cmd, log, env={"DASK_SCHEDULER_ADDRESS": cluster.address}) as build:
        poll(
            lambda: len(unit_records(partial)) >= 2 or build.poll() is not None,
            BUILD_TIMEOUT,
            "two finished units",
        )
        assert build.poll() is None, f"build ended before a worker was killed:\n{log.read_text()}"
        assert len(unit_records(partial)) < tiny.units, "the worker should die mid-build"
        kill_group(cluster.workers[0])
        assert build.wait(timeout=BUILD_TIMEOUT) == 0, log.read_text()
    assert _connected_workers(cluster.address) == 1
    assert_same_dataset(tiny.reference, out)


def test_unreachable_scheduler_is_a_clear_error(tiny, tmp_path):
    import socket

    with socket.socket() as s:  # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    done = subprocess.run(
        arcdata_cmd(
            "build",
            str(tiny.pipeline),
            "--out",
            str(tmp_path / "data"),
            "--scheduler",
            f"tcp://127.0.0.1:{port}",
            "--quiet",
        ),
        capture_output=True,
        text=True,
        timeout=BUILD_TIMEOUT,
        env={**os.environ, "DASK_DISTRIBUTED__COMM__TIMEOUTS__CONNECT": "3s"},
    )
    assert done.returncode == 2, done.stderr
    assert "cannot reach the Dask scheduler" in done.stderr
    assert "Traceback" not in done.stderr
    assert not (tmp_path / "data").exists()


WRONG_VERSION = "import arcdata\narcdata.__version__ = '0.0.0+elsewhere'\n"
NO_ARCDATA = """
import sys


class NoArcdata:  # as if arcdata were not installed on this worker
    def find_spec(self, name, path=None, target=None):
        if name == "arcdata" or name.startswith("arcdata."):
            raise ModuleNotFoundError(f"No module named {name!r}", name=name)


sys.meta_path.insert(0, NoArcdata())
for module in [m for m in sys.modules if m == "arcdata" or m.startswith("arcdata.")]:
    del sys.modules[module]
"""


def test_workers_without_the_same_arcdata_are_refused(tiny, tmp_path):
    out = tmp_path / "data"
    cmd = arcdata_cmd("build", str(tiny.pipeline), "--out", str(out), "--quiet")
    with ExitStack() as stack:
        address = start_scheduler(stack, tmp_path)
        for name, preload, message in (
            ("other", WRONG_VERSION, "workers differ"),
            ("bare", NO_ARCDATA, "cannot run arcdata"),
        ):
            script = tmp_path / f"{name}_preload.py"
            script.write_text(preload)
            worker = start_worker(stack, tmp_path, address, name, "--preload", str(script))
            poll(
                lambda: _connected_workers(address) == 1, START_TIMEOUT, "the worker", interval=0.5
            )
            done = subprocess.run(
                [*cmd, "--scheduler", address],
                capture_output=True,
                text=True,
                timeout=BUILD_TIMEOUT,
            )
            assert done.returncode == 2, done.stderr
            assert message in done.stderr and "Traceback" not in done.stderr, done.stderr
            assert not out.exists() and not (tmp_path / ".data.partial").exists()
            kill_group(worker)
            poll(
                lambda: _connected_workers(address) == 0, START_TIMEOUT, "no workers", interval=0.5
            )


def crash_worker(*args, **kwargs):  # stands in for build_unit: dies like an OOM kill would
    os._exit(137)


def test_a_unit_that_kills_its_worker_is_a_clear_error(tiny, tmp_path, monkeypatch):
    import dask

    from arcdata.builder import driver
    from arcdata.errors import DatasetError

    monkeypatch.setattr(driver, "build_unit", crash_worker)
    with (
        dask.config.set({"distributed.scheduler.allowed-failures": 0}),
        pytest.raises(DatasetError, match="took down a worker.*--resume"),
    ):
        driver.build(tiny.config(), tmp_path / "data", workers=1, progress=False)
    assert not (tmp_path / "data").exists()

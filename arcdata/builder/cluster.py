"""The Dask cluster a build runs on: a fresh LocalCluster, or an existing scheduler whose
workers are checked to run the same code (so shards stay byte-identical)."""

from __future__ import annotations

import contextlib
import os
import platform
import signal
import sys
import threading
import time

import pyarrow as pa

import arcdata
from arcdata.errors import DatasetError

WORKER_WAIT_S = 120.0
"""How long a build on an existing scheduler waits for its first worker before giving up."""


LOCAL_WORKER_CONFIG = {
    # Forked workers start with the driver's imports (distributed, numpy, pyarrow, arcdata)
    # already loaded: about a second of CPU less per worker than spawning a fresh interpreter.
    # Fork is only safe where the platform supports it well (Linux); elsewhere Dask's default.
    **(
        {"distributed.worker.multiprocessing-method": "fork"}
        if sys.platform.startswith("linux")
        else {}
    ),
    # The statistical profiler samples every worker thread every 10 ms for the dashboard,
    # which a local build does not start.
    "distributed.worker.profile.enabled": False,
}
"""Dask settings for the workers of a local build only; a given scheduler's are its own."""


def worker_env() -> dict:
    """What must match between the driver and every worker for byte-identical shards.

    Parquet files record the writer's pyarrow version, and the rows depend on arcdata's and
    numpy's code, so a worker with other versions would silently write different bytes.
    """
    import numpy

    return {
        "arcdata": arcdata.__version__,
        "pyarrow": pa.__version__,
        "numpy": numpy.__version__,
        "python": platform.python_version(),
    }


def check_workers(client, address: str) -> int:
    """Wait for a worker, then refuse workers that cannot import arcdata or run other versions."""
    try:
        client.wait_for_workers(1, timeout=WORKER_WAIT_S)
    except (TimeoutError, OSError):
        raise DatasetError(
            f"scheduler {address} has no workers (waited {WORKER_WAIT_S:.0f} s); "
            "start some with: dask worker " + address
        ) from None
    try:
        envs = client.run(worker_env)
    except Exception as e:  # the worker's own import error, re-raised here by distributed
        raise DatasetError(
            f"workers of {address} cannot run arcdata ({type(e).__name__}: "
            f"{e}); install the same arcdata version on every worker"
        ) from None
    mine = worker_env()
    bad = {w: env for w, env in envs.items() if env != mine}
    if bad:
        lines = [f"  {w}: {env}" for w, env in sorted(bad.items())]
        raise DatasetError(f"workers differ from this driver ({mine}):\n" + "\n".join(lines))
    return len(envs)


def _process_cpu() -> float:
    return time.process_time()


def worker_cpu(client) -> float:
    """CPU seconds used so far by every worker process (the sum); 0 when they cannot say."""
    try:
        return float(sum(client.run(_process_cpu).values()))
    except Exception:  # a worker lost mid-build: the figure is only informative
        return 0.0


def dashboard(client) -> str:
    """The scheduler's dashboard URL, or a note that it has none (started --no-dashboard)."""
    try:
        return client.dashboard_link or "(none)"
    except (KeyError, AttributeError, OSError):
        return "(none: the scheduler runs without a dashboard)"


@contextlib.contextmanager
def dask_client(workers: int | None, scheduler: str | None, quiet: bool = False):
    """A client on the given scheduler, or on a fresh LocalCluster of single-threaded processes."""
    import logging

    import dask
    from distributed import Client, LocalCluster

    address = scheduler or os.environ.get("DASK_SCHEDULER_ADDRESS")
    if address:
        try:  # waits distributed.comm.timeouts.connect (30 s by default)
            client = Client(address)
        except (OSError, TimeoutError) as e:
            raise DatasetError(f"cannot reach the Dask scheduler at {address}: {e}") from None
        try:
            if not quiet:
                print(f"dask: scheduler {address}, dashboard {dashboard(client)}", file=sys.stderr)
            check_workers(client, address)
            yield client
        finally:
            client.close()
        return
    logging.getLogger("distributed").setLevel(logging.ERROR)
    n = workers or os.cpu_count() or 1
    # No dashboard; the scheduler's small HTTP server on a free loopback port rather than
    # 8787, which another cluster on the machine may hold (that only earns a warning).
    # Worker shutdown chatter is logged at ERROR, so only CRITICAL gets through; real
    # failures reach the driver as exceptions from the futures.
    with _children_ignore_sigint(), dask.config.set(LOCAL_WORKER_CONFIG):
        cluster = LocalCluster(
            n_workers=n,
            threads_per_worker=1,
            processes=True,
            dashboard_address=None,
            silence_logs=logging.CRITICAL,
            scheduler_kwargs={"dashboard_address": "127.0.0.1:0"},
        )
    interrupted = False
    try:
        with cluster, Client(cluster) as client:
            try:
                yield client
            except KeyboardInterrupt:
                # Closing mid-task makes the scheduler log CRITICAL tracebacks about closed
                # comms; after Ctrl-C the user should see one line, not those.
                interrupted = True
                logging.disable(logging.CRITICAL)
                raise
    finally:
        if interrupted:
            logging.disable(logging.NOTSET)


@contextlib.contextmanager
def _children_ignore_sigint():
    """Start worker processes with SIGINT ignored (an ignored signal survives exec).

    Ctrl-C reaches the terminal's whole process group: each worker would print a traceback of
    its event loop. Only the driver should hear it; it stops the build and closes the cluster,
    which ends the workers.
    """
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)

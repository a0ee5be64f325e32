"""The Ray sweep backend: each run a Ray task with one CPU (and one GPU where the cluster has them) reserved,
progress through a ``ray.util.queue.Queue``, the finished run returned as plain data. Ray does the
scheduling, transport and cancelling; nothing here is a scheduler of its own. Needs the optional ``ray``.

The cluster: ``address`` or env UNROLLED_RAY_ADDRESS (e.g. ``ray://head:10001``), or a Ray this process
already joined; else a local Ray instance. Workers need Python with requirements-worker.txt installed and
their own data dir (UNROLLED_DATA_DIR); rnn_core itself is shipped to them with each sweep.
"""

from __future__ import annotations

import contextlib
import os
import time
from pathlib import Path
from typing import Any

from .backend import RAY_ADDRESS_ENV, Message, error_text
from .spec import RunSpec

PACKAGE = Path(__file__).resolve().parents[1]  # rnn_core, shipped to the workers as a py_module


def _task(run: RunSpec, queue: Any, data_dir: str | None) -> dict[str, Any]:
    """Body of the Ray task: train ``run``, sending progress through ``queue``; returns the payload."""
    from rnn_core.sweep.worker import train_run

    queue.put(Message("started", run.index, {"pid": os.getpid()}))
    return train_run(run, lambda msg: queue.put(Message("progress", run.index, msg)), data_dir, num_threads=1)


def connect(address: str | None = None, **init_kwargs: Any) -> Any:
    """Join the Ray cluster at ``address`` (default env UNROLLED_RAY_ADDRESS; none: start a local instance)
    with rnn_core shipped to its workers, unless this process already joined one. Returns the ``ray`` module.
    ``init_kwargs`` go to ``ray.init`` (e.g. ``num_cpus=2`` for a local instance)."""
    try:
        import ray
    except ImportError:
        raise ValueError("the ray backend needs Ray: pip install -r requirements-test.txt "
                         "(or the 'ray' version your cluster runs)") from None
    if not ray.is_initialized():
        address = address or os.environ.get(RAY_ADDRESS_ENV) or None
        # rnn_core travels with the job, so workers need only the third-party packages installed.
        runtime_env = {"py_modules": [str(PACKAGE)], "excludes": ["__pycache__"]}
        init_kwargs = {"include_dashboard": False, "log_to_driver": False, **init_kwargs}
        if not address:
            # A local instance: Ray starts its workers at niceness 15, so any busy process at normal priority
            # (the app's own Train jobs, a second program) starves the sweep's runs. Measured beside two busy
            # loops on 2 cores: a 3-epoch letters run did not finish in 300 s; at the caller's niceness the whole
            # kill-a-sweep test takes 30 s. The local backend's pool runs at the caller's priority; so do these.
            init_kwargs.setdefault("_system_config", {"worker_niceness": 0})
        ray.init(address=address, runtime_env=runtime_env, **init_kwargs)
    return ray


class RayBackend:
    """Runs each RunSpec as a Ray task. ``workers`` caps the tasks in flight (default: Ray decides, every
    run is submitted at once and the cluster's CPUs bound how many run)."""

    name = "ray"

    def __init__(self, workers: int | None = None, data_dir: str | None = None, address: str | None = None):
        ray = self._ray = connect(address)
        resources = ray.cluster_resources()
        self.cpus = int(resources.get("CPU", 1))
        self.gpus = int(resources.get("GPU", 0))
        self.workers = max(1, min(workers, self.cpus) if workers else self.cpus)
        self.cap = workers  # None: submit everything and let Ray queue it
        self.data_dir = data_dir
        from ray.util.queue import Queue

        self._queue = Queue(actor_options={"num_cpus": 0})
        self._remote = ray.remote(_task).options(
            num_cpus=1, num_gpus=1 if self.gpus else 0, max_retries=0, retry_exceptions=False,
        )
        self._pending: list[RunSpec] = []
        self._refs: dict[Any, int] = {}  # ObjectRef -> run index

    def start(self, runs: list[RunSpec]) -> None:
        self._pending = list(runs)
        self._launch()

    def _launch(self) -> None:
        while self._pending and (self.cap is None or len(self._refs) < self.cap):
            run = self._pending.pop(0)
            self._refs[self._remote.remote(run, self._queue, self.data_dir)] = run.index

    def busy(self) -> bool:
        return bool(self._pending or self._refs)

    def poll(self, timeout: float) -> list[Message]:
        ray = self._ray
        if self._refs:
            ray.wait(list(self._refs), num_returns=1, timeout=timeout)
        else:
            time.sleep(min(timeout, 0.05))
        out: list[Message] = self._drain()  # a task's progress is queued before its result is ready
        if self._refs:
            ready, _ = ray.wait(list(self._refs), num_returns=len(self._refs), timeout=0)
            for ref in ready:
                index = self._refs.pop(ref)
                try:
                    out.append(Message("done", index, ray.get(ref)))
                except ray.exceptions.RayTaskError as exc:
                    cause = getattr(exc, "cause", None)
                    out.append(Message("failed", index, {"message": error_text(cause or exc)}))
                except ray.exceptions.RayError as exc:  # the worker died, was cancelled, or its node went away
                    text = str(exc).strip().splitlines()
                    out.append(Message("failed", index, {
                        "message": f"the Ray worker died ({type(exc).__name__}: {text[0] if text else ''})"}))
        self._launch()
        return out

    def _drain(self) -> list[Message]:
        size = self._queue.qsize()
        return list(self._queue.get_nowait_batch(size)) if size else []

    def cancel(self) -> None:
        self._pending.clear()
        for ref in self._refs:
            self._ray.cancel(ref, force=True)
        self._refs.clear()

    def close(self) -> None:
        self.cancel()
        with contextlib.suppress(Exception):  # the queue actor may already be gone with its cluster
            self._ray.kill(self._queue.actor)

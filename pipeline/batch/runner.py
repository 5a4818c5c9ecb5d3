"""Where the per-file tasks run: local worker processes (default) or a Dask distributed cluster.

Both runners take the same plain-dict tasks (paths, strings, numbers; never objects, so nothing but our own
plain data is serialised to Dask) and run :func:`pipeline.batch.process.process_task` under the same timeout and
memory guard (:func:`pipeline.batch.isolation.run_isolated`), so the outputs are identical either way.

With Dask, the inbox and the output folder must be visible at the same paths on every worker (shared file system);
workers write the outputs, the batch process alone writes the ledger.
"""

from __future__ import annotations

import json
import multiprocessing
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor, as_completed
from typing import Any

from pipeline.batch.isolation import DEFAULT_ENTRY, run_isolated
from pipeline.errors import PipelineError


class RunnerError(PipelineError):
    """The runner cannot start (e.g. the Dask scheduler is unreachable)."""


def _limits(task: dict[str, Any]) -> tuple[float, float]:
    lim = task.get("limits") or {}
    return float(lim.get("timeout_s", 600.0)), float(lim.get("max_memory_mb", 3072.0))


class LocalRunner:
    """Run tasks in ``workers`` child processes at a time on this machine (forked from a preloaded server).

    Parameters
    ----------
    workers : int
        Files processed at the same time.
    entry : str
        Task function (``"module:function"``), default :data:`~pipeline.batch.isolation.DEFAULT_ENTRY`.
    """

    def __init__(self, workers: int = 1, *, entry: str = DEFAULT_ENTRY) -> None:
        if workers < 1:
            raise RunnerError(f"--workers must be at least 1, got {workers}")
        self.workers = workers
        self.entry = entry

    @property
    def description(self) -> str:
        """Human-readable description for logs and the summary."""
        return f"local, {self.workers} worker process(es)"

    def _one(self, task: dict[str, Any]) -> dict[str, Any]:
        timeout_s, memory_mb = _limits(task)
        return run_isolated(task, timeout_s=timeout_s, max_memory_mb=memory_mb, mode="fork", entry=self.entry)

    def run(self, tasks: list[dict[str, Any]]) -> Iterator[tuple[dict[str, Any], dict[str, Any]]]:
        """Yield ``(task, outcome)`` as tasks finish."""
        if not tasks:
            return
        with ThreadPoolExecutor(max_workers=self.workers, thread_name_prefix="insole-batch") as pool:
            futures = {pool.submit(self._one, t): t for t in tasks}
            try:
                for fut in as_completed(futures):
                    yield futures[fut], fut.result()
            finally:
                for fut in futures:
                    fut.cancel()

    def close(self) -> None:
        """Nothing to release (children end with their task)."""


def dask_task(task_json: str) -> str:
    """The function Dask runs: one task (JSON text in) under the guards, in a child process (JSON text out).

    A daemonic Dask worker process (the default under a nanny) may not start multiprocessing children, so the
    child is a fresh interpreter (``subprocess``, ~1 s start-up per file); with non-daemonic workers
    (``DASK_DISTRIBUTED__WORKER__DAEMON=False``, or ``dask worker --no-nanny``) children are forked from a
    preloaded server, as in the local runner.
    """
    task = json.loads(task_json)
    timeout_s, memory_mb = _limits(task)
    entry = task.get("entry") or DEFAULT_ENTRY
    mode = "subprocess" if multiprocessing.current_process().daemon else "fork"
    return json.dumps(run_isolated(task, timeout_s=timeout_s, max_memory_mb=memory_mb, mode=mode, entry=entry))


class DaskRunner:
    """Run tasks on an existing Dask distributed cluster.

    Parameters
    ----------
    address : str
        Scheduler address, e.g. ``tcp://127.0.0.1:8786``.
    connect_timeout_s : float
        How long to wait for the scheduler.
    entry : str
        Task function, as for :class:`LocalRunner`.
    """

    def __init__(self, address: str, *, connect_timeout_s: float = 10.0, entry: str = DEFAULT_ENTRY) -> None:
        try:
            from dask.distributed import Client
        except ImportError as exc:  # pragma: no cover - dask is an optional extra
            raise RunnerError("--scheduler needs dask.distributed: pip install 'open-insole[dask]'") from exc
        if not address.startswith(("tcp://", "tls://")):
            raise RunnerError(f"--scheduler must be a tcp:// or tls:// address, got {address!r}")
        self.address = address
        self.entry = entry
        try:
            self.client = Client(address, timeout=f"{connect_timeout_s}s", set_as_default=False)
        except (OSError, TimeoutError) as exc:
            raise RunnerError(f"cannot reach the Dask scheduler at {address}: {exc}") from None

    @property
    def description(self) -> str:
        """Human-readable description for logs and the summary."""
        n = len(self.client.scheduler_info().get("workers", {}))
        return f"Dask scheduler {self.address}, {n} worker(s)"

    def run(self, tasks: list[dict[str, Any]]) -> Iterator[tuple[dict[str, Any], dict[str, Any]]]:
        """Yield ``(task, outcome)`` as tasks finish on the cluster."""
        from dask.distributed import as_completed as dask_as_completed

        if not tasks:
            return
        futures = {}
        for t in tasks:
            payload = json.dumps({**t, "entry": self.entry})
            fut = self.client.submit(dask_task, payload, pure=False, retries=0,
                                     key=f"insole-batch-{t['job_key'][:24]}-{id(t):x}")
            futures[fut] = t
        try:
            with self.client.as_current():
                finished = dask_as_completed(list(futures))
            for fut in finished:
                task = futures[fut]
                try:
                    outcome = json.loads(fut.result())
                except Exception as exc:  # KilledWorker, lost worker, ...: the file is not to blame for sure,
                    outcome = {"ok": False, "reason": "crashed",  # but it is the last one the worker ran
                               "message": f"the Dask worker failed while processing the file: {type(exc).__name__}: "
                               f"{exc}"}
                yield task, outcome
        finally:
            self.client.cancel(list(futures))

    def close(self) -> None:
        """Disconnect from the scheduler."""
        self.client.close()

"""Where the per-file tasks run: local worker processes (default) or a Dask distributed cluster.

Both runners take the same plain-dict tasks (paths, strings, numbers; never objects, so nothing but our own
plain data is serialised to Dask) and run :func:`pipeline.batch.process.process_task` under the same timeout and
memory guard (:func:`pipeline.batch.isolation.run_isolated`), so the outputs are identical either way.

With Dask, the inbox and the output folder must be visible at the same paths on every worker (shared file system);
workers write the outputs, the batch process alone writes the ledger.
"""

from __future__ import annotations

import json
import queue
import threading
import time
from collections.abc import Iterator
from typing import Any

from pipeline.batch.isolation import DEFAULT_ENTRY, run_isolated
from pipeline.batch.safety import Limits
from pipeline.errors import PipelineError


class RunnerError(PipelineError):
    """The runner cannot start (e.g. the Dask scheduler is unreachable)."""


def _limits(task: dict[str, Any]) -> tuple[float, float]:
    lim = {**Limits().to_dict(), **(task.get("limits") or {})}
    return float(lim["timeout_s"]), float(lim["max_memory_mb"])


#: Seconds a worker may take beyond the file's ``timeout_s`` to report back (starting the child, killing it and
#: reaping it are bounded by :func:`~pipeline.batch.isolation.run_isolated` well within this).
REPORT_GRACE_S = 120.0


def lost(task: dict[str, Any], waited_s: float, where: str) -> dict[str, Any]:
    """The outcome of a task whose worker never reported back (``worker-lost``: retried next run)."""
    return {"ok": False, "reason": "worker-lost", "duration_s": waited_s,
            "message": f"{task.get('rel_path')}: {where} did not report back within {waited_s:.0f} s (the file's "
            "time limit plus a grace period); not the file's fault; retried next run"}


def _bound(task: dict[str, Any], grace_s: float) -> float:
    return _limits(task)[0] + grace_s


class LocalRunner:
    """Run tasks in ``workers`` child processes at a time on this machine (forked from a preloaded server).

    Each task runs under :func:`~pipeline.batch.isolation.run_isolated` in a daemon thread; the night waits for
    results with a bound per task (its ``timeout_s`` plus ``report_grace_s``): a task whose thread does not report
    back by then (e.g. a stalled fork server) gets a ``worker-lost`` outcome and a fresh thread takes its place,
    so the night always ends.

    Parameters
    ----------
    workers : int
        Files processed at the same time.
    entry : str
        Task function (``"module:function"``), default :data:`~pipeline.batch.isolation.DEFAULT_ENTRY`.
    report_grace_s : float
        See above.
    """

    def __init__(self, workers: int = 1, *, entry: str = DEFAULT_ENTRY, report_grace_s: float = REPORT_GRACE_S) -> None:
        if workers < 1:
            raise RunnerError(f"--workers must be at least 1, got {workers}")
        self.workers = workers
        self.entry = entry
        self.report_grace_s = report_grace_s

    @property
    def description(self) -> str:
        """Human-readable description for logs and the summary."""
        return f"local, {self.workers} worker process(es)"

    def _one(self, task: dict[str, Any]) -> dict[str, Any]:
        timeout_s, memory_mb = _limits(task)
        return run_isolated(task, timeout_s=timeout_s, max_memory_mb=memory_mb, mode="fork", entry=self.entry)

    def run(self, tasks: list[dict[str, Any]]) -> Iterator[tuple[dict[str, Any], dict[str, Any]]]:
        """Yield ``(task, outcome)`` as tasks finish (every task exactly once, within its bound)."""
        todo: queue.SimpleQueue[int] = queue.SimpleQueue()
        done: queue.SimpleQueue[tuple[int, dict[str, Any]]] = queue.SimpleQueue()
        for i in range(len(tasks)):
            todo.put(i)
        started: dict[int, float] = {}
        abandoned: set[int] = set()
        stop = threading.Event()

        def work() -> None:
            while not stop.is_set():
                try:
                    i = todo.get_nowait()
                except queue.Empty:
                    return
                started[i] = time.monotonic()
                try:
                    outcome = self._one(tasks[i])
                except Exception as exc:  # the runner itself failed (e.g. cannot fork): not the file's fault
                    outcome = {"ok": False, "reason": "worker-lost",
                               "message": f"{tasks[i].get('rel_path')}: the worker could not run the file: "
                               f"{type(exc).__name__}: {exc}; retried next run"}
                done.put((i, outcome))
                if i in abandoned:  # its slot was given to a new thread meanwhile
                    return

        def spawn() -> None:
            threading.Thread(target=work, name="insole-batch", daemon=True).start()

        for _ in range(min(self.workers, len(tasks))):
            spawn()
        pending = set(range(len(tasks)))
        try:
            while pending:
                try:
                    i, outcome = done.get(timeout=1.0)
                except queue.Empty:
                    now = time.monotonic()
                    for i in sorted(pending):
                        waited = now - started[i] if i in started else 0.0
                        if waited > _bound(tasks[i], self.report_grace_s):
                            pending.discard(i)
                            abandoned.add(i)
                            spawn()  # the stuck thread keeps its slot; the other files go on
                            yield tasks[i], lost(tasks[i], waited, "the local worker")
                    continue
                if i in pending:
                    pending.discard(i)
                    yield tasks[i], outcome
        finally:
            stop.set()  # a night stopped early starts no new file; running children end within their limits

    def close(self) -> None:
        """Nothing to release (children end with their task; worker threads are daemons)."""


def dask_task(task_json: str) -> str:
    """The function Dask runs: one task (JSON text in) under the guards, in a child process (JSON text out).

    The child is forked from this worker process's pre-fork server (:mod:`pipeline.batch.worker_server`,
    started on the worker's first file and reused), whether or not the worker is daemonic (under a nanny, Dask's
    default, it is, and may not start multiprocessing children). If the server cannot take the file, the file
    runs in a fresh interpreter instead (~1 s slower), see :func:`~pipeline.batch.isolation.run_isolated`.
    """
    task = json.loads(task_json)
    timeout_s, memory_mb = _limits(task)
    entry = task.get("entry") or DEFAULT_ENTRY
    return json.dumps(run_isolated(task, timeout_s=timeout_s, max_memory_mb=memory_mb, mode="server", entry=entry))


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
    report_grace_s : float
        See :meth:`run`.
    """

    def __init__(self, address: str, *, connect_timeout_s: float = 10.0, entry: str = DEFAULT_ENTRY,
                 report_grace_s: float = REPORT_GRACE_S) -> None:
        try:
            from dask.distributed import Client
        except ImportError as exc:  # pragma: no cover - dask is an optional extra
            raise RunnerError("--scheduler needs dask.distributed: pip install 'open-insole[dask]'") from exc
        if not address.startswith(("tcp://", "tls://")):
            raise RunnerError(f"--scheduler must be a tcp:// or tls:// address, got {address!r}")
        self.address = address
        self.entry = entry
        self.report_grace_s = report_grace_s
        try:
            self.client = Client(address, timeout=f"{connect_timeout_s}s", set_as_default=False)
        except (OSError, TimeoutError) as exc:
            raise RunnerError(f"cannot reach the Dask scheduler at {address}: {exc}") from None

    @property
    def description(self) -> str:
        """Human-readable description for logs and the summary (the workers counted once, when connecting)."""
        if not hasattr(self, "_description"):
            n = len(self.client.scheduler_info().get("workers", {}))
            self._description = f"Dask scheduler {self.address}, {n} worker(s)"
        return self._description

    def run(self, tasks: list[dict[str, Any]]) -> Iterator[tuple[dict[str, Any], dict[str, Any]]]:
        """Yield ``(task, outcome)`` as tasks finish on the cluster.

        Each worker runs one file at a time, killed after its ``timeout_s``; so while any worker is alive some
        task finishes within the longest ``timeout_s`` plus ``report_grace_s``. When none does (every worker
        lost, scheduler stalled), the remaining tasks get a ``worker-lost`` outcome (retried next run) and are
        cancelled.
        """
        from dask.distributed import wait

        if not tasks:
            return
        futures = {}
        for t in tasks:
            payload = json.dumps({**t, "entry": self.entry})
            fut = self.client.submit(dask_task, payload, pure=False, retries=0,
                                     key=f"insole-batch-{t['job_key'][:24]}-{id(t):x}")
            futures[fut] = t
        bound = max(_bound(t, self.report_grace_s) for t in tasks)
        pending = set(futures)
        try:
            while pending:
                t0 = time.monotonic()
                try:
                    with self.client.as_current():  # wait() uses the current client (this one is not the default)
                        finished, _ = wait(list(pending), timeout=bound, return_when="FIRST_COMPLETED")
                except TimeoutError:
                    finished = set()
                if not finished:
                    waited = time.monotonic() - t0
                    for fut in sorted(pending, key=lambda f: futures[f]["rel_path"]):
                        yield futures[fut], lost(futures[fut], waited, "the Dask cluster")
                    return
                for fut in finished:
                    pending.discard(fut)
                    yield futures[fut], self._outcome(fut)
        finally:
            self.client.cancel(list(futures))

    @staticmethod
    def _outcome(fut: Any) -> dict[str, Any]:
        try:
            return json.loads(fut.result(timeout=60))
        except Exception as exc:  # KilledWorker, lost worker, ...: the file is not to blame for sure,
            return {"ok": False, "reason": "crashed",  # but it is the last one the worker ran
                    "message": f"the Dask worker failed while processing the file: {type(exc).__name__}: {exc}"}

    def close(self) -> None:
        """Disconnect from the scheduler (waiting at most 30 s)."""
        self.client.close(timeout=30)

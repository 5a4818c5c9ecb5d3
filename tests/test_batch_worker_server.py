"""The pre-fork server of Dask workers (pipeline.batch.worker_server) with real processes: every isolation
guarantee of mode "server", and no hang and no lost file when the server stalls, dies or does not start."""

from __future__ import annotations

import os
import signal
import sys
import time
from pathlib import Path

import psutil
import pytest

sys.path.insert(0, str(Path(__file__).parent))

from pipeline.batch import worker_server  # noqa: E402
from pipeline.batch.isolation import run_isolated  # noqa: E402


@pytest.fixture
def server(monkeypatch):
    """A fresh server for this process (the children import the test task modules from tests/)."""
    monkeypatch.setenv("PYTHONPATH", str(Path(__file__).parent))
    srv = worker_server.WorkerServer(fork_timeout_s=2.0)
    monkeypatch.setattr(worker_server, "_shared", srv)
    yield srv
    srv.close()


def run(task, entry, **kw):
    return run_isolated(task, timeout_s=kw.pop("timeout_s", 60), max_memory_mb=kw.pop("max_memory_mb", 512),
                        mode="server", entry=entry)


def gone(pid: int, within_s: float = 15.0) -> bool:
    deadline = time.monotonic() + within_s
    while time.monotonic() < deadline:
        try:
            if psutil.Process(pid).status() == psutil.STATUS_ZOMBIE:
                return True
        except psutil.NoSuchProcess:
            return True
        time.sleep(0.1)
    return False


def test_children_are_forked_from_one_server_and_reply_json(server):
    first = run({"a": [1, 2]}, "worker_server_tasks:lineage")
    second = run({}, "worker_server_tasks:lineage")
    assert first["ok"] and second["ok"]
    assert first["ppid"] == second["ppid"] == server.pid != os.getpid()  # the same server for both files
    assert first["pid"] != second["pid"]
    assert (server.starts, server.forked, server.fallbacks) == (1, 2, 0)


def test_timeout_memory_and_crash_are_the_childs_outcome(server):
    out = run({"sleep_s": 60}, "batch_tasks:sleepy", timeout_s=1.5)
    assert out["ok"] is False and out["reason"] == "timeout"
    out = run({"mb": 4096}, "batch_tasks:hungry", max_memory_mb=256)
    assert out["ok"] is False and out["reason"] == "memory"
    out = run({}, "batch_tasks:crash")
    assert out["ok"] is False and out["reason"] == "crashed" and "SIGABRT" in out["message"]
    assert run({}, "worker_server_tasks:lineage")["ppid"] == server.pid  # the server survived all three
    assert server.starts == 1 and server.fallbacks == 0


def test_a_stalled_server_costs_a_bounded_wait_and_the_file_runs_in_a_fresh_interpreter(server):
    run({}, "worker_server_tasks:lineage")
    stalled = server.pid
    os.kill(stalled, signal.SIGSTOP)
    try:
        out = run({}, "worker_server_tasks:lineage")
    finally:
        if psutil.pid_exists(stalled):
            os.kill(stalled, signal.SIGCONT)
    assert out["ok"] and out["ppid"] == os.getpid()  # python -m pipeline.batch.isolation, a child of ours
    assert server.fallbacks == 1 and gone(stalled)  # the stalled server was stopped
    again = run({}, "worker_server_tasks:lineage")
    assert again["ok"] and again["ppid"] == server.pid != stalled and server.starts == 2


def test_a_server_killed_during_a_file_loses_neither_that_file_nor_the_next(server):
    run({}, "worker_server_tasks:lineage")
    victim = server.pid
    child = server.fork("worker_server_tasks:lineage", {"sleep_s": 1.0}, 512, 60)
    os.kill(victim, signal.SIGKILL)
    from pipeline.batch.isolation import _collect_server_child

    out = _collect_server_child(child, 30, 512, time.perf_counter())
    assert out["ok"] and out["pid"] == child.pid  # the orphaned child still delivered its reply
    nxt = run({}, "worker_server_tasks:lineage")
    assert nxt["ok"] and nxt["ppid"] == server.pid != victim and server.starts == 2


def test_a_server_that_never_becomes_ready_falls_back_and_stops_being_retried(monkeypatch):
    monkeypatch.setenv("PYTHONPATH", str(Path(__file__).parent))
    srv = worker_server.WorkerServer(start_timeout_s=0.05)  # far less than the imports and warm-up take
    monkeypatch.setattr(worker_server, "_shared", srv)
    for _ in range(worker_server.MAX_START_FAILURES + 1):
        out = run({}, "worker_server_tasks:lineage")
        assert out["ok"] and out["ppid"] == os.getpid()
    assert srv.starts == worker_server.MAX_START_FAILURES  # then no more attempts in this process
    assert srv.fallbacks == worker_server.MAX_START_FAILURES + 1 and srv.pid is None


def test_closing_the_worker_side_kills_the_running_children_and_the_server(server):
    run({}, "worker_server_tasks:lineage")
    pid = server.pid
    child = server.fork("batch_tasks:sleepy", {"sleep_s": 60}, 512, 120)
    assert psutil.Process(child.pid).ppid() == pid
    server.close()  # what the kernel does when the worker process dies
    assert gone(child.pid) and gone(pid)
    child.close()

"""The batch on a real Dask distributed cluster (scheduler + nanny-started, daemonic worker processes started here,
on 127.0.0.1) gives exactly the outputs of the local run; each file runs in a child forked from the worker's
pre-fork server, with the same timeout and memory guard."""

from __future__ import annotations

import sqlite3
import sys
import time
from pathlib import Path

import psutil
import pytest

TESTS = Path(__file__).parent
sys.path.insert(0, str(TESTS))

from batch_inbox import build_inbox  # noqa: E402
from test_batch_night import summary_rows, tree_digest  # noqa: E402

from pipeline.batch.night import BatchConfig, run_night  # noqa: E402
from pipeline.batch.progress import NightProgress  # noqa: E402
from pipeline.batch.safety import Limits  # noqa: E402
from pipeline.batch.worker_server import server_info  # noqa: E402

distributed = pytest.importorskip("dask.distributed")


@pytest.fixture(scope="module")
def cluster():
    """Two nanny-started worker processes (Dask's defaults: processes=True, daemonic workers), one thread each."""
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True, host="127.0.0.1",
                                  dashboard_address=None) as cl, distributed.Client(cl) as client:
        yield cl, client


def servers(client) -> dict[str, dict]:
    return client.run(server_info)


def test_dask_cluster_gives_the_same_outputs_as_local_processes(tmp_path, cluster, batch_bases):
    cl, client = cluster
    before = servers(client)
    assert all(info["worker_daemonic"] for info in before.values())  # what multiprocessing refuses children to
    inbox = build_inbox(tmp_path / "inbox", batch_bases, n_good=8, outside=tmp_path / "outside", hostile=1)
    quiet = NightProgress(quiet=True)
    local = run_night(BatchConfig(inbox=inbox.root, out_dir=tmp_path / "local", workers=2), quiet)
    cfg = BatchConfig(inbox=inbox.root, out_dir=tmp_path / "dask", scheduler=cl.scheduler_address)
    remote = run_night(cfg, quiet)
    assert remote.counts["processed"] == local.counts["processed"] >= len(inbox.good)
    assert remote.counts["quarantined"] == local.counts["quarantined"] >= len(inbox.bad)
    assert tree_digest(tmp_path / "dask") == tree_digest(tmp_path / "local")
    # the work really ran on the cluster's workers, each file in a child forked from the worker's server
    runner = sqlite3.connect(tmp_path / "dask" / "ledger.sqlite").execute(
        "SELECT options_json FROM runs").fetchone()[0]
    assert "Dask scheduler tcp://127.0.0.1" in runner and "2 worker(s)" in runner
    after = servers(client)
    forked = sum(a["forked"] - before[w]["forked"] for w, a in after.items())
    assert forked >= remote.counts["processed"]
    assert all(a["fallbacks"] == 0 and a["starts"] <= 1 for a in after.values())  # started once, reused
    assert all(a["pid"] is not None for a in after.values() if a["forked"])
    assert run_night(cfg, quiet).counts["processed"] == 0  # a rerun there does nothing
    rows = summary_rows(tmp_path / "dask")
    assert {r["reason"] for r in rows.values() if r["status"] == "quarantined"} >= set(inbox.bad.values())


@pytest.mark.parametrize(("entry", "limits", "reason"), [
    ("batch_tasks:sleepy", {"timeout_s": 1.5}, "timeout"),
    ("batch_tasks:hungry_task", {"max_memory_mb": 256}, "memory"),
])
def test_a_file_that_hangs_or_eats_memory_on_a_dask_worker_gets_its_outcome(tmp_path, cluster, entry, limits,
                                                                             reason, batch_bases):
    """Test task functions stand in for a pathological file (the workers import them from tests/)."""
    cl, client = cluster
    before = servers(client)
    small = build_inbox(tmp_path / "inbox", batch_bases, n_good=2, outside=tmp_path / "outside", hostile=0)
    cfg = BatchConfig(inbox=small.root, out_dir=tmp_path / "out", scheduler=cl.scheduler_address, entry=entry,
                      limits=Limits(**limits))
    result = run_night(cfg, NightProgress(quiet=True))
    rows = summary_rows(tmp_path / "out")
    assert result.exit_code == 3 and result.counts["processed"] == 0
    assert {r["reason"] for r in rows.values() if r["status"] == "quarantined"} == {reason}
    after = servers(client)
    ran = [r for r in rows.values() if not r["duplicate_of"]]  # a duplicate shares its original's outcome
    assert sum(a["forked"] - before[w]["forked"] for w, a in after.items()) == len(ran) >= 2
    assert all(a["fallbacks"] == 0 for a in after.values())


def gone(proc: psutil.Process, within_s: float) -> bool:
    deadline = time.monotonic() + within_s
    while time.monotonic() < deadline:
        try:
            if proc.status() == psutil.STATUS_ZOMBIE:
                return True
        except psutil.NoSuchProcess:
            return True
        time.sleep(0.2)
    return False


def test_a_worker_killed_by_its_nanny_takes_its_server_and_running_child_along(cluster):
    """Runs last on the module's cluster: ``Client.restart`` has every nanny kill and restart its worker."""
    from pipeline.batch.runner import dask_task

    cl, client = cluster
    fut = client.submit(dask_task, '{"rel_path": "x", "sleep_s": 120, "entry": "batch_tasks:sleepy"}', pure=False)
    deadline = time.monotonic() + 60
    busy: list[tuple[psutil.Process, list[psutil.Process]]] = []
    while not busy and time.monotonic() < deadline:
        time.sleep(0.2)
        for info in servers(client).values():
            if info["pid"] is not None and (kids := psutil.Process(info["pid"]).children()):
                busy.append((psutil.Process(info["pid"]), kids))
    assert busy, "no child was forked for the running task within 60 s"
    (server, kids), = busy
    client.restart(timeout="60s")
    fut.cancel()
    assert gone(server, 20) and all(gone(k, 20) for k in kids)

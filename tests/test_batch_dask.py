"""The batch on a real Dask distributed cluster (scheduler + worker processes started here, on 127.0.0.1)
gives exactly the outputs of the local run."""

from __future__ import annotations

import sqlite3
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))

from batch_inbox import build_inbox  # noqa: E402
from test_batch_night import summary_rows, tree_digest  # noqa: E402

from pipeline.batch.night import BatchConfig, run_night  # noqa: E402
from pipeline.batch.progress import NightProgress  # noqa: E402

distributed = pytest.importorskip("dask.distributed")


@pytest.mark.parametrize("daemon", [False, True], ids=["forked-children", "subprocess-children"])
def test_dask_cluster_gives_the_same_outputs_as_local_processes(tmp_path, daemon, batch_bases):
    """Non-daemonic workers fork each file's child from a preloaded server; daemonic ones (Dask's default) start
    a fresh interpreter per file (slower, so a smaller inbox)."""
    import dask

    bases = batch_bases
    inbox = build_inbox(tmp_path / "inbox", bases, n_good=8 if not daemon else 2, outside=tmp_path / "outside",
                        hostile=1 if not daemon else 0)
    quiet = NightProgress(quiet=True)
    local = run_night(BatchConfig(inbox=inbox.root, out_dir=tmp_path / "local", workers=2), quiet)
    with dask.config.set({"distributed.worker.daemon": daemon}), distributed.LocalCluster(
            n_workers=2, threads_per_worker=1, processes=True, host="127.0.0.1", dashboard_address=None) as cluster:
        cfg = BatchConfig(inbox=inbox.root, out_dir=tmp_path / "dask", scheduler=cluster.scheduler_address)
        remote = run_night(cfg, quiet)
        assert remote.counts["processed"] == local.counts["processed"] >= len(inbox.good)
        assert remote.counts["quarantined"] == local.counts["quarantined"] >= len(inbox.bad)
        assert tree_digest(tmp_path / "dask") == tree_digest(tmp_path / "local")
        # the work really ran on the cluster's workers, and a rerun there does nothing
        runner = sqlite3.connect(tmp_path / "dask" / "ledger.sqlite").execute(
            "SELECT options_json FROM runs").fetchone()[0]
        assert "Dask scheduler tcp://127.0.0.1" in runner and "2 worker(s)" in runner
        assert run_night(cfg, quiet).counts["processed"] == 0
    rows = summary_rows(tmp_path / "dask")
    assert {r["reason"] for r in rows.values() if r["status"] == "quarantined"} >= set(inbox.bad.values())

"""Task functions for the isolation tests (imported by the real child processes, so they live in a module)."""

from __future__ import annotations

import os
import time
from typing import Any


def sleepy(task: dict[str, Any]) -> dict[str, Any]:
    """Sleep longer than any test timeout."""
    time.sleep(float(task.get("sleep_s", 60)))
    return {"ok": True}


def hungry(task: dict[str, Any]) -> dict[str, Any]:
    """Allocate (and touch) far more memory than the guard allows."""
    block = bytearray(int(task["mb"]) * 2**20)
    return {"ok": True, "size": len(block)}


def crash(task: dict[str, Any]) -> dict[str, Any]:
    """Die abruptly, as a library crash on a malformed file would."""
    os.abort()


def echo(task: dict[str, Any]) -> dict[str, Any]:
    """Return the task and the child's pid."""
    return {"ok": True, "task": task, "pid": os.getpid()}


def hungry_task(task: dict[str, Any]) -> dict[str, Any]:
    """A batch task that over-allocates (8 GiB) whatever file it is given."""
    return hungry({"mb": 8192})


def replaced_before_reading(task: dict[str, Any]) -> dict[str, Any]:
    """The real batch task, after the clinic changed the upload between planning and processing.

    A sibling ``<upload>.replacement`` is renamed over the upload (the atomic replace upload tools do); a sibling
    ``<upload>.vanish`` makes the upload disappear (moved to ``<upload>.away``, to be restored by the test).
    Neither sibling matches an input format, so the batch ignores them.
    """
    from pathlib import Path

    from pipeline.batch.process import process_task

    path = Path(task["path"])
    replacement = path.with_name(path.name + ".replacement")
    if replacement.exists():
        os.replace(replacement, path)
    vanish = path.with_name(path.name + ".vanish")
    if vanish.exists():
        os.replace(path, path.with_name(path.name + ".away"))
        vanish.unlink()
    return process_task(task)


def small_disk_task(task: dict[str, Any]) -> dict[str, Any]:
    """The real batch task in a worker whose files cannot grow beyond ``$INSOLE_TEST_WORKER_FSIZE`` bytes."""
    from batch_os import limit_file_size

    from pipeline.batch.process import process_task

    limit_file_size(int(os.environ["INSOLE_TEST_WORKER_FSIZE"]))
    return process_task(task)

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

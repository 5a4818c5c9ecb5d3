"""Task functions for the pre-fork server tests (imported by the real children, so they live in a module)."""

from __future__ import annotations

import os
import time
from typing import Any


def lineage(task: dict[str, Any]) -> dict[str, Any]:
    """Sleep ``sleep_s`` (default 0), then return the child's pid and its parent's pid."""
    time.sleep(float(task.get("sleep_s", 0)))
    return {"ok": True, "pid": os.getpid(), "ppid": os.getppid()}

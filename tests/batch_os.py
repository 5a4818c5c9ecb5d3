"""Operating-system conditions for the batch tests: permissions that hold even for root, and a small "disk".

* :func:`without_permission_override` is a ``preexec_fn`` for :mod:`subprocess`: when the tests run as root (as in
  containers), it drops the capabilities that let root ignore file permissions (``CAP_DAC_OVERRIDE``,
  ``CAP_DAC_READ_SEARCH``) from the child's bounding set, so that a folder with mode 000 really cannot be listed
  and a read-only folder really cannot be written, exactly as for the unprivileged ``insole`` service user.
  For a non-root user it does nothing (permissions apply anyway).
* :func:`limit_file_size` makes every file written by the calling process (and its children) fail beyond a size
  with ``EFBIG`` (``RLIMIT_FSIZE``, ``SIGXFSZ`` ignored), the kernel's own "no more room" for a writer.
"""

from __future__ import annotations

import ctypes
import os
import resource
import signal
import subprocess
import sys
from pathlib import Path

_PR_CAPBSET_DROP = 24
_CAP_DAC_OVERRIDE, _CAP_DAC_READ_SEARCH = 1, 2


def without_permission_override() -> None:
    """In a child before ``exec``: make file permissions binding even for root (see the module notes)."""
    if os.geteuid() != 0:
        return
    libc = ctypes.CDLL(None, use_errno=True)
    for cap in (_CAP_DAC_OVERRIDE, _CAP_DAC_READ_SEARCH):
        if libc.prctl(_PR_CAPBSET_DROP, cap, 0, 0, 0) != 0:
            raise OSError(ctypes.get_errno(), "prctl(PR_CAPBSET_DROP) refused")


def permissions_are_enforced(tmp: Path) -> bool:
    """True when a child started with :func:`without_permission_override` cannot list a mode-000 folder."""
    locked = tmp / "permission-probe"
    locked.mkdir()
    locked.chmod(0)
    try:
        r = subprocess.run([sys.executable, "-c", f"import os; os.listdir({str(locked)!r})"],
                           preexec_fn=without_permission_override, capture_output=True, timeout=60)
        return r.returncode != 0
    except (OSError, subprocess.SubprocessError):
        return False
    finally:
        locked.chmod(0o755)
        locked.rmdir()


def limit_file_size(max_bytes: int) -> None:
    """Let every later write of this process (and of its children) beyond ``max_bytes`` fail with EFBIG."""
    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
    _soft, hard = resource.getrlimit(resource.RLIMIT_FSIZE)
    resource.setrlimit(resource.RLIMIT_FSIZE, (max_bytes, hard))

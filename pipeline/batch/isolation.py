"""Run one task in its own child process with a wall-clock timeout and a memory guard.

Every file of the night is processed in a fresh child process, so a hostile upload that hangs, exhausts memory
or crashes the HDF5 library takes down only its own child:

* **timeout**: the parent waits ``timeout_s`` and then kills the child (SIGKILL); the child also arms
  ``SIGALRM`` (default action: terminate) a little later, so an orphaned child whose parent was killed still dies;
* **memory guard**: the child limits its address space (``RLIMIT_AS``) to what it maps at start plus
  ``max_memory_mb``; a bigger allocation raises ``MemoryError`` (reported as reason ``memory``) or kills the
  child (reported as ``crashed``);
* **no unpickling of untrusted data**: the child reports back a JSON text, never a pickle;
* **bounded waits**: the parent reads the reply with a deadline (a child stopped half-way through its reply is
  killed at the timeout), and every ``join`` after a kill has its own bound.

Three ways to start the child:

``"fork"``
    multiprocessing's *forkserver*: the server process imports the pipeline once (and warms it up, see
    :mod:`pipeline.batch.prefork`), and each child is forked from it (milliseconds instead of the ~1 s interpreter
    start). Used by the local runner.
``"server"``
    our own pre-fork server (:mod:`pipeline.batch.worker_server`), started with :class:`subprocess.Popen` once
    per process on its first file, preloaded and warmed up as above. Used on Dask workers: those started by a
    nanny (Dask's default) are daemonic, and multiprocessing refuses children to daemonic processes. The same
    guarantees hold (the parent kills the child by pid at the timeout; the server reports the exit code); a file
    the server cannot take (it does not start, stops answering within its bounds, or died) runs as with
    ``"subprocess"``, so no file is lost to a broken server.
``"subprocess"``
    ``python -m pipeline.batch.isolation`` with the task as JSON on stdin (about 1 s of interpreter start and
    imports per file). The fallback of ``"server"``.
"""

from __future__ import annotations

import importlib
import json
import math
import multiprocessing
import os
import resource
import select
import signal
import struct
import subprocess
import sys
import time
import traceback
from pathlib import Path
from typing import Any

import pipeline

#: Default task: process one upload.
DEFAULT_ENTRY = "pipeline.batch.process:process_task"
#: Seconds the child's own alarm fires after the parent's timeout (safety net for orphans).
ALARM_GRACE_S = 10
#: One BLAS/OpenMP thread per child, and one thread for the analysis's own parallel parts (``insole.threads``):
#: parallelism comes from running several children.
THREAD_ENV = {"OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1", "MKL_NUM_THREADS": "1", "INSOLE_THREADS": "1"}

_FORKSERVER_READY = False
#: Environment variable telling the worker server the path of the parent's main script.
MAIN_PATH_ENV = "INSOLE_BATCH_PARENT_MAIN"


def _address_space_bytes() -> int | None:
    try:
        with open("/proc/self/statm") as fh:
            pages = int(fh.read().split()[0])
        return pages * os.sysconf("SC_PAGE_SIZE")
    except (OSError, ValueError, IndexError):
        return None


def _guard(max_memory_mb: float, hard_timeout_s: float) -> None:
    """Arm the memory guard and the orphan alarm in the current (child) process."""
    if hard_timeout_s and math.isfinite(hard_timeout_s):
        signal.signal(signal.SIGALRM, signal.SIG_DFL)
        signal.alarm(max(1, math.ceil(hard_timeout_s)))
    if max_memory_mb and math.isfinite(max_memory_mb):
        base = _address_space_bytes()
        if base is not None:
            limit = base + int(max_memory_mb * 2**20)
            _soft, hard = resource.getrlimit(resource.RLIMIT_AS)
            if hard != resource.RLIM_INFINITY:
                limit = min(limit, hard)
            resource.setrlimit(resource.RLIMIT_AS, (limit, hard))


def _resolve(entry: str) -> Any:
    module, _, name = entry.partition(":")
    return getattr(importlib.import_module(module), name)


def run_entry(entry: str, task: dict[str, Any], max_memory_mb: float, hard_timeout_s: float) -> str:
    """In the child: arm the guards, run ``entry(task)`` and return its result as JSON text."""
    _guard(max_memory_mb, hard_timeout_s)
    try:
        result = _resolve(entry)(task)
    except MemoryError:
        result = {"ok": False, "reason": "memory",
                  "message": f"ran out of the memory allowed per file ({max_memory_mb:g} MB)"}
    except Exception as exc:  # the entry should not raise; report it instead of dying silently
        result = {"ok": False, "reason": "analysis-error", "message": f"{type(exc).__name__}: {exc}",
                  "detail": traceback.format_exc(limit=20)}
    return json.dumps(result)


#: Largest reply a child may send (a JSON outcome is a few kB; anything larger is treated as a crash).
MAX_REPLY_BYTES = 64 * 2**20


def framed(data: bytes) -> bytes:
    """``data`` with its length in front: the framing of every message between the batch's processes."""
    return struct.pack("!Q", len(data)) + data


def send_reply(fd: int, data: bytes) -> None:
    """Write a length-prefixed reply to a pipe (read back by :func:`receive_frame`)."""
    view = memoryview(framed(data))
    while view:
        view = view[os.write(fd, view):]


def receive_frame(fd: int, deadline: float, max_bytes: int = MAX_REPLY_BYTES) -> bytes | None:
    """Read one length-prefixed message (:func:`framed`), waiting at most until ``deadline`` (``time.monotonic``).

    Returns None when the writer closed the pipe before a complete message (a child that died) or announced more
    than ``max_bytes``; raises ``TimeoutError`` at the deadline, so a child that stops half-way through its reply
    cannot block the night.
    """
    buf = bytearray()
    need = 8
    poller = select.poll()
    poller.register(fd, select.POLLIN)
    while len(buf) < need:
        remaining = deadline - time.monotonic()
        if remaining <= 0 or not poller.poll(remaining * 1000):
            raise TimeoutError
        chunk = os.read(fd, min(1 << 20, need - len(buf)))
        if not chunk:
            return None
        buf += chunk
        if need == 8 and len(buf) == 8:
            need += struct.unpack("!Q", bytes(buf))[0]
            if need > 8 + max_bytes:
                return None
    return bytes(buf[8:])


def _fork_target(entry: str, task_json: str, max_memory_mb: float, hard_timeout_s: float, conn: Any) -> None:
    text = run_entry(entry, json.loads(task_json), max_memory_mb, hard_timeout_s)
    send_reply(conn.fileno(), text.encode("utf-8"))
    conn.close()


def _forkserver_context() -> multiprocessing.context.BaseContext:
    global _FORKSERVER_READY
    ctx = multiprocessing.get_context("forkserver")
    if not _FORKSERVER_READY:
        for key, value in THREAD_ENV.items():
            os.environ.setdefault(key, value)
        # the server must import this very copy of the package (not another install of it)
        root = str(Path(pipeline.__file__).resolve().parents[1])
        paths = os.environ.get("PYTHONPATH", "").split(os.pathsep)
        if root not in paths:
            os.environ["PYTHONPATH"] = os.pathsep.join([root, *filter(None, paths)])
        # multiprocessing re-runs the parent's main script in every child (to find functions defined there); ours
        # live in modules, so the server pretends to be that script and children skip the re-run (see prefork)
        main_file = getattr(sys.modules.get("__main__"), "__file__", None)
        if main_file:
            origin = multiprocessing.process.ORIGINAL_DIR or ""
            os.environ[MAIN_PATH_ENV] = os.path.normpath(os.path.join(origin, main_file))
        ctx.set_forkserver_preload(["pipeline.batch.prefork"])
        _FORKSERVER_READY = True
    return ctx


def _failure(reason: str, message: str, duration_s: float, detail: str = "") -> dict[str, Any]:
    return {"ok": False, "reason": reason, "message": message, "duration_s": duration_s, "detail": detail}


def _died(code: int | None, max_memory_mb: float) -> str:
    if code is not None and code < 0:
        try:
            name = signal.Signals(-code).name
        except ValueError:
            name = f"signal {-code}"
        return (f"the worker process died ({name}) while processing the file; a crash in a library on malformed "
                f"input, or the memory guard ({max_memory_mb:g} MB) being hit")
    return f"the worker process exited (code {code}) without a result"


def run_isolated(
    task: dict[str, Any],
    *,
    timeout_s: float,
    max_memory_mb: float,
    mode: str = "fork",
    entry: str = DEFAULT_ENTRY,
) -> dict[str, Any]:
    """Run ``entry(task)`` in a child process under a timeout and memory guard.

    Parameters
    ----------
    task : dict
        Plain, JSON-serialisable task.
    timeout_s : float
        Wall-clock limit; the child is killed after it (reason ``timeout``).
    max_memory_mb : float
        Address space the child may add to what it maps at start.
    mode : {"fork", "server", "subprocess"}
        How to start the child (see the module notes). With ``"server"``, a file the pre-fork server cannot take
        (it does not start, stops answering or died) runs as with ``"subprocess"``.
    entry : str
        ``"module:function"`` to call with ``task``; returns a JSON-ready dict.

    Returns
    -------
    dict
        The entry's result, or a failure dict with ``reason`` ``timeout`` / ``crashed`` / ``memory``.
    """
    t0 = time.perf_counter()
    hard = timeout_s + ALARM_GRACE_S
    if mode == "fork":
        return _run_forkserver(entry, task, timeout_s, max_memory_mb, hard, t0)
    if mode == "server":
        from pipeline.batch import worker_server

        server = worker_server.shared()
        try:
            child = server.fork(entry, task, max_memory_mb, hard)
        except worker_server.ServerUnavailable as exc:
            server.fallbacks += 1
            print(f"insole batch: {exc}; {task.get('rel_path', 'this file')} runs in a fresh interpreter instead",
                  file=sys.stderr)
            return _run_subprocess(entry, task, timeout_s, max_memory_mb, hard, t0)
        return _collect_server_child(child, timeout_s, max_memory_mb, t0)
    if mode == "subprocess":
        return _run_subprocess(entry, task, timeout_s, max_memory_mb, hard, t0)
    raise ValueError(f"mode must be 'fork', 'server' or 'subprocess', got {mode!r}")


def _timed_out(timeout_s: float, t0: float) -> dict[str, Any]:
    return _failure("timeout", f"processing took longer than the limit of {timeout_s:g} s; the worker was stopped",
                    time.perf_counter() - t0)


def _run_forkserver(entry: str, task: dict[str, Any], timeout_s: float, max_memory_mb: float, hard: float,
                    t0: float) -> dict[str, Any]:
    ctx = _forkserver_context()
    reader, writer = ctx.Pipe(duplex=False)
    proc = ctx.Process(target=_fork_target, args=(entry, json.dumps(task), max_memory_mb, hard, writer),
                       daemon=True)
    proc.start()
    writer.close()
    try:
        data = receive_frame(reader.fileno(), time.monotonic() + timeout_s)
    except TimeoutError:
        proc.kill()
        proc.join(5)
        return _timed_out(timeout_s, t0)
    finally:
        reader.close()
    proc.join(10)
    if proc.is_alive():
        proc.kill()
        proc.join(5)
    if data is None:
        return _failure("crashed", _died(proc.exitcode, max_memory_mb), time.perf_counter() - t0)
    return json.loads(data.decode("utf-8"))


def _collect_server_child(child: Any, timeout_s: float, max_memory_mb: float, t0: float) -> dict[str, Any]:
    """Wait for a child of :mod:`pipeline.batch.worker_server`: its reply by the timeout, then its exit code."""
    try:
        try:
            data = receive_frame(child.reply_fd, time.monotonic() + timeout_s)
        except TimeoutError:
            child.kill()
            child.exit_code()
            return _timed_out(timeout_s, t0)
        code = child.exit_code()
        if code is None and data is None:  # no status (server gone or slow) and no reply: make sure it is dead
            child.kill()
        if data is None:
            return _failure("crashed", _died(code, max_memory_mb), time.perf_counter() - t0)
        return json.loads(data.decode("utf-8"))
    finally:
        child.close()


def _run_subprocess(entry: str, task: dict[str, Any], timeout_s: float, max_memory_mb: float, hard: float,
                    t0: float) -> dict[str, Any]:
    env = dict(os.environ)
    env.update(THREAD_ENV)
    root = str(Path(pipeline.__file__).resolve().parents[1])
    env["PYTHONPATH"] = os.pathsep.join([root, *filter(None, [env.get("PYTHONPATH")])])
    payload = json.dumps({"entry": entry, "task": task, "max_memory_mb": max_memory_mb, "hard_timeout_s": hard})
    try:
        proc = subprocess.run(
            [sys.executable, "-m", "pipeline.batch.isolation"],
            input=payload, capture_output=True, text=True, timeout=timeout_s, env=env,
        )
    except subprocess.TimeoutExpired:
        return _timed_out(timeout_s, t0)
    lines = proc.stdout.strip().splitlines()
    if proc.returncode != 0 or not lines:
        return _failure("crashed", _died(proc.returncode, max_memory_mb), time.perf_counter() - t0,
                        detail=proc.stderr[-4000:])
    return json.loads(lines[-1])


def _main() -> None:
    """``python -m pipeline.batch.isolation``: run one task given as JSON on stdin, print the JSON result."""
    payload = json.loads(sys.stdin.read())
    out = run_entry(payload["entry"], payload["task"], float(payload["max_memory_mb"]),
                    float(payload["hard_timeout_s"]))
    sys.stdout.write("\n" + out + "\n")
    sys.stdout.flush()


if __name__ == "__main__":
    _main()

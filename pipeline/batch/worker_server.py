"""A pre-fork server of our own: one warmed process per Dask worker that forks a child per file.

Dask workers started by a nanny (Dask's default) are daemonic processes, and multiprocessing forbids daemonic
processes to start children, so the multiprocessing *forkserver* of the local runner is not available there. This
server is started with :class:`subprocess.Popen` instead (once per worker process, on its first file) and talks
to the worker through pipes only (no sockets: the packages open none, see ``tests/test_architecture.py``):

* the server imports :mod:`pipeline.batch.prefork` (the per-file code, one warm-up walk, ``gc.freeze``) and then
  writes one *ready* message on an inherited pipe;
* per file the worker makes two FIFOs in its private temporary folder (mode 0700), opens their read ends and
  writes one request on the server's stdin (length-prefixed JSON: entry, task, limits, the two FIFO paths). The
  server opens the write ends: the *reply* FIFO, on which the child writes its JSON outcome (the length-prefixed
  framing of :mod:`pipeline.batch.isolation`), and the *status* FIFO, on which the server writes the child's pid
  as soon as it has forked it and its exit code (negative: killed by that signal) when it has reaped it;
* the child runs :func:`pipeline.batch.isolation.run_entry` (memory guard and orphan alarm armed there) and leaves
  with ``os._exit``; the worker kills it by pid at the file's timeout;
* the server exits when its stdin reaches end-of-file (the worker ended or was killed by its nanny), and kills
  the children still running first: nobody is left to read their results.

Nothing is unpickled anywhere: requests, replies and status are JSON text and fixed-size integers.

Every wait of the worker side is bounded (:data:`START_TIMEOUT_S`, :data:`FORK_TIMEOUT_S`); a server that does not
start, stops answering or dies raises :class:`ServerUnavailable`, and :func:`pipeline.batch.isolation.run_isolated`
then runs that file in a fresh interpreter instead (mode ``"subprocess"``). The next file starts a new server,
unless :data:`MAX_START_FAILURES` starts in a row have failed: then this worker stays on fresh interpreters.
"""

from __future__ import annotations

import atexit
import json
import os
import select
import shutil
import signal
import struct
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pipeline
from pipeline.batch.isolation import MAIN_PATH_ENV, THREAD_ENV, framed, receive_frame, send_reply
from pipeline.errors import PipelineError

#: Bound on the server's start: interpreter, imports and the warm-up walk of :mod:`pipeline.batch.prefork`
#: (measured 8.5 s to the first child's reply on the shared 2-core machine at a load average of 3; generous on
#: purpose, a start that takes longer means something is wrong, and the wait happens once per worker process).
START_TIMEOUT_S = 120.0
#: Bound on the server's answer (the child's pid) to one request; forking takes milliseconds.
FORK_TIMEOUT_S = 10.0
#: Bound on the exit status after the child's reply (or after it was killed); the server reaps at once.
STATUS_TIMEOUT_S = 10.0
#: Consecutive failed starts after which a worker process stops trying and uses fresh interpreters.
MAX_START_FAILURES = 2
#: Largest request (a task is a few hundred bytes of paths, limits and parameters).
MAX_REQUEST_BYTES = 1 << 20
#: Environment variable carrying the worker's ``sys.path`` to the server (as multiprocessing passes it to its own).
SYS_PATH_ENV = "INSOLE_BATCH_SYS_PATH"
#: Signed exit code or pid on the status pipe.
_INT = struct.Struct("!q")


class ServerUnavailable(PipelineError):
    """The pre-fork server could not be started or stopped answering; run the file another way."""


def _wait_readable(fd: int, deadline: float) -> None:
    """Wait until ``fd`` is readable (or at EOF) by ``deadline`` (``time.monotonic``), else ``TimeoutError``.

    ``poll``, not ``select``: a busy Dask worker may hold descriptors beyond select's limit of 1024.
    """
    poller = select.poll()
    poller.register(fd, select.POLLIN)
    if not poller.poll(max(0.0, deadline - time.monotonic()) * 1000):
        raise TimeoutError


def _read_exact(fd: int, n: int, deadline: float) -> bytes | None:
    """``n`` bytes from ``fd`` by ``deadline`` (``time.monotonic``); None on EOF; ``TimeoutError`` at the deadline."""
    buf = b""
    while len(buf) < n:
        _wait_readable(fd, deadline)
        chunk = os.read(fd, n - len(buf))
        if not chunk:
            return None
        buf += chunk
    return buf


@dataclass
class Child:
    """One forked child as the worker sees it: its pid, the read end of its reply pipe and of its status pipe."""

    pid: int
    reply_fd: int
    status_fd: int
    _code: int | None = None
    _status_done: bool = False

    def exit_code(self, timeout_s: float = STATUS_TIMEOUT_S) -> int | None:
        """The child's exit code as the server reaped it (negative: signal), waiting at most ``timeout_s``.

        None when the server went away before reporting it or did not report it in time.
        """
        if not self._status_done:
            try:
                data = _read_exact(self.status_fd, _INT.size, time.monotonic() + timeout_s)
            except TimeoutError:
                return None
            self._status_done = True
            self._code = None if data is None else _INT.unpack(data)[0]
        return self._code

    def kill(self) -> None:
        """SIGKILL the child unless the server has already reaped it (then its pid may belong to someone else).

        Between that check and the kill the child may die and be reaped; the same (microseconds) window as
        multiprocessing's own forkserver children, which are killed by pid as well.
        """
        if self.exit_code(0.0) is None:
            try:
                os.kill(self.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass

    def close(self) -> None:
        """Close both pipe ends (idempotent)."""
        for fd in (self.reply_fd, self.status_fd):
            try:
                os.close(fd)
            except OSError:
                pass
        self.reply_fd = self.status_fd = -1


class WorkerServer:
    """The worker side of the pre-fork server: starts it lazily, asks it for children, notices when it is gone.

    Thread-safe: a Dask worker with several threads forks several children through the same server.

    Parameters
    ----------
    start_timeout_s, fork_timeout_s : float
        See :data:`START_TIMEOUT_S` and :data:`FORK_TIMEOUT_S`.
    """

    def __init__(self, *, start_timeout_s: float = START_TIMEOUT_S, fork_timeout_s: float = FORK_TIMEOUT_S) -> None:
        self.start_timeout_s = start_timeout_s
        self.fork_timeout_s = fork_timeout_s
        self._lock = threading.Lock()
        self._proc: subprocess.Popen[bytes] | None = None
        self._dir: str | None = None
        self._seq = 0
        self.starts = 0
        self.start_failures = 0
        self.forked = 0
        self.fallbacks = 0

    # ------------------------------------------------------------------------------------------ lifecycle
    def _start(self) -> None:
        ready_r, ready_w = os.pipe()
        env = dict(os.environ)
        env.update(THREAD_ENV)  # one BLAS thread per child, as in the local runner
        root = str(Path(pipeline.__file__).resolve().parents[1])  # this very copy of the package
        env["PYTHONPATH"] = os.pathsep.join([root, *filter(None, [env.get("PYTHONPATH")])])
        env[SYS_PATH_ENV] = json.dumps([root, *sys.path])  # entries importable here are importable in children
        env.pop(MAIN_PATH_ENV, None)  # multiprocessing's concern only (see pipeline.batch.prefork)
        try:
            proc = subprocess.Popen([sys.executable, "-m", "pipeline.batch.worker_server", str(ready_w)],
                                    pass_fds=[ready_w], stdin=subprocess.PIPE, env=env,
                                    start_new_session=True)  # a Ctrl-C meant for the worker is the worker's
        except OSError as exc:
            os.close(ready_r)
            raise ServerUnavailable(f"cannot start the pre-fork server: {exc}") from None
        finally:
            os.close(ready_w)
        self.starts += 1
        try:
            data = receive_frame(ready_r, time.monotonic() + self.start_timeout_s, MAX_REQUEST_BYTES)
            ready = json.loads(data or b"{}").get("ready") is True
        except (TimeoutError, ValueError, AttributeError):
            ready = False
        finally:
            os.close(ready_r)
        if not ready:
            _stop(proc)
            raise ServerUnavailable(
                f"the pre-fork server did not become ready within {self.start_timeout_s:g} s (exit code "
                f"{proc.returncode}); its error, if any, is in this worker's log")
        assert proc.stdin is not None
        os.set_blocking(proc.stdin.fileno(), False)  # writes are bounded with poll (a stalled server)
        self._proc = proc
        self._dir = tempfile.mkdtemp(prefix="insole-batch-server-")  # 0700: our FIFOs only

    def _server(self) -> subprocess.Popen[bytes]:
        if self._proc is not None and self._proc.poll() is None:
            return self._proc
        self._discard()
        if self.start_failures >= MAX_START_FAILURES:
            raise ServerUnavailable(f"the pre-fork server failed to start {self.start_failures} times in a row; "
                                    "this worker runs each file in a fresh interpreter")
        try:
            self._start()
        except ServerUnavailable:
            self.start_failures += 1
            raise
        self.start_failures = 0
        assert self._proc is not None
        return self._proc

    def _discard(self, *, kill: bool = False) -> None:
        """Stop the server; ``kill``: SIGKILL it at once, leaving its running children (other threads' files) to
        finish and reply on their own pipes instead of being killed by a server that sees its stdin close."""
        if kill and self._proc is not None and self._proc.poll() is None:
            self._proc.kill()
        if self._proc is not None:
            _stop(self._proc)
        if self._dir is not None:
            shutil.rmtree(self._dir, ignore_errors=True)
        self._proc = self._dir = None

    def close(self) -> None:
        """Stop the server (its running children are killed); the next :meth:`fork` starts a new one."""
        with self._lock:
            self._discard()

    @property
    def pid(self) -> int | None:
        """The running server's pid, or None."""
        proc = self._proc
        return proc.pid if proc is not None and proc.poll() is None else None

    # ------------------------------------------------------------------------------------------ per file
    def fork(self, entry: str, task: dict[str, Any], max_memory_mb: float, hard_timeout_s: float) -> Child:
        """Have the server fork a child running ``entry(task)`` (see :func:`pipeline.batch.isolation.run_entry`).

        Raises
        ------
        ServerUnavailable
            The server cannot be started, or did not answer within ``fork_timeout_s`` (it is then stopped).
        """
        with self._lock:
            proc = self._server()
            self._seq += 1
            reply_path, status_path = (os.path.join(str(self._dir), f"{self._seq}.{kind}")
                                       for kind in ("reply", "status"))
            os.mkfifo(reply_path, 0o600)
            os.mkfifo(status_path, 0o600)
            reply_r = os.open(reply_path, os.O_RDONLY | os.O_NONBLOCK)
            status_r = os.open(status_path, os.O_RDONLY | os.O_NONBLOCK)
            request = json.dumps({"entry": entry, "task": task, "max_memory_mb": max_memory_mb,
                                  "hard_timeout_s": hard_timeout_s, "reply": reply_path,
                                  "status": status_path}).encode("utf-8")
            if len(request) > MAX_REQUEST_BYTES:
                _close(reply_r, status_r)
                raise ServerUnavailable(f"the task is {len(request)} bytes, more than a request may carry")
            try:
                assert proc.stdin is not None
                _write_all(proc.stdin.fileno(), framed(request),
                           time.monotonic() + self.fork_timeout_s)
            except (OSError, TimeoutError) as exc:  # a server that is gone or stalled
                _close(reply_r, status_r)
                self._discard(kill=True)
                raise ServerUnavailable(f"the pre-fork server did not take the file: {exc or 'timed out'}") from None
        try:
            data = _read_exact(status_r, _INT.size, time.monotonic() + self.fork_timeout_s)
        except TimeoutError:
            data = None
        finally:
            for path in (reply_path, status_path):  # opened at both ends by now (or given up)
                try:
                    os.unlink(path)
                except OSError:
                    pass
        if data is None:
            _close(reply_r, status_r)
            with self._lock:
                self._discard(kill=True)
            raise ServerUnavailable(f"the pre-fork server did not fork the file's child within "
                                    f"{self.fork_timeout_s:g} s (it was stopped)")
        with self._lock:
            self.forked += 1
        return Child(_INT.unpack(data)[0], reply_r, status_r)


def _close(*fds: int) -> None:
    for fd in fds:
        try:
            os.close(fd)
        except OSError:
            pass


def _write_all(fd: int, data: bytes, deadline: float) -> None:
    """Write ``data`` to the non-blocking ``fd`` by ``deadline``, else ``TimeoutError``."""
    view = memoryview(data)
    poller = select.poll()
    poller.register(fd, select.POLLOUT)
    while view:
        if not poller.poll(max(0.0, deadline - time.monotonic()) * 1000):
            raise TimeoutError("timed out")
        try:
            view = view[os.write(fd, view):]
        except BlockingIOError:
            continue


def _stop(proc: subprocess.Popen[bytes]) -> None:
    """Close the server's stdin (it then kills its children and exits); kill it if it does not within 5 s."""
    if proc.stdin is not None:
        try:
            proc.stdin.close()
        except OSError:  # a broken pipe flushing nothing
            pass
    try:
        proc.wait(5)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(5)


_shared: WorkerServer | None = None
_shared_lock = threading.Lock()


def shared() -> WorkerServer:
    """This process's server (created on first use, stopped at exit)."""
    global _shared
    with _shared_lock:
        if _shared is None:
            _shared = WorkerServer()
            atexit.register(_shared.close)
        return _shared


def server_info() -> dict[str, Any]:
    """What this process's server did so far (for tests and monitoring, e.g. ``Client.run(server_info)``).

    Returns
    -------
    dict
        ``pid`` (of the running server, or None), ``starts``, ``forked`` (children started through it),
        ``fallbacks`` (files run in a fresh interpreter instead), ``worker_pid`` and ``worker_daemonic`` (whether
        this process is a daemonic multiprocessing process, as Dask workers under a nanny are).
    """
    import multiprocessing

    srv = _shared
    return {"pid": srv.pid if srv else None, "starts": srv.starts if srv else 0,
            "forked": srv.forked if srv else 0, "fallbacks": srv.fallbacks if srv else 0,
            "worker_pid": os.getpid(), "worker_daemonic": bool(multiprocessing.current_process().daemon)}


# ---------------------------------------------------------------------------------------------- server side
def _child(request: dict[str, Any], reply_fd: int, status_fd: int, others: list[int]) -> None:
    """In the forked child: drop the server's descriptors and handlers, run the task, write the reply, leave."""
    code = 1
    try:
        for fd in [status_fd, *others]:
            os.close(fd)
        devnull = os.open(os.devnull, os.O_RDONLY)  # not the server's request pipe
        os.dup2(devnull, 0)
        os.close(devnull)
        signal.set_wakeup_fd(-1)
        for sig in (signal.SIGCHLD, signal.SIGTERM):
            signal.signal(sig, signal.SIG_DFL)
        signal.signal(signal.SIGINT, signal.default_int_handler)
        from pipeline.batch.isolation import run_entry

        text = run_entry(request["entry"], request["task"], float(request["max_memory_mb"]),
                         float(request["hard_timeout_s"]))
        send_reply(reply_fd, text.encode("utf-8"))
        code = 0
    except BaseException:  # noqa: BLE001 - the worker sees a child without a reply (reported as crashed)
        import traceback

        traceback.print_exc()
    finally:
        try:
            sys.stdout.flush()
            sys.stderr.flush()
        finally:
            os._exit(code)


def _open_writer(path: str) -> int | None:
    """The write end of a FIFO whose reader (the worker) is open, else None (the worker gave up on it)."""
    try:
        fd = os.open(path, os.O_WRONLY | os.O_NONBLOCK)
    except OSError:
        return None
    os.set_blocking(fd, True)
    return fd


def serve(ready_fd: int) -> None:
    """Run the server: requests on stdin until end-of-file; ``ready_fd`` gets the ready message, then is closed."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    if SYS_PATH_ENV in os.environ:
        sys.path[:] = json.loads(os.environ.pop(SYS_PATH_ENV))
    import pipeline.batch.prefork  # noqa: F401 - imports, warm-up, gc.freeze

    wake_r, wake_w = os.pipe()
    os.set_blocking(wake_w, False)
    signal.set_wakeup_fd(wake_w)
    signal.signal(signal.SIGCHLD, lambda *_: None)
    ready = json.dumps({"ready": True, "pid": os.getpid()}).encode()
    send_reply(ready_fd, ready)
    os.close(ready_fd)
    children: dict[int, int] = {}  # pid -> write end of its status FIFO

    def reap() -> None:
        while children:
            pid, status = os.waitpid(-1, os.WNOHANG)
            if pid == 0:
                return
            fd = children.pop(pid, None)
            if fd is not None:
                try:
                    os.write(fd, _INT.pack(os.waitstatus_to_exitcode(status)))
                except OSError:  # the worker stopped waiting for it
                    pass
                os.close(fd)

    while True:
        readable = select.select([0, wake_r], [], [])[0]
        if wake_r in readable:
            os.read(wake_r, 4096)
            reap()
        if 0 not in readable:
            continue
        try:  # the worker writes each request whole, at once
            frame = receive_frame(0, time.monotonic() + FORK_TIMEOUT_S, MAX_REQUEST_BYTES)
        except TimeoutError:
            frame = None
        if frame is None:  # the worker is gone: nobody will read the running children's results
            for pid in children:
                try:
                    os.kill(pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
            return
        request = json.loads(frame)
        reply_fd = _open_writer(request["reply"])
        status_fd = _open_writer(request["status"])
        if reply_fd is None or status_fd is None:
            for fd in (reply_fd, status_fd):
                if fd is not None:
                    os.close(fd)
            continue
        pid = os.fork()
        if pid == 0:
            _child(request, reply_fd, status_fd, [wake_r, wake_w, *children.values()])
        os.close(reply_fd)
        children[pid] = status_fd
        try:
            os.write(status_fd, _INT.pack(pid))
        except OSError:
            pass
        reap()


if __name__ == "__main__":
    serve(int(sys.argv[1]))

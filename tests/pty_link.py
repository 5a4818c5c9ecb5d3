"""A serial cable made of two real pty pairs and a relay thread, with a host end that can be unplugged.

The emulator opens ``device_path`` and the driver ``host_path`` (stable symlinks to /dev/pts/N, like udev's
/dev/serial/by-id names). :meth:`PtyLink.unplug` destroys the host-side pty (the driver's reads fail, as on a USB
unplug) and removes the symlink; :meth:`PtyLink.replug` creates a new pty behind the same name. Bytes the device
sends while unplugged are lost. Only standard-library pty calls: no socat needed.
"""

from __future__ import annotations

import contextlib
import os
import select
import threading
import time
import tty
from pathlib import Path


class PtyLink:
    def __init__(self, folder: Path) -> None:
        self.device_path = folder / "ttyEMU"
        self.host_path = folder / "ttyHOST"
        self._lock = threading.Lock()
        self._dev = self._pair(self.device_path)
        self._host: tuple[int, int] | None = self._pair(self.host_path)
        self._stop = threading.Event()
        self.bytes_lost_unplugged = 0
        self.bytes_lost_full = 0
        self._thread = threading.Thread(target=self._relay, daemon=True)
        self._thread.start()

    @staticmethod
    def _pair(link: Path) -> tuple[int, int]:
        master, slave = os.openpty()
        tty.setraw(slave)
        os.set_blocking(master, False)  # a full buffer (nobody reading) drops bytes instead of blocking
        with contextlib.suppress(FileNotFoundError):
            link.unlink()
        link.symlink_to(os.ttyname(slave))
        return master, slave

    def unplug(self) -> None:
        with self._lock:
            if self._host is not None:
                self.host_path.unlink()
                for fd in self._host:
                    os.close(fd)
                self._host = None

    def replug(self) -> None:
        with self._lock:
            if self._host is None:
                self._host = self._pair(self.host_path)

    def close(self) -> None:
        self._stop.set()
        self._thread.join(2)
        self.unplug()
        for fd in self._dev:
            os.close(fd)
        with contextlib.suppress(FileNotFoundError):
            self.device_path.unlink()

    def _write_all(self, fd: int, data: bytes, patience_s: float = 2.0) -> None:
        """Write every byte, waiting while the reader catches up (a cable does not drop bytes because the host
        is busy); only a reader stalled for ``patience_s`` loses the rest, counted in ``bytes_lost_full``."""
        deadline = time.monotonic() + patience_s
        view = memoryview(data)
        while view:
            try:
                view = view[os.write(fd, view):]
            except BlockingIOError:
                if time.monotonic() > deadline:
                    self.bytes_lost_full += len(view)
                    return
                select.select([], [fd], [], 0.01)

    def _relay(self) -> None:
        dev_m = self._dev[0]
        while not self._stop.is_set():
            with self._lock:
                host_m = self._host[0] if self._host else None
            fds = [dev_m] + ([host_m] if host_m is not None else [])
            try:
                ready, _, _ = select.select(fds, [], [], 0.02)
            except (OSError, ValueError):
                continue
            for fd in ready:
                try:
                    data = os.read(fd, 65536)
                except OSError:
                    continue
                with self._lock:
                    host_now = self._host[0] if self._host else None
                    try:
                        if fd == dev_m:
                            if host_now is None:
                                self.bytes_lost_unplugged += len(data)
                            else:
                                self._write_all(host_now, data)
                        elif fd == host_now:
                            self._write_all(dev_m, data)
                    except OSError:
                        pass

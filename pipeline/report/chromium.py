"""Headless Chromium driven over the Chrome DevTools Protocol pipe: the report's PDF printer and the tests' browser.

Chromium (Debian package ``chromium``) is started with ``--remote-debugging-pipe``: it reads NUL-terminated JSON
commands from fd 3 and writes responses and events to fd 4, so no port, websocket or extra package is needed. Every
wait is bounded (``timeout_s``); a browser that does not answer in time is killed and :class:`ChromiumError` says
so. :func:`print_pdf` prints a report to an A4 PDF with the page's own print stylesheet (``Page.printToPDF``).
"""

from __future__ import annotations

import base64
import json
import os
import select
import shutil
import subprocess
import tempfile
import time
from pathlib import Path
from typing import Any

from pipeline.errors import ReportError

#: Seconds any one DevTools answer (and the page load) may take before the browser is given up on.
DEFAULT_TIMEOUT_S = 60.0


class ChromiumError(ReportError):
    """Headless Chromium is missing, did not start, or did not answer in time."""


#: A4 paper in inches (210 x 297 mm), for Page.printToPDF.
A4_IN = (210 / 25.4, 297 / 25.4)

CHROMIUM_FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--no-default-browser-check",
    "--disable-extensions",
    "--remote-debugging-pipe",
)


def chromium_path() -> str | None:
    """Path of the Chromium binary, or None."""
    return shutil.which("chromium") or shutil.which("chromium-browser")


def require_chromium() -> str:
    """Path of the Chromium binary.

    Raises
    ------
    ChromiumError
        No ``chromium`` (or ``chromium-browser``) on PATH.
    """
    found = chromium_path()
    if found is None:
        raise ChromiumError("cannot print the PDF: headless Chromium is not installed (no `chromium` on PATH); "
                            "install the Debian package `chromium` (apt-get install chromium), or write the HTML "
                            "report only (leave out --pdf)")
    return found


def _exception_text(details: dict[str, Any]) -> str:
    """An uncaught exception of the page as one line: its description (``Error: boom``) first, then where it was
    thrown, so that the message itself survives the cut to 500 characters whatever the length of the page's URL."""
    exc = details.get("exception") or {}
    what = exc.get("description") or details.get("text") or json.dumps(details)
    where = f" at {details.get('url', '')}:{details.get('lineNumber', '?')}:{details.get('columnNumber', '?')}"
    return (str(what).splitlines()[0] if what else "")[:400] + where[:100]


class Chromium:
    """One headless Chromium with a fresh profile, driven over the CDP pipe (a context manager)."""

    def __init__(self, timeout_s: float = DEFAULT_TIMEOUT_S) -> None:
        binary = require_chromium()
        self.timeout_s = timeout_s
        self.profile = tempfile.TemporaryDirectory(prefix="insole-chromium-")
        to_child_r, self._to_child_w = os.pipe()
        self._from_child_r, from_child_w = os.pipe()

        def wire() -> None:  # runs in the child before exec: put the pipe ends on fds 3 and 4
            r, w = os.dup(to_child_r), os.dup(from_child_w)  # copies above 4, so neither end is clobbered
            os.dup2(r, 3)
            os.dup2(w, 4)
            os.set_inheritable(3, True)
            os.set_inheritable(4, True)

        try:
            self.proc = subprocess.Popen(
            [binary, *CHROMIUM_FLAGS, f"--user-data-dir={self.profile.name}", "about:blank"],
            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
            preexec_fn=wire, close_fds=False,
            )
        except OSError as exc:
            self.profile.cleanup()
            raise ChromiumError(f"cannot start {binary}: {exc.strerror or exc}") from None
        os.close(to_child_r)
        os.close(from_child_w)
        self._buf = b""
        self._next_id = 0
        self.events: list[dict[str, Any]] = []
        self.session_id: str | None = None

    # ------------------------------------------------------------------ protocol
    def _read_message(self, deadline: float) -> dict[str, Any]:
        while b"\0" not in self._buf:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise ChromiumError(f"no answer from Chromium within {self.timeout_s:g} s: "
                                    + self._stderr_tail()[-300:])
            ready, _, _ = select.select([self._from_child_r], [], [], remaining)
            if ready:
                chunk = os.read(self._from_child_r, 1 << 20)
                if not chunk:
                    raise ChromiumError("Chromium closed the debugging pipe: " + self._stderr_tail())
                self._buf += chunk
        raw, self._buf = self._buf.split(b"\0", 1)
        return json.loads(raw)

    def _stderr_tail(self) -> str:
        try:
            self.proc.kill()
            return (self.proc.communicate(timeout=5)[1] or b"").decode(errors="replace")[-2000:]
        except Exception:  # pragma: no cover - diagnostics only
            return ""

    def send(self, method: str, params: dict[str, Any] | None = None, session: bool = True) -> dict[str, Any]:
        """Send a command and wait for its result (events that arrive meanwhile are kept in ``events``)."""
        self._next_id += 1
        msg: dict[str, Any] = {"id": self._next_id, "method": method, "params": params or {}}
        if session and self.session_id:
            msg["sessionId"] = self.session_id
        os.write(self._to_child_w, json.dumps(msg).encode() + b"\0")
        deadline = time.monotonic() + self.timeout_s
        while True:
            reply = self._read_message(deadline)
            if reply.get("id") == self._next_id:
                if "error" in reply:
                    raise ChromiumError(f"{method}: {reply['error']}")
                return reply.get("result", {})
            self.events.append(reply)

    def wait_for_event(self, method: str) -> dict[str, Any]:
        """Wait for an event (returns at once if it already arrived)."""
        for e in self.events:
            if e.get("method") == method:
                return e
        deadline = time.monotonic() + self.timeout_s
        while True:
            msg = self._read_message(deadline)
            self.events.append(msg)
            if msg.get("method") == method:
                return msg

    # ------------------------------------------------------------------ page helpers
    def open(self, url: str, width: int = 1100, height: int = 1400) -> None:
        """Attach to the first page, enable logging domains, then navigate to ``url`` and wait for load."""
        targets = self.send("Target.getTargets", session=False)["targetInfos"]
        page = next(t for t in targets if t["type"] == "page")
        self.session_id = self.send(
            "Target.attachToTarget", {"targetId": page["targetId"], "flatten": True}, session=False
        )["sessionId"]
        for domain in ("Page.enable", "Runtime.enable", "Log.enable"):
            self.send(domain)
        self.set_viewport(width, height)
        self.events.clear()
        self.send("Page.navigate", {"url": url})
        self.wait_for_event("Page.loadEventFired")

    def set_viewport(self, width: int, height: int) -> None:
        """Emulate a ``width`` x ``height`` CSS-pixel window (a phone at 390 px: ``mobile`` emulation on)."""
        self.width, self.height = width, height
        self.send("Emulation.setDeviceMetricsOverride",
                  {"width": width, "height": height, "deviceScaleFactor": 1, "mobile": width < 600})

    def evaluate(self, expression: str) -> Any:
        """Evaluate a JavaScript expression in the page and return its JSON value."""
        r = self.send("Runtime.evaluate", {"expression": expression, "returnByValue": True, "awaitPromise": True})
        if "exceptionDetails" in r:
            raise ChromiumError(f"evaluation failed: {r['exceptionDetails']}")
        return r["result"].get("value")

    def problems(self) -> list[str]:
        """Console errors/warnings, uncaught exceptions and log errors (failed loads, CSP violations)."""
        out = []
        for e in self.events:
            m, p = e.get("method"), e.get("params", {})
            if m == "Runtime.exceptionThrown":
                out.append("exception: " + _exception_text(p.get("exceptionDetails", {})))
            elif m == "Runtime.consoleAPICalled" and p.get("type") in ("error", "warning", "assert"):
                out.append(f"console.{p['type']}: " + json.dumps(p.get("args", []))[:500])
            elif m == "Log.entryAdded" and p.get("entry", {}).get("level") in ("error", "warning"):
                out.append(f"log.{p['entry']['level']}: {p['entry'].get('text', '')[:500]}")
        return out

    def screenshot(self, path: Path) -> Path:
        """Full-page PNG screenshot at the current viewport width (pages taller than 16000 px are cut there)."""
        width = getattr(self, "width", 1100)
        height = int(self.evaluate("Math.ceil(document.documentElement.scrollHeight)") or 1400)
        self.set_viewport(width, min(height, 16000))
        data = self.send("Page.captureScreenshot", {"format": "png", "captureBeyondViewport": True})["data"]
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(base64.b64decode(data))
        return path

    def pdf_bytes(self) -> bytes:
        """The page printed to PDF with its print CSS (``@page { size: A4 }``; A4 paper also when it has none)."""
        return base64.b64decode(self.send("Page.printToPDF", {
            "printBackground": True, "preferCSSPageSize": True, "paperWidth": A4_IN[0], "paperHeight": A4_IN[1],
        })["data"])

    def print_pdf(self, path: Path) -> Path:
        """Print the page to a PDF file (see :meth:`pdf_bytes`)."""
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(self.pdf_bytes())
        return path

    def close(self) -> None:
        """Close the browser and remove its profile."""
        try:
            self.timeout_s = min(self.timeout_s, 10.0)
            self.send("Browser.close", session=False)
        except Exception:  # noqa: BLE001 - the browser may already be gone
            pass
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(timeout=10)
        for fd in (self._to_child_w, self._from_child_r):
            try:
                os.close(fd)
            except OSError:
                pass
        if self.proc.stderr:
            self.proc.stderr.close()
        self.profile.cleanup()

    def __enter__(self) -> Chromium:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def print_pdf(html_path: str | os.PathLike[str], pdf_path: str | os.PathLike[str],
              timeout_s: float = DEFAULT_TIMEOUT_S) -> Path:
    """Print the HTML file ``html_path`` to an A4 PDF at ``pdf_path`` (atomically) with headless Chromium.

    Raises
    ------
    ChromiumError
        Chromium is not installed, does not start or does not answer within ``timeout_s``.
    ReportError
        The PDF cannot be written.
    """
    src, out = Path(html_path).resolve(), Path(pdf_path)
    if out.is_dir():
        raise ReportError(f"{out}: is a folder; give a file name for the PDF (e.g. {out / 'report.pdf'})")
    if not out.parent.exists():
        raise ReportError(f"{out}: folder {out.parent} does not exist; create it or choose another path")
    with Chromium(timeout_s=timeout_s) as browser:
        browser.open(src.as_uri())
        data = browser.pdf_bytes()
    if not data.startswith(b"%PDF"):
        raise ChromiumError(f"{out}: Chromium returned no PDF for {src}")
    tmp = out.with_name(out.name + ".partial")
    try:
        tmp.write_bytes(data)
        os.replace(tmp, out)
    except OSError as exc:
        tmp.unlink(missing_ok=True)
        raise ReportError(f"{out}: cannot write the PDF ({exc.strerror or exc})") from exc
    return out

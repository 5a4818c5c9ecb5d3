"""Finding session files in a clinic inbox, with a pluggable registry of input formats.

Inbox layout (see ``docs/batch.md``)::

    INBOX/<clinic>/<subject>/<session file>                 e.g. INBOX/north/S0012/2026-11-23_walk.h5
    INBOX/<clinic>/<subject>/<session folder>/<file>        e.g. INBOX/north/S0012/visit3/left_right.h5

Files at other depths are still processed; the missing levels are named ``_``.

Input formats are looked up in a registry (:func:`register_format`). Our own HDF5 sessions (``*.h5``, ``*.hdf5``)
are built in; importers for other formats plug in without changing this module, either by

* calling :func:`register_format` (in the batch process *and* its workers, e.g. from a module imported by both), or
* an ``insole.batch_formats`` entry point whose object is an :class:`InputFormat` or a callable returning a list
  of them, or
* a ``BATCH_FORMATS`` list in :mod:`insole.importers` (which cannot import ``pipeline``), each item a dict
  ``{"name": str, "patterns": [glob, ...], "convert": callable(src_path, dst_h5_path)}``.

A converter writes a session file (``insole.session.SessionWriter``) to the given destination; the batch
then processes that file exactly like an uploaded session.
"""

from __future__ import annotations

import fnmatch
import importlib
import logging
import os
import stat
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from importlib.metadata import entry_points
from pathlib import Path, PurePosixPath

from pipeline.batch.errors import BatchError
from pipeline.errors import PipelineError

log = logging.getLogger(__name__)

Converter = Callable[[Path, Path], object]

#: File names that are never sessions: hidden files and the temporary names of uploads still in progress.
IN_PROGRESS_PATTERNS = (".*", "*.partial", "*.part", "*.tmp", "*.crdownload", "*.filepart", "~*")


class FormatError(PipelineError):
    """An input format is registered twice or cannot be found."""


@dataclass(frozen=True)
class InputFormat:
    """A kind of upload the batch can process.

    Attributes
    ----------
    name : str
        Short identifier stored in the ledger (``insole-h5``, ``moticon-txt``, ...).
    patterns : tuple of str
        Case-insensitive glob patterns matched against the file name.
    convert : callable or None
        ``convert(src, dst)`` writes an insole session file to ``dst``; None for files that already are
        insole sessions.
    """

    name: str
    patterns: tuple[str, ...]
    convert: Converter | None = None

    def matches(self, filename: str) -> bool:
        """True when ``filename`` matches one of the patterns."""
        low = filename.lower()
        return any(fnmatch.fnmatchcase(low, p.lower()) for p in self.patterns)


NATIVE = InputFormat("insole-h5", ("*.h5", "*.hdf5"))
_REGISTRY: dict[str, InputFormat] = {NATIVE.name: NATIVE}
_PLUGINS_LOADED = False


def register_format(fmt: InputFormat, *, replace: bool = False) -> None:
    """Add an input format to the registry (later registrations are tried first when patterns overlap)."""
    if fmt.name in _REGISTRY and not replace and _REGISTRY[fmt.name] != fmt:
        raise FormatError(f"input format {fmt.name!r} is already registered; pass replace=True to override it")
    _REGISTRY[fmt.name] = fmt


def _load_plugins() -> None:
    global _PLUGINS_LOADED
    if _PLUGINS_LOADED:
        return
    _PLUGINS_LOADED = True
    try:
        importers = importlib.import_module("insole.importers")
    except ImportError:
        importers = None
    for item in getattr(importers, "BATCH_FORMATS", ()) or ():
        try:
            register_format(InputFormat(str(item["name"]), tuple(item["patterns"]), item["convert"]), replace=True)
        except (KeyError, TypeError) as exc:
            log.warning("ignored malformed insole.importers.BATCH_FORMATS entry %r: %s", item, exc)
    for ep in entry_points(group="insole.batch_formats"):
        try:
            obj = ep.load()
            items = obj() if callable(obj) and not isinstance(obj, InputFormat) else obj
            for fmt in [items] if isinstance(items, InputFormat) else list(items):
                register_format(fmt, replace=True)
        except Exception as exc:  # a broken plug-in must not stop the night
            log.warning("input-format plug-in %s could not be loaded: %s", ep.name, exc)


def formats() -> list[InputFormat]:
    """Registered formats, plug-ins included, most recently registered first."""
    _load_plugins()
    return list(reversed(_REGISTRY.values()))


def format_by_name(name: str) -> InputFormat:
    """The registered format called ``name``."""
    _load_plugins()
    try:
        return _REGISTRY[name]
    except KeyError:
        raise FormatError(f"no input format {name!r}; known: {', '.join(sorted(_REGISTRY))}") from None


def format_for(filename: str) -> InputFormat | None:
    """The format whose patterns match ``filename`` (None when nothing matches)."""
    for fmt in formats():
        if fmt.matches(filename):
            return fmt
    return None


#: A modification time further ahead of this server's clock than this is flagged in the summary (seconds; a day
#: covers time-zone mistakes of upload tools without flagging them).
FUTURE_MTIME_TOLERANCE_S = 86400.0


@dataclass(frozen=True)
class InboxEntry:
    """One thing found in the inbox.

    Attributes
    ----------
    rel_path : str
        POSIX path relative to the inbox (as uploaded; not sanitised).
    path : Path
        Absolute path in the inbox (not resolved: a symbolic link stays a link).
    kind : {"candidate", "refused", "ignored", "deferred", "inaccessible"}
        ``candidate``: a session to process; ``refused``: never read (link outside the inbox, special file);
        ``ignored``: no registered format matches; ``deferred``: changed too recently (upload in progress);
        ``inaccessible``: a folder that cannot be listed or a file that cannot be examined (permissions).
    format : str or None
        Name of the matching :class:`InputFormat`.
    reason : str
        Why an entry is refused, ignored or deferred; for a candidate, a note for the summary (its modification
        time is more than :data:`FUTURE_MTIME_TOLERANCE_S` ahead of this server's clock).
    """

    rel_path: str
    path: Path
    kind: str
    format: str | None = None
    reason: str = ""

    @property
    def clinic(self) -> str:
        """First folder level (``_`` when the file sits higher)."""
        parts = PurePosixPath(self.rel_path).parts
        return parts[0] if len(parts) >= 2 else "_"

    @property
    def subject(self) -> str:
        """Second folder level (``_`` when the file sits higher)."""
        parts = PurePosixPath(self.rel_path).parts
        return parts[1] if len(parts) >= 3 else "_"

    @property
    def session(self) -> str:
        """What is below the subject folder, without the file extension (``a/b.h5`` -> ``a__b``)."""
        parts = PurePosixPath(self.rel_path).parts
        rest = list(parts[2:] if len(parts) >= 3 else parts[-1:])
        rest[-1] = PurePosixPath(rest[-1]).stem or rest[-1]
        return "__".join(rest)


def discover(inbox: Path, *, min_age_s: float = 0.0, now: float | None = None) -> list[InboxEntry]:
    """Walk ``inbox`` and classify every file, in sorted (deterministic) order.

    Folders are walked without following symbolic links. A symbolic link to a file is accepted only when its
    target lies inside the inbox (the content is then found twice and processed once, as a duplicate); links
    pointing outside are refused unread. FIFOs, sockets and devices are refused unread (opening a FIFO would
    block the night).

    Parameters
    ----------
    inbox : Path
    min_age_s : float
        Files changed less than this many seconds ago are ``deferred`` to the next run (upload in progress).
        The age is taken from the file's status-change time (``ctime``), which the kernel sets with this server's
        clock on every write, rename or time change and which upload tools cannot set: a modification time
        copied from a device whose clock is wrong (even years ahead) does not defer an upload for ever.
    now : float, optional
        Current time (``time.time()``) for the age test.

    Raises
    ------
    BatchError
        The inbox itself cannot be listed. A folder below it that cannot be listed is an ``inaccessible`` entry.
    """
    root = inbox.resolve()
    if not root.is_dir():
        raise BatchError(f"inbox {inbox} is not a folder")
    now = time.time() if now is None else now
    out: list[InboxEntry] = []

    def walk_error(exc: OSError) -> None:
        where = Path(exc.filename) if exc.filename else root
        if where == root:
            raise BatchError(f"cannot list the inbox {root}: {exc.strerror or exc}") from None
        rel = where.relative_to(root).as_posix()
        out.append(InboxEntry(rel, where, "inaccessible", reason=f"folder cannot be listed ({exc.strerror or exc}): "
                              "the uploads inside it were not seen; let the batch user read it"))

    for dirpath, dirnames, filenames in os.walk(root, followlinks=False, onerror=walk_error):
        here = Path(dirpath)
        dirnames.sort()
        kept = []
        for d in dirnames:
            rel = (here / d).relative_to(root).as_posix()
            if d.startswith("."):
                continue
            if (here / d).is_symlink():
                out.append(InboxEntry(rel, here / d, "ignored", reason="symbolic link to a folder (not followed)"))
                continue
            kept.append(d)
        dirnames[:] = kept
        for name in sorted(filenames):
            path = here / name
            rel = path.relative_to(root).as_posix()
            if any(fnmatch.fnmatchcase(name, p) for p in IN_PROGRESS_PATTERNS):
                continue
            fmt = format_for(name)
            try:
                rel.encode("utf-8")
            except UnicodeEncodeError:  # undecodable bytes in a name: shown with U+FFFD, never used in a path
                shown = rel.encode("utf-8", "surrogateescape").decode("utf-8", "replace")
                out.append(InboxEntry(shown, path, "refused", fmt and fmt.name,
                                      "file or folder name is not valid UTF-8; rename it and upload again"))
                continue
            try:
                lst = path.lstat()
            except FileNotFoundError:  # removed while the inbox was walked: not there any more
                continue
            except OSError as exc:
                out.append(InboxEntry(rel, path, "inaccessible", fmt and fmt.name,
                                      f"cannot be examined ({exc.strerror or exc}); let the batch user read it"))
                continue
            if stat.S_ISLNK(lst.st_mode):
                target = Path(os.path.realpath(path))
                if not _inside(root, target):
                    out.append(InboxEntry(rel, path, "refused", fmt and fmt.name,
                                          f"symbolic link pointing outside the inbox (to {target}); not read"))
                    continue
                try:
                    st = path.stat()
                except OSError:
                    out.append(InboxEntry(rel, path, "refused", fmt and fmt.name, "broken symbolic link"))
                    continue
            else:
                st = lst
            if not stat.S_ISREG(st.st_mode):
                out.append(InboxEntry(rel, path, "refused", fmt and fmt.name,
                                      "not a regular file (FIFO, socket or device); not read"))
                continue
            if fmt is None:
                out.append(InboxEntry(rel, path, "ignored", reason="no registered input format matches the name"))
                continue
            if min_age_s > 0 and now - st.st_ctime < min_age_s:  # ctime: see the notes above
                out.append(InboxEntry(rel, path, "deferred", fmt.name,
                                      f"changed {max(0.0, now - st.st_ctime):.0f} s ago (< {min_age_s:g} s): upload "
                                      "may be in progress; next run"))
                continue
            ahead = st.st_mtime - now
            note = (f"modification time {ahead / 86400:.1f} days ahead of this server's clock (the recording "
                    "device's or the upload tool's clock is wrong); processed, its age taken from when it arrived "
                    "here") if ahead > FUTURE_MTIME_TOLERANCE_S else ""
            out.append(InboxEntry(rel, path, "candidate", fmt.name, note))
    return out


def _inside(root: Path, target: Path) -> bool:
    try:
        target.relative_to(root)
    except ValueError:
        return False
    return True


def candidates(entries: Iterable[InboxEntry]) -> list[InboxEntry]:
    """The entries to process."""
    return [e for e in entries if e.kind == "candidate"]

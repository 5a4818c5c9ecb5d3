"""Exceptions raised by :mod:`insole`.

Every exception the package raises on purpose derives from :class:`InsoleError`, so a caller can catch one root.
Messages say what was wrong, with which file or device, and what to do about it.
"""

from __future__ import annotations


class InsoleError(Exception):
    """Root of every error raised on purpose by the ``insole`` package."""


class ConfigurationError(InsoleError, ValueError):
    """An argument, URL or option has a value that cannot be used."""


class SessionFileError(InsoleError):
    """A session file cannot be read, written or validated.

    Parameters
    ----------
    path : str
        The file concerned.
    problem : str
        What is wrong, in words a user can act on.
    """

    def __init__(self, path: str, problem: str) -> None:
        self.path = str(path)
        self.problem = problem
        super().__init__(f"{self.path}: {problem}")


class RecordingWriteError(SessionFileError):
    """Writing a recording failed part way (the file keeps the frames up to the last flush)."""


class SessionExistsError(SessionFileError):
    """The output file already exists and overwriting was not requested."""


class SessionUnsafeError(SessionFileError):
    """A session file is refused unread for safety: it declares more than a reader accepts (dataset size, rows,
    chunk size) or points outside itself (external links or storage, virtual datasets)."""


class SessionBusyError(SessionFileError):
    """Another process is writing the file (or holds a lock on it): it is neither overwritten nor repaired."""


class DeviceError(InsoleError):
    """A device could not be opened, lost its connection, or sent something unusable."""


class DeviceTimeoutError(DeviceError, TimeoutError):
    """A device did not answer or send data within the allowed time."""


class ProtocolError(InsoleError):
    """Bytes on the wire do not follow the protocol (framing, CRC, version, sizes)."""


class ImportSourceError(InsoleError):
    """A third-party recording cannot be imported (missing companion file, wrong format, truncated, bad columns).

    Parameters
    ----------
    path : str
        The source file concerned.
    problem : str
        What is wrong and, where possible, what to do.
    """

    def __init__(self, path: str, problem: str) -> None:
        self.path = str(path)
        self.problem = problem
        super().__init__(f"{self.path}: {problem}")

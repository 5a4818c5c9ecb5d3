"""The session file: an open, documented HDF5 layout for plantar-pressure recordings (format version 2).

This package is the only door to session files; nothing else imports ``h5py``. Everything that writes a session
goes through :class:`SessionWriter` (importers, tests) or :class:`RecordingWriter` (the recorder); everything that
reads one goes through :func:`open_session` (a lazy :class:`SessionReader`) or :func:`read_session` (a
:class:`Session` in memory), which validate the file first and name exactly what is wrong. No HDF5 object leaves
the package: readers return numpy arrays, plain values and typed records (:class:`FootInfo`, :class:`FrameBlock`,
:class:`Gap`). The specification is ``docs/session-format.md``.

Modules
-------
``format``            names, version, limits, dataset names, attribute conversion
``dataset_limits``    element types, decodable filters, caps on declared and chunk sizes
``hdf5_open``         every HDF5 open: no HDF5 locking, bounded SWMR retries
``file_lock``         writers' non-blocking ``flock`` (no writer replaces a file another one is writing)
``validation``        hostile-file refusals and structure checks, before anything is read
``metadata``          :class:`SessionMetadata` (the ``/session`` group)
``gaps``              :class:`Gap`, :class:`GapCause`, migration of version-1 prose causes
``gap_columns``       how gaps are stored (version-2 columns, version-1 datasets)
``contents``          :class:`FootInfo`, :class:`FrameBlock`, :class:`ImuData`, :class:`FootData`, :class:`Session`
``imu_block``         the IMU block ``/<side>/imu``: creation, appending, validation, reading (and older extras)
``writer``            :class:`SessionWriter`
``recording_writer``  :class:`RecordingWriter`: SWMR appending, re-timing, gap shifts (recorder only)
``reader``            :func:`open_session`, :func:`read_session`, :class:`SessionReader`
``migration``         upgrading a copy of a version-1 file
``repair``            :func:`repair_session`: rewriting an interrupted recording that other HDF5 programs refuse
``recalibration``     :func:`write_recalibrated_copy`
"""

from insole.session.chunk_reader import inflate_in_calling_thread
from insole.session.contents import CalibrationInfo, FootData, FootInfo, FrameBlock, ImuData, Session
from insole.session.file_lock import refuse_if_busy
from insole.session.format import FIELDS, FORMAT_NAME, FORMAT_VERSION, MAX_FRAMES, MAX_SENSORS, READABLE_VERSIONS, UNITS
from insole.session.gaps import CAUSE_MEANINGS, Gap, GapCause, frames_lost, gap_intervals_s, parse_v1_cause
from insole.session.metadata import SessionMetadata
from insole.session.reader import SessionReader, open_session, read_session
from insole.session.recalibration import write_recalibrated_copy
from insole.session.recording_writer import RecordingWriter
from insole.session.repair import RepairResult, repair_session
from insole.session.writer import SessionWriter

__all__ = [
    "CAUSE_MEANINGS",
    "FIELDS",
    "FORMAT_NAME",
    "FORMAT_VERSION",
    "MAX_FRAMES",
    "MAX_SENSORS",
    "READABLE_VERSIONS",
    "UNITS",
    "CalibrationInfo",
    "FootData",
    "FootInfo",
    "FrameBlock",
    "Gap",
    "GapCause",
    "ImuData",
    "RecordingWriter",
    "RepairResult",
    "Session",
    "SessionMetadata",
    "SessionReader",
    "SessionWriter",
    "frames_lost",
    "gap_intervals_s",
    "inflate_in_calling_thread",
    "open_session",
    "parse_v1_cause",
    "read_session",
    "refuse_if_busy",
    "repair_session",
    "write_recalibrated_copy",
]

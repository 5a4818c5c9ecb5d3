"""Record one or two insoles onto one clock into a session file."""

from insole.recorder.clock import ClockAligner
from insole.recorder.recorder import Recorder, record
from insole.recorder.stats import DeviceStats, RecordingSummary

__all__ = ["ClockAligner", "DeviceStats", "Recorder", "RecordingSummary", "record"]

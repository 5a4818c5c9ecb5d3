"""Finalising a recording: re-time every foot with its final clock fit, final gaps, totals, ground truth.

At the end the final clock fit of each device re-times the whole foot, so early frames benefit from the complete
fit; session zero becomes the earliest first frame of either foot under its final fit; the fit and its residual are
stored as ``clock_*`` attributes, with the frame accounting of each foot.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from insole.devices import InsoleDevice
from insole.recorder.frame_accounting import FrameTrack
from insole.recorder.stats import DeviceStats
from insole.session import RecordingWriter


class SessionFinaliser:
    """Finalises one recording's session file (see the module docstring).

    Parameters
    ----------
    devices : list of InsoleDevice
    stats : list of DeviceStats
        Per device, same order; ``last_time_s`` and ``gaps`` are updated.
    tracks : list of FrameTrack
        The frame accounting of each device.
    stop_reason : str
        Stored as the root attribute ``stopped_because``.
    """

    def __init__(self, devices: list[InsoleDevice], stats: list[DeviceStats], tracks: list[FrameTrack],
                 stop_reason: str) -> None:
        self.devices = devices
        self.stats = stats
        self._tracks = tracks
        self._stop_reason = stop_reason

    def finalise(self, writer: RecordingWriter) -> None:
        """End appending, re-time every foot with its final clock fit, add the final gaps and totals, close."""
        try:
            writer.end_appending()
            tracks = self._tracks
            zero_old = tracks[0].zero.host_s
            # Final session zero: the earliest first frame of any foot under its final clock fit.
            firsts = [
                fit.slope * writer.device_time_us_at(dev.info.side, seg.start_frame) * 1e-6 + fit.offset_s
                for dev, track in zip(self.devices, tracks, strict=True)
                for seg, fit in track.fits()[:1]
            ]
            zero = min(firsts) if firsts else zero_old
            session_end = 0.0
            for dev, st, track in zip(self.devices, self.stats, tracks, strict=True):
                side = dev.info.side
                fits = track.fits()
                for seg, fit in fits:
                    writer.rewrite_time(
                        side,
                        lambda dev_us, f=fit: f.slope * (dev_us.astype(np.float64) * 1e-6) + f.offset_s - zero,
                        start=seg.start_frame,
                        stop=seg.start_frame + seg.n_frames,
                    )
                if fits and zero_old is not None:
                    writer.shift_gaps(side, zero_old - zero)
                st.last_time_s = writer.last_time_s(side)
                session_end = max(session_end, st.last_time_s if np.isfinite(st.last_time_s) else 0.0)
            for dev, st, track in zip(self.devices, self.stats, tracks, strict=True):
                side = dev.info.side
                if zero is not None:
                    for gap in track.final_gaps(session_end):
                        writer.add_gap(side, gap)
                        st.gaps += 1
                attrs: dict[str, Any] = {
                    "frames_received": track.frames,
                    "frames_lost": track.lost_frames,
                    "frames_lost_sequence": track.lost_sequence,
                    "frames_lost_outage": track.lost_outage,
                    "frames_lost_overflow": track.lost_overflow,
                    "frames_lost_restart": track.lost_restart,
                    "frames_duplicate": track.duplicates,
                    "device_restarts": track.restarts,
                    "outages": len(track.outages),
                    "end_state": st.state,
                    "end_error": st.error,
                }
                fits = track.fits()
                if fits:
                    fit = fits[-1][1]
                    attrs.update(
                        clock_slope=fit.slope,
                        clock_offset_s=fit.offset_s - zero,
                        clock_drift_ppm=fit.drift_ppm,
                        clock_residual_s=max(f.residual_s for _, f in fits),
                        clock_n_windows=sum(f.n_windows for _, f in fits),
                        clock_segments=len(fits),
                    )
                if st.battery_pct is not None:
                    attrs["battery_pct_end"] = st.battery_pct
                writer.set_attrs(side, **attrs)
                truth = dev.ground_truth()
                if truth is not None and fits and zero is not None:
                    self._write_truth(writer, side, truth, zero)
            writer.set_attrs(
                "/", stopped_because=self._stop_reason, session_zero_host_s=np.nan if zero is None else zero
            )
        finally:
            writer.close()

    def _write_truth(self, writer: RecordingWriter, side: str, truth: dict[str, Any], zero: float) -> None:
        if writer.n_frames(side) == 0:  # type: ignore[arg-type]
            return
        t_end = writer.last_time_s(side)  # type: ignore[arg-type]
        ic = np.asarray(truth["ic_host_s"]) - zero
        to = np.asarray(truth["to_host_s"]) - zero
        keep = (ic >= 0) & (to <= t_end)
        params = {k: v for k, v in truth.get("profile", {}).items() if isinstance(v, str | int | float | bool)}
        events = {"ic_s": ic[keep], "to_s": to[keep]}
        if "foot_position_m" in truth:  # simulated IMU: where the flat foot stood in each stance
            events["foot_position_m"] = np.asarray(truth["foot_position_m"])[keep]
        writer.write_truth({side: events}, params)

"""``insole info``: what is in a session file."""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import click

#: Foot attributes shown by ``insole info`` when present.
_SHOWN_ATTRS = ("frames_lost", "clock_drift_ppm", "clock_residual_s", "device_model", "device_serial_number")
#: Optional top-level groups computed by a vendor (reference values, never used by the analysis).
_VENDOR_GROUPS = ("vendor_events", "vendor_signals")


def describe_session(path: Path) -> dict[str, Any]:
    """A JSON-ready description of a session file (validated first)."""
    from insole.session import frames_lost, open_session

    with open_session(path) as sf:
        md = sf.metadata
        out: dict[str, Any] = {
            "file": str(path),
            "format": sf.attrs.get("format"),
            "format_version": sf.format_version,
            "created_utc": sf.attrs.get("created_utc"),
            "software": sf.attrs.get("software"),
            "source": sf.attrs.get("source"),
            "complete": bool(sf.attrs.get("complete", False)),
            "state": sf.completeness.state,
            "state_text": sf.completeness.describe(path),
            "needs_repair": sf.completeness.needs_repair,
            "in_use_by": sf.completeness.in_use_by,
            "session": {k: v for k, v in md.__dict__.items()},
            "missing_metadata": md.missing(),
            "feet": {},
        }
        for side in sf.sides:
            info = sf.foot_info(side)
            span = sf.time_span_s(side)
            gaps = sf.gaps(side)
            by_cause: dict[str, dict[str, int]] = {}
            for gap in gaps:
                entry = by_cause.setdefault(gap.cause.value, {"gaps": 0, "frames": 0, "gaps_without_count": 0})
                entry["gaps"] += 1
                entry["frames"] += max(gap.n_frames, 0)
                entry["gaps_without_count"] += int(gap.n_frames < 0)
            foot: dict[str, Any] = {
                "frames": info.n_frames,
                "start_s": span[0] if span else None,
                "end_s": span[1] if span else None,
                "sampling_rate_hz": info.sampling_rate_hz,
                "sensors": info.n_sensors,
                "layout_id": info.attrs.get("layout_id"),
                "layout_geometry": info.layout.geometry,
                "units": info.attrs.get("units"),
                "gaps": len(gaps),
                "gap_total_s": float(sum(g.duration_s for g in gaps)),
                "gap_frames": frames_lost(gaps),
                "gaps_by_cause": by_cause,
            }
            foot.update({key: info.attrs[key] for key in _SHOWN_ATTRS if key in info.attrs})
            if info.imu is not None:
                foot["imu"] = {"samples": info.n_imu_samples, "sampling_rate_hz": info.imu.sampling_rate_hz,
                               "frame": info.imu.frame, "acc_range_m_s2": info.imu.acc_range_m_s2,
                               "gyr_range_rad_s": info.imu.gyr_range_rad_s, "calibrated": info.imu.calibrated}
            out["feet"][side] = foot
        if "source_format" in sf.attrs:
            out["imported_from"] = {k: sf.attrs.get(k) for k in
                                    ("source_format", "source_file", "source_sha256", "importer_version")}
            out["vendor_groups"] = [g for g in _VENDOR_GROUPS if g in sf.extra_groups()]
        truth, params = sf.truth()
        if truth is not None:
            out["truth"] = {s: {k: int(len(v)) for k, v in ev.items()} for s, ev in truth.items()}
            out["truth_profile"] = params.get("name")
        return out


@click.command("info")
@click.argument("file", type=click.Path(path_type=Path))
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of text.")
def info_command(file: Path, as_json: bool) -> None:
    """Show what is in a session FILE (and check that it is valid)."""
    d = describe_session(file)
    if as_json:
        click.echo(json.dumps(d, indent=2, default=str))
        return
    click.echo(f"{d['file']}: {d['format']} v{d['format_version']}, {d['source']}, created {d['created_utc']}")
    click.echo(f"  software: {d['software']}; complete: {d['state_text']}")
    s = d["session"]
    fields = ", ".join(f"{k}={v}" for k, v in s.items() if v is not None)
    click.echo(f"  session: {fields or '(no metadata)'}")
    if d["missing_metadata"]:
        click.echo(f"  missing metadata: {', '.join(d['missing_metadata'])}")
    for side, f in d["feet"].items():
        span = f"{f['start_s']:.2f}-{f['end_s']:.2f} s" if f["frames"] else "empty"
        click.echo(
            f"  {side}: {f['frames']} frames, {span}, {f['sampling_rate_hz']:g} Hz, {f['sensors']} sensors "
            f"({f['layout_id']}, {f['units']}), {f['gaps']} gaps ({f['gap_total_s']:.2f} s)"
        )
        if f["gaps_by_cause"]:
            causes = ", ".join(
                f"{cause} {v['gaps']} ({v['frames']} frames{' + unknown' if v['gaps_without_count'] else ''})"
                for cause, v in f["gaps_by_cause"].items()
            )
            click.echo(f"        gaps by cause: {causes}")
        if "clock_drift_ppm" in f:
            click.echo(
                f"        clock drift {f['clock_drift_ppm']:+.1f} ppm, residual {f['clock_residual_s'] * 1e3:.2f} ms"
            )
        if "imu" in f:
            imu = f["imu"]
            ranges = ", ".join(text for value, text in (
                (imu["acc_range_m_s2"], f"±{imu['acc_range_m_s2'] / 9.80665:.0f} g"),
                (imu["gyr_range_rad_s"], f"±{math.degrees(imu['gyr_range_rad_s']):.0f} deg/s")) if math.isfinite(value))
            frame = "foot sensor frame" if imu["frame"] == "foot" else "device axes (mounting unknown)"
            click.echo(f"        IMU: {imu['samples']} samples, {imu['sampling_rate_hz']:g} Hz, {frame}"
                       + (f", {ranges}" if ranges else ""))
    if "imported_from" in d:
        imp = d["imported_from"]
        click.echo(f"  imported from {imp['source_format']} file {imp['source_file']} (sha256 "
                   f"{str(imp['source_sha256'])[:16]}..., importer {imp['importer_version']})")
        if d["vendor_groups"]:
            click.echo(f"  vendor reference data (not used by analysis): /{', /'.join(d['vendor_groups'])}")
    if "truth" in d:
        counts = ", ".join(f"{s}: {v.get('ic_s', 0)} IC / {v.get('to_s', 0)} TO" for s, v in d["truth"].items())
        click.echo(f"  ground truth ({d['truth_profile']}): {counts}")

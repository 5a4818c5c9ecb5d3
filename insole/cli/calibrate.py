"""``insole calibrate``: build a per-cell calibration from known loads, and recalibrate stored sessions."""

from __future__ import annotations

import math
from pathlib import Path
from typing import TYPE_CHECKING

import click

from insole.errors import ConfigurationError

if TYPE_CHECKING:
    import numpy as np


@click.group("calibrate")
def calibrate_group() -> None:
    """Calibrate raw insole counts to kPa (procedure: see `insole calibrate fit --help`)."""


def _parse_step(text: str) -> tuple[float, Path]:
    load, sep, path = text.partition(":")
    try:
        load_kpa = float(load)
    except ValueError:
        load_kpa = float("nan")
    if not sep or not path or not math.isfinite(load_kpa) or load_kpa < 0:
        raise ConfigurationError(f"--step must look like LOAD_KPA:FILE.h5 (e.g. 50:load_050.h5), got {text!r}")
    return load_kpa, Path(path)


@calibrate_group.command("fit")
@click.option("--step", "steps", multiple=True, required=True,
              help="LOAD_KPA:SESSION.h5, one per known uniform load (0 kPa included); repeat 3 or more times.")
@click.option("--side", type=click.Choice(["left", "right"]), default=None,
              help="Foot to use when the sessions hold both (default: the only one).")
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path), required=True,
              help="Calibration file; name it SERIAL_NUMBER.json or MODEL.json for automatic use.")
@click.option("--overwrite", is_flag=True, help="Replace an existing calibration file.")
@click.option("--allow-broken", is_flag=True,
              help="Mark cells without a monotone response as broken (NaN when applied) instead of refusing.")
@click.option("--min-span-counts", type=click.FloatRange(min=0), default=3.0, show_default=True,
              help="With --allow-broken: a cell changing less than this across the loads is broken (dead).")
def fit_command(steps: tuple[str, ...], side: str | None, output: Path, overwrite: bool, allow_broken: bool,
                min_span_counts: float) -> None:
    """Fit per-cell curves from sessions recorded at known uniform loads.

    \b
    Procedure (uniform-pressure bladder, as for other pressure-mapping insoles):
      1. put the insole flat in the bladder and connect it;
      2. for each load (0 kPa and at least 3 more, spanning 0-600 kPa for walking), settle, then record
         5 s:  insole record --device URL --duration-s 5 -o load_050.h5
      3. insole calibrate fit --step 0:load_000.h5 --step 50:load_050.h5 ... -o SERIAL.json
      4. put SERIAL.json in the calibration folder (insole record --calibration-dir, $INSOLE_CALIBRATION_DIR
         or ~/.config/insole/calibrations).
    """
    from insole.calibration import fit_calibration
    from insole.session import open_session

    if output.exists() and not overwrite:
        raise ConfigurationError(f"{output} already exists; choose another name or pass --overwrite")
    data: list[tuple[float, np.ndarray]] = []
    serials, models = set(), set()
    for text in steps:
        load, path = _parse_step(text)
        with open_session(path) as sf:
            use = side or (sf.sides[0] if len(sf.sides) == 1 else None)
            if use is None:
                raise ConfigurationError(f"{path} holds both feet; choose one with --side")
            info = sf.foot_info(use)  # type: ignore[arg-type]
            if not info.has_raw and info.units != "raw":
                raise ConfigurationError(f"{path} /{use} holds calibrated values, not raw counts")
            block = sf.read(use, fields=("raw",) if info.has_raw else ("pressure",))  # type: ignore[arg-type]
            raw = block.raw if info.has_raw else block.pressure
            serials.add(str(info.device.get("serial_number", "")))
            models.add(str(info.device.get("model", "")))
        data.append((load, raw))
    if len(serials) > 1:
        raise ConfigurationError(f"the sessions come from different insoles: {sorted(serials)}")
    cal = fit_calibration(data, model=models.pop(), serial_number=serials.pop(), allow_broken=allow_broken,
                          min_span_counts=min_span_counts)
    output.write_text(cal.to_json())
    trend = "rise" if cal.direction > 0 else "fall"
    broken = f"; {len(cal.broken_cells)} broken: {_cells(cal.broken_cells)}" if cal.broken_cells else ""
    click.echo(f"wrote {output}: {cal.n_sensors} cells (counts {trend} with load{broken}), loads "
               f"{', '.join(f'{x:g}' for x in cal.load_kpa)} kPa")


def _cells(cells: list[int]) -> str:
    """1-based cell numbers, at most 20 shown."""
    shown = ", ".join(str(c + 1) for c in cells[:20])
    return shown + (f", ... ({len(cells)} in all)" if len(cells) > 20 else "")


@calibrate_group.command("apply")
@click.argument("session", type=click.Path(path_type=Path))
@click.option("--calibration", "cal_path", type=click.Path(dir_okay=False, path_type=Path), required=True)
@click.option("--side", type=click.Choice(["left", "right", "both"]), default="both", show_default=True)
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path), required=True)
@click.option("--overwrite", is_flag=True)
def apply_command(session: Path, cal_path: Path, side: str, output: Path, overwrite: bool) -> None:
    """Recalibrate SESSION from its raw counts into a new session file."""
    from insole.calibration import Calibration
    from insole.recalibrate import recalibrate_session
    from insole.session import open_session

    cal = Calibration.load(cal_path)
    with open_session(session) as sf:
        sides = sf.sides if side == "both" else [side]
    recalibrate_session(session, output, {s: cal for s in sides}, calibration_source=str(cal_path),  # type: ignore[misc]
                        overwrite=overwrite)
    click.echo(f"wrote {output} ({', '.join(sides)} recalibrated with {cal_path})")
    with open_session(output) as sf:
        for s in sides:
            faulty = set()
            for block in sf.iter_blocks(s, 1 << 15, fields=("raw",)):  # type: ignore[arg-type]
                faulty |= set(cal.faulty_cells(block.raw)) - set(cal.broken_cells)
            if faulty:
                click.echo(f"warning: {s}: {len(faulty)} cell(s) read far outside their calibrated range in this "
                           f"recording (stored as NaN there; broken?): {_cells(sorted(faulty))}")

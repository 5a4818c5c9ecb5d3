"""``insole export``: a session for the lab's tools (C3D) or for R and pandas (tidy CSV / Parquet)."""

from __future__ import annotations

from pathlib import Path

import click

from pipeline.errors import AnalysisError


@click.group("export")
def export_group() -> None:
    """Export a session: C3D for motion-capture software, long-format CSV / Parquet for R and pandas."""


def _analysis(session: Path, events: bool):  # type: ignore[no-untyped-def]
    if not events:
        return None
    from pipeline.analysis import analyze_session

    try:
        return analyze_session(session)
    except AnalysisError as exc:
        raise AnalysisError(f"{exc} (no gait events to export; pass --no-events to export the signals only)") from None


@export_group.command("c3d")
@click.argument("session", type=click.Path(path_type=Path))
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path), required=True, help="C3D file.")
@click.option("--no-events", is_flag=True, help="Do not analyse: write the force and CoP channels only.")
@click.option("--overwrite", is_flag=True)
def c3d_command(session: Path, output: Path, no_events: bool, overwrite: bool) -> None:
    """Write SESSION as C3D: total force and CoP per foot as analog channels, Foot Strike / Foot Off events."""
    from pipeline.export.c3d_file import write_c3d

    result = _analysis(session, not no_events)
    out = write_c3d(session, output, result.steps if result is not None else None, overwrite=overwrite)
    n = 0 if result is None else int(result.steps[["ic_s", "to_s"]].notna().to_numpy().sum())
    click.echo(f"wrote {out} ({n} events)")


def _tables(fmt: str):  # type: ignore[no-untyped-def]
    @export_group.command(fmt)
    @click.argument("session", type=click.Path(path_type=Path))
    @click.option("-o", "--output", "out_dir", type=click.Path(file_okay=False, path_type=Path), required=True,
                  help="Folder for frames, cells and steps tables.")
    @click.option("--no-steps", is_flag=True, help="Do not analyse: write the frames and cells only.")
    @click.option("--overwrite", is_flag=True)
    def command(session: Path, out_dir: Path, no_steps: bool, overwrite: bool) -> None:
        from pipeline.export.tables import write_tables

        result = _analysis(session, not no_steps)
        units = {c.name: c.unit for c in result.metrics.step_columns} if result is not None else None
        paths = write_tables(session, out_dir, fmt, result.steps if result is not None else None, units,
                             overwrite=overwrite)
        click.echo("wrote " + ", ".join(str(p) for p in paths.values()))

    command.__doc__ = (f"Write SESSION as long-format {fmt.upper()} tables in a folder: frames (one row per frame "
                       "and cell), cells (positions, areas) and steps (one row per stance and variable).")
    command.help = command.__doc__
    return command


csv_command = _tables("csv")
parquet_command = _tables("parquet")

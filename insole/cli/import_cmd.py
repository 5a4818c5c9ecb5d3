"""``insole import``: convert a third-party recording into a session file."""

from __future__ import annotations

from pathlib import Path

import click

from insole.cli.lazy import LazyChoice
from insole.cli.options import metadata_from_options, metadata_options


def _format_names() -> list[str]:
    from insole.importers import FORMATS

    return [*FORMATS, "auto"]


@click.command("import")
@click.argument("fmt", metavar="FORMAT", type=LazyChoice(_format_names))
@click.argument("src", type=click.Path(path_type=Path))
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path), required=True, help="Session file.")
@click.option("--overwrite", is_flag=True, help="Replace an existing output file.")
@click.option("--side", type=click.Choice(["left", "right"]), default=None,
              help="Which foot a one-foot file is, when the file does not say (stappone; F-Scan without L/R name).")
@click.option("--pair", type=click.Path(path_type=Path), default=None,
              help="F-Scan: the other foot's movie (default: the sibling whose name ends in the other L/R).")
@metadata_options
def import_command(fmt: str, src: Path, output: Path, overwrite: bool, side: str | None, pair: Path | None,
                   **meta: object) -> None:
    """Import SRC (a FORMAT recording) into a session file.

    \b
    Formats:
      gaitndd  PhysioNet gaitndd record: SRC is the .hea file (the .let/.rit files must be next to it)
      gaitpdb  PhysioNet gaitpdb walk .txt (demographics.txt next to it fills height/weight)
      moticon  Moticon OpenGo text export .txt
      csv      generic insole CSV (docs/import-csv.md)
      pedar    novel pedar ASCII export .asc (99 cells per foot; geometry by insole size)
      fscan    Tekscan F-Scan ASCII movie .asf (one foot per file; the L/R sibling file is paired)
      xsensor  XSENSOR Foot CSV export (both feet, mmHg converted to kPa)
      stappone stappone insole CSV (one sole, raw channels; give --side)
      auto     recognise the format from the file

    Large ASCII exports are read in chunks (memory does not grow with the file).

    Metadata options override what the source says; --foot-length-mm also scales the sensor layout.
    """
    from insole.importers import import_recording
    from insole.session import open_session

    md = metadata_from_options(meta)
    out = import_recording(fmt, src, output, metadata=md, overwrite=overwrite, side=side, pair=pair)
    with open_session(out) as session:  # a summary without loading the frames (exports can be large)
        parts, spans = [], []
        for s in session.sides:
            info = session.foot_info(s)
            parts.append(f"{s} {info.n_frames} frames x {info.n_sensors} sensors ({info.units}, {info.n_gaps} gaps)")
            span = session.time_span_s(s)
            spans += list(span) if span else []
        duration = max(spans) - min(spans) if spans else 0.0
        click.echo(f"wrote {out} ({session.attrs['source_format']}: {'; '.join(parts)}; {duration:.1f} s)")

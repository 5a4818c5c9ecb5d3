"""``insole import``: convert a third-party recording into a session file."""

from __future__ import annotations

from pathlib import Path

import click

from insole.cli.options import metadata_from_options, metadata_options
from insole.importers import FORMATS, import_recording
from insole.session import read_session


@click.command("import")
@click.argument("fmt", metavar="FORMAT", type=click.Choice([*FORMATS, "auto"]))
@click.argument("src", type=click.Path(path_type=Path))
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path), required=True, help="Session file.")
@click.option("--overwrite", is_flag=True, help="Replace an existing output file.")
@metadata_options
def import_command(fmt: str, src: Path, output: Path, overwrite: bool, **meta: object) -> None:
    """Import SRC (a FORMAT recording) into a session file.

    \b
    Formats:
      gaitndd  PhysioNet gaitndd record: SRC is the .hea file (the .let/.rit files must be next to it)
      gaitpdb  PhysioNet gaitpdb walk .txt (demographics.txt next to it fills height/weight)
      moticon  Moticon OpenGo text export .txt
      csv      generic insole CSV (docs/import-csv.md)
      auto     recognise the format from the file

    Metadata options override what the source says; --foot-length-mm also scales the sensor layout.
    """
    md = metadata_from_options(meta)
    out = import_recording(fmt, src, output, metadata=md, overwrite=overwrite)
    session = read_session(out)
    parts = [f"{side} {foot.n_frames} frames x {foot.pressure.shape[1]} sensors ({foot.units}, "
             f"{len(foot.gaps)} gaps)" for side, foot in session.feet.items()]
    click.echo(f"wrote {out} ({session.attrs['source_format']}: {'; '.join(parts)}; {session.duration_s:.1f} s)")

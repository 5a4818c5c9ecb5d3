"""``insole repair``: make an interrupted recording open in every HDF5 program (``docs/session-format.md``)."""

from __future__ import annotations

from pathlib import Path

import click


@click.command("repair")
@click.argument("file", type=click.Path(path_type=Path))
@click.option("--keep-backup", is_flag=True, help="Keep the original as FILE.bak.")
def repair_command(file: Path, keep_backup: bool) -> None:
    """Rewrite an interrupted recording FILE (killed, power lost) so that HDFView, MATLAB and R open it.

    Every frame up to the recorder's last flush is kept; the file is marked as recovered. Files that are not
    insole sessions, and recordings still in progress, are refused. Nothing else (analyze, info) ever modifies a
    session file.
    """
    from insole.session import repair_session

    result = repair_session(file, keep_backup=keep_backup)
    if not result.repaired:
        click.echo(f"{result.path}: nothing to repair: it {result.reason}")
        return
    kept = ", ".join(f"{side} {n} frames" + (f" ({result.dropped[side]} inconsistent dropped)"
                                              if result.dropped.get(side) else "")
                     for side, n in result.frames.items())
    click.echo(f"repaired {result.path}: {kept}; marked as recovered"
               + (f"; original kept as {result.backup}" if result.backup else ""))

"""``insole norms``: build a reference cohort from a folder of healthy recordings, and show a cohort."""

from __future__ import annotations

from pathlib import Path

import click


@click.group("norms")
def norms_command() -> None:
    """Reference cohorts: distributions of every metric in healthy recordings of one insole model."""


@norms_command.command("build")
@click.argument("folder", type=click.Path(exists=True, file_okay=False, path_type=Path))
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path), required=True,
              help="Cohort file (JSON) to write.")
@click.option("--name", required=True, help="Short name shown beside every position, e.g. 'clinic X healthy, 2026'.")
@click.option("--description", default="", help="Who was recorded, how, with which shoes.")
@click.option("--dataset", default="", help="Where the recordings come from (kept with every source).")
def build_command(folder: Path, output: Path, name: str, description: str, dataset: str) -> None:
    """Build a cohort from every session file (*.h5) below FOLDER: healthy people, one insole model."""
    from pipeline.norms.build import build_cohort, session_files

    files = session_files(folder)
    cohort = build_cohort(files, name=name, description=description, dataset=dataset)
    cohort.save(output)
    click.echo(f"wrote {output}: {cohort.label()}; {len(cohort.metrics)} metrics")
    for note in cohort.notes:
        click.echo(f"note: {note}")


@norms_command.command("show")
@click.argument("file", type=click.Path(path_type=Path))
def show_command(file: Path) -> None:
    """Show what a cohort FILE holds: device, sources, n, and the median of every metric."""
    import numpy as np

    from pipeline.norms.cohort import load_cohort

    cohort = load_cohort(file)
    click.echo(cohort.label())
    click.echo(f"  {cohort.description}" if cohort.description else "  (no description)")
    click.echo(f"  built {cohort.built_utc} by {cohort.software}")
    for note in cohort.notes:
        click.echo(f"  note: {note}")
    for name, m in cohort.metrics.items():
        v = np.asarray(m.values(), float)
        click.echo(f"  {name}: median {np.median(v):.4g} {m.unit} (IQR {np.percentile(v, 25):.4g}-"
                   f"{np.percentile(v, 75):.4g}; {len(v)} feet of {m.n_subjects} subjects)")


def cohort_option(func):
    """``--cohort FILE|auto|none`` for the commands that analyse sessions."""
    return click.option(
        "--cohort", "cohort", default="auto", show_default=True, metavar="FILE|auto|none",
        help="Reference cohort to position every figure in: a file from `insole norms build`, 'auto' for the "
             "cohort shipped for the session's insoles (if any), or 'none'.")(func)


def cohort_argument(value: str) -> str | Path | None:
    """The ``cohort=`` argument of :func:`pipeline.analysis.analyze_session` for an option value."""
    return None if value == "none" else "auto" if value == "auto" else Path(value)

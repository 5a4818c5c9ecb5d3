"""The installed ``insole`` program: the device commands of :mod:`insole.cli` plus analysis and reports."""

from __future__ import annotations

import sys
from collections.abc import Sequence
from pathlib import Path

import click

from insole.cli import USER_ERRORS, cli, run
from insole.simulator.profiles import PROFILES
from insole.simulator.session import simulate_session
from pipeline.analysis import analyze_session
from pipeline.batch.command import batch_command
from pipeline.errors import PipelineError
from pipeline.export.command import export_group
from pipeline.norms.command import cohort_argument, cohort_option, norms_command
from pipeline.report import write_report, write_report_json
from pipeline.report.comparison import load_sem_file, write_comparison, write_comparison_json

USER_ERRORS.append(PipelineError)
cli.add_command(batch_command)
cli.add_command(norms_command)
cli.add_command(export_group)


def check_outputs(**outputs: Path | None) -> None:
    """Refuse, before any work, an output whose folder does not exist or cannot be written (``--json`` etc.)."""
    import os

    for option, path in outputs.items():
        if path is None:
            continue
        folder = path.parent if str(path.parent) else Path(".")
        hint = "--" + option.replace("_", "-")
        if not folder.is_dir():
            raise click.BadParameter(f"cannot write {path}: the folder {folder} does not exist", param_hint=hint)
        if not os.access(folder, os.W_OK):
            raise click.BadParameter(f"cannot write {path}: the folder {folder} is not writable", param_hint=hint)
        if path.is_dir():
            raise click.BadParameter(f"cannot write {path}: it is a folder", param_hint=hint)


@cli.command("analyze")
@click.argument("file", type=click.Path(path_type=Path))
@click.option("--json", "json_path", type=click.Path(dir_okay=False, path_type=Path), help="Write metrics JSON here.")
@click.option("--steps", "steps_path", type=click.Path(dir_okay=False, path_type=Path), help="Write per-step CSV.")
@cohort_option
def analyze_command(file: Path, json_path: Path | None, steps_path: Path | None, cohort: str) -> None:
    """Analyse a session FILE: gait events, strides, phases and summaries."""
    check_outputs(json=json_path, steps=steps_path)
    result = analyze_session(file, cohort=cohort_argument(cohort))
    if json_path:
        result.write_metrics(json_path)
    if steps_path:
        result.write_steps(steps_path)
    m = result.metrics
    for side in m.sides:
        sr = m.side(side)
        s, st, ff = sr.stride_time_s, sr.stance_pct, sr.foot_function
        if not sr.analysed:
            click.echo(f"{side}: not analysed: {sr.reason}")
        elif s.available:
            click.echo(f"{side}: {s.n} strides, median stride {s.median:.3f} s, stance {st.median:.1f} %, "
                       f"foot function {ff.label}" + (f" (insole CPEI at the {ff.reference.percentile:.0f}th "
                                                      f"percentile of {ff.reference.cohort})" if ff.reference else ""))
        else:
            click.echo(f"{side}: no steady-state strides")
    cad = m.bilateral.cadence_steps_per_min
    if cad.available:
        click.echo(f"cadence {cad.median:.1f} steps/min ({cad.n} strides)")
    click.echo(m.bilateral.lld_pattern.wording)
    q = m.quality
    click.echo("quality: passed" if q.passed else "quality: FAILED: " + "; ".join(f.message for f in q.failures))
    for w in q.warnings:
        click.echo(f"warning: {w.message}")


@cli.command("report")
@click.argument("file", type=click.Path(path_type=Path))
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path), required=True, help="HTML file.")
@click.option("--json", "json_path", type=click.Path(dir_okay=False, path_type=Path),
              help="Also write the report's content as JSON here.")
@cohort_option
def report_command(file: Path, output: Path, json_path: Path | None, cohort: str) -> None:
    """Write the self-contained HTML report of a session FILE (and optionally its JSON twin)."""
    check_outputs(output=output, json=json_path)
    result = analyze_session(file, cohort=cohort_argument(cohort))
    out = write_report(result, output)
    click.echo(f"wrote {out}")
    if json_path:
        click.echo(f"wrote {write_report_json(result, json_path)}")


@cli.command("compare")
@click.argument("before", type=click.Path(path_type=Path))
@click.argument("after", type=click.Path(path_type=Path))
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path), required=True, help="HTML file.")
@click.option("--json", "json_path", type=click.Path(dir_okay=False, path_type=Path),
              help="Also write the comparison as JSON here.")
@click.option("--allow-different-devices", is_flag=True,
              help="Compare sessions recorded with different sensor layouts, cell counts or units (caveated).")
@click.option("--sem", "sem_path", type=click.Path(dir_okay=False, path_type=Path),
              help='JSON of published test-retest SEMs: {"stance_time_s": {"sem": 0.012, "source": "..."}}.')
@cohort_option
def compare_command(before: Path, after: Path, output: Path, json_path: Path | None, allow_different_devices: bool,
                    sem_path: Path | None, cohort: str) -> None:
    """Compare two sessions, BEFORE and AFTER (e.g. shoes vs orthotic): change, effect size, CI and MDC95."""
    check_outputs(output=output, json=json_path)
    sem = load_sem_file(sem_path) if sem_path else None
    chosen = cohort_argument(cohort)
    b, a = analyze_session(before, cohort=chosen), analyze_session(after, cohort=chosen)
    kwargs = {"allow_different_devices": allow_different_devices, "sem_overrides": sem}
    click.echo(f"wrote {write_comparison(b, a, output, **kwargs)}")
    if json_path:
        click.echo(f"wrote {write_comparison_json(b, a, json_path, **kwargs)}")


@cli.command("demo")
@click.option("--out", "out_dir", type=click.Path(file_okay=False, path_type=Path), default=Path("insole-demo"),
              show_default=True, help="Folder for the session, metrics and report.")
@click.option("--profile", type=click.Choice(list(PROFILES)), default="neutral", show_default=True)
@click.option("--duration-s", type=click.FloatRange(min=5), default=60.0, show_default=True)
@click.option("--seed", type=int, default=1, show_default=True)
def demo_command(out_dir: Path, profile: str, duration_s: float, seed: int) -> None:
    """Simulate a walk, record it through the real recorder, analyse it and write the report.

    No real cohort covers the simulated insole, so the demo also records ten simulated healthy walkers and
    positions the walk among them (named "not a clinical reference" wherever it is shown).
    """
    from pipeline.norms.simulated import simulated_cohort

    out_dir.mkdir(parents=True, exist_ok=True)
    session = out_dir / "session.h5"
    summary = simulate_session(session, profile=profile, duration_s=duration_s, seed=seed, overwrite=True,
                               device_params="imu=1")
    click.echo(f"recorded   {session}  ({summary.duration_s:.1f} s, profile {profile}, insoles with an IMU)")
    cohort = simulated_cohort(out_dir / "cohort-walkers").save(out_dir / "cohort.json")
    click.echo(f"cohort     {cohort}  (10 simulated walkers: shows how positions work, not a clinical reference)")
    result = analyze_session(session, cohort=cohort)
    result.write_metrics(out_dir / "metrics.json")
    result.write_steps(out_dir / "steps.csv")
    click.echo(f"analysed   {out_dir / 'metrics.json'}  {out_dir / 'steps.csv'}")
    report = write_report(result, out_dir / "report.html")
    write_report_json(result, out_dir / "report.json")
    click.echo(f"report     {report}  {out_dir / 'report.json'}")


def main(argv: Sequence[str] | None = None) -> None:
    """Entry point of the ``insole`` program."""
    sys.exit(run(cli, argv))

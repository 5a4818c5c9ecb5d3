"""``insole analyze``: gait events, strides, phases and summaries of one session, on the terminal and as files."""

from __future__ import annotations

from pathlib import Path

import click

from pipeline.commands.outputs import check_outputs
from pipeline.norms.command import cohort_argument, cohort_option


@click.command("analyze")
@click.argument("file", type=click.Path(path_type=Path))
@click.option("--json", "json_path", type=click.Path(dir_okay=False, path_type=Path), help="Write metrics JSON here.")
@click.option("--steps", "steps_path", type=click.Path(dir_okay=False, path_type=Path), help="Write per-step CSV.")
@cohort_option
def analyze_command(file: Path, json_path: Path | None, steps_path: Path | None, cohort: str) -> None:
    """Analyse a session FILE: gait events, strides, phases and summaries."""
    from pipeline.analysis import analyze_session

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

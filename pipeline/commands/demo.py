"""``insole demo``: simulate a walk, record it through the real recorder, analyse it and write its report."""

from __future__ import annotations

from pathlib import Path

import click

from insole.simulator.profiles import PROFILES


@click.command("demo")
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
    from insole.simulator.session import simulate_session
    from pipeline.analysis import analyze_session
    from pipeline.norms.simulated import simulated_cohort
    from pipeline.report import write_report, write_report_json

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

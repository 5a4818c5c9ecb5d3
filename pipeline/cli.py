"""The installed ``insole`` program: the device commands of :mod:`insole.cli` plus analysis and reports."""

from __future__ import annotations

import json
import sys
from collections.abc import Sequence
from pathlib import Path

import click

from insole.cli import USER_ERRORS, cli, run
from insole.cli.simulate import simulate_session
from insole.simulator.profiles import PROFILES
from pipeline.analysis import analyze_session
from pipeline.batch.command import batch_command
from pipeline.errors import PipelineError
from pipeline.report import write_report

USER_ERRORS.append(PipelineError)
cli.add_command(batch_command)


@cli.command("analyze")
@click.argument("file", type=click.Path(path_type=Path))
@click.option("--json", "json_path", type=click.Path(dir_okay=False, path_type=Path), help="Write metrics JSON here.")
@click.option("--steps", "steps_path", type=click.Path(dir_okay=False, path_type=Path), help="Write per-step CSV.")
def analyze_command(file: Path, json_path: Path | None, steps_path: Path | None) -> None:
    """Analyse a session FILE: gait events, strides, phases and summaries."""
    result = analyze_session(file)
    if json_path:
        json_path.write_text(json.dumps(result.to_dict(), indent=2))
    if steps_path:
        result.steps.to_csv(steps_path, index=False)
    for side in ("left", "right"):
        m = result.metrics.get(side)
        if m:
            s = m["stride_time_s"]
            click.echo(f"{side}: {s['n']} strides, median stride {s['median']:.3f} s" if s["n"] else f"{side}: none")


@cli.command("report")
@click.argument("file", type=click.Path(path_type=Path))
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path), required=True, help="HTML file.")
def report_command(file: Path, output: Path) -> None:
    """Write the HTML report of a session FILE."""
    out = write_report(analyze_session(file), output)
    click.echo(f"wrote {out}")


@cli.command("demo")
@click.option("--out", "out_dir", type=click.Path(file_okay=False, path_type=Path), default=Path("insole-demo"),
              show_default=True, help="Folder for the session, metrics and report.")
@click.option("--profile", type=click.Choice(list(PROFILES)), default="neutral", show_default=True)
@click.option("--duration-s", type=click.FloatRange(min=5), default=60.0, show_default=True)
@click.option("--seed", type=int, default=1, show_default=True)
def demo_command(out_dir: Path, profile: str, duration_s: float, seed: int) -> None:
    """Simulate a walk, record it through the real recorder, analyse it and write the report."""
    out_dir.mkdir(parents=True, exist_ok=True)
    session = out_dir / "session.h5"
    summary = simulate_session(session, profile=profile, duration_s=duration_s, seed=seed, overwrite=True)
    click.echo(f"recorded   {session}  ({summary.duration_s:.1f} s, profile {profile})")
    result = analyze_session(session)
    (out_dir / "metrics.json").write_text(json.dumps(result.to_dict(), indent=2))
    result.steps.to_csv(out_dir / "steps.csv", index=False)
    click.echo(f"analysed   {out_dir / 'metrics.json'}  {out_dir / 'steps.csv'}")
    report = write_report(result, out_dir / "report.html")
    click.echo(f"report     {report}")


def main(argv: Sequence[str] | None = None) -> None:
    """Entry point of the ``insole`` program."""
    sys.exit(run(cli, argv))

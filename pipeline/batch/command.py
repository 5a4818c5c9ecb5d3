"""``insole batch INBOX --out OUTDIR``: the nightly batch command."""

from __future__ import annotations

import dataclasses
import os
import sys
from pathlib import Path
from typing import Any

import click

from pipeline.batch.safety import Limits
from pipeline.norms.command import cohort_option

_DEFAULT = Limits()


def _parse_params(items: tuple[str, ...]) -> dict[str, Any]:
    """``KEY=VALUE`` options converted to the type of the :class:`AnalysisParams` default, then range-checked
    (:func:`pipeline.batch.params.check_params`), so a bad value stops the command before any file is read."""
    from pipeline.analysis import AnalysisParams
    from pipeline.batch.params import ParameterError, check_params

    known = {f.name: f for f in dataclasses.fields(AnalysisParams)}
    out: dict[str, Any] = {}
    for item in items:
        key, sep, text = item.partition("=")
        key = key.strip().replace("-", "_")
        if not sep or key not in known:
            raise click.BadParameter(f"{item!r}: expected NAME=VALUE with NAME one of {', '.join(known) or '(none)'}",
                                     param_hint="--param")
        f = known[key]
        default = f.default if f.default is not dataclasses.MISSING else None
        try:
            if isinstance(default, bool):
                low = text.strip().lower()
                if low not in ("true", "false", "1", "0", "yes", "no"):
                    raise ValueError(text)
                value: Any = low in ("true", "1", "yes")
            elif isinstance(default, int):
                value = int(text)
            elif isinstance(default, float):
                value = float(text)
            else:
                value = text
        except ValueError:
            raise click.BadParameter(f"{item!r}: {key} needs a {type(default).__name__}",
                                     param_hint="--param") from None
        out[key] = value
    try:
        check_params(out)
    except ParameterError as exc:
        raise click.BadParameter(str(exc), param_hint="--param") from None
    return out


@click.command("batch")
@click.argument("inbox", type=click.Path(exists=True, file_okay=False, path_type=Path))
@click.option("--out", "out_dir", type=click.Path(file_okay=False, path_type=Path), required=True,
              help="Output folder: sessions/, quarantine/, summary.html, summary.csv, ledger.sqlite.")
@click.option("--workers", type=click.IntRange(min=1), default=min(4, os.cpu_count() or 1), show_default=True,
              help="Files processed at the same time on this machine.")
@click.option("--scheduler", default=None, metavar="tcp://HOST:PORT",
              help="Run the files on this Dask distributed scheduler instead of local processes.")
@click.option("--param", "param_items", multiple=True, metavar="NAME=VALUE",
              help="Analysis parameter (repeatable); a change reprocesses every session.")
@click.option("--timeout-s", type=click.FloatRange(min=1), default=_DEFAULT.timeout_s, show_default=True,
              help="Time limit per file.")
@click.option("--max-memory-mb", type=click.FloatRange(min=64), default=_DEFAULT.max_memory_mb, show_default=True,
              help="Memory a worker may add per file (memory guard).")
@click.option("--max-file-mb", type=click.FloatRange(min=0.001), default=_DEFAULT.max_file_mb, show_default=True,
              help="Larger uploads are quarantined unread.")
@click.option("--min-age-s", type=click.FloatRange(min=0), default=120.0, show_default=True,
              help="Skip files modified this recently (upload in progress); they are processed next run.")
@click.option("--retry-failed", is_flag=True, help="Process again uploads quarantined earlier (e.g. after a timeout).")
@click.option("--change-pct", type=click.FloatRange(min=0), default=10.0, show_default=True,
              help="Relative change of a median flagged in the summary when the metrics carry no CI.")
@click.option("--quiet", is_flag=True, help="Only warnings and the final line.")
@cohort_option
def batch_command(inbox: Path, out_dir: Path, workers: int, scheduler: str | None, param_items: tuple[str, ...],
                  timeout_s: float, max_memory_mb: float, max_file_mb: float, min_age_s: float, retry_failed: bool,
                  change_pct: float, quiet: bool, cohort: str) -> None:
    """Process every new session upload in INBOX (clinic/subject/session folders) into --out.

    Idempotent (a ledger keyed by content hash, software version and parameters), quarantining (failed uploads
    are copied to OUT/quarantine with a reason; the night goes on), resumable (kill it and start it again).
    Exit code 0: nothing failed; 3: uploads were quarantined (see summary.html); 1: the batch could not run.
    """
    if scheduler and not scheduler.startswith(("tcp://", "tls://")):
        raise click.BadParameter("must look like tcp://HOST:PORT", param_hint="--scheduler")
    from pipeline.batch.night import BatchConfig, run_night
    from pipeline.batch.progress import NightProgress

    cfg = BatchConfig(
        inbox=inbox, out_dir=out_dir, workers=workers, scheduler=scheduler, params=_parse_params(param_items),
        limits=Limits(max_file_mb=max_file_mb, max_memory_mb=max_memory_mb, timeout_s=timeout_s),
        retry_failed=retry_failed, min_age_s=min_age_s, change_pct=change_pct, cohort=cohort,
    )
    progress = NightProgress(quiet=quiet)
    result = run_night(cfg, progress)
    c = result.counts
    click.echo(
        f"night {result.run_id}: {c['processed']} processed, {c['unchanged']} unchanged, {c['duplicates']} "
        f"duplicate(s), {c['quarantined']} quarantined, {c['errors']} error(s), {c['deferred']} deferred; "
        f"summary {result.summary_html}"
    )
    if result.exit_code:
        # sys.exit, not click's Exit: insole.cli.run turns click's Exit into 0 when standalone_mode is off
        sys.exit(result.exit_code)


__all__ = ["batch_command"]

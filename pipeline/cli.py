"""The installed ``insole`` program: the device commands of :mod:`insole.cli` plus analysis and reports.

Every subcommand is loaded on first use (:class:`insole.cli.lazy.LazyGroup`), so ``insole --help`` and
``insole COMMAND --help`` import no analysis, and each command imports only what it uses.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence

from insole.cli import USER_ERRORS, cli, run
from pipeline.errors import PipelineError

USER_ERRORS.append(PipelineError)

#: The analysis-side commands: name, where it lives, its one-line summary.
COMMANDS: tuple[tuple[str, str, str], ...] = (
    ("analyze", "pipeline.commands.analyze:analyze_command",
     "Analyse a session FILE: gait events, strides, phases and summaries."),
    ("batch", "pipeline.batch.command:batch_command",
     "Process every new session upload in INBOX (clinic/subject/session folders) into --out."),
    ("compare", "pipeline.commands.report:compare_command",
     "Compare two sessions, BEFORE and AFTER (e.g. shoes vs orthotic): change, effect size, CI and MDC95."),
    ("demo", "pipeline.commands.demo:demo_command",
     "Simulate a walk, record it through the real recorder, analyse it and write the report."),
    ("export", "pipeline.export.command:export_group",
     "Export a session: C3D for motion-capture software, long-format CSV / Parquet for R and pandas."),
    ("norms", "pipeline.norms.command:norms_command",
     "Reference cohorts: distributions of every metric in healthy recordings of one insole model."),
    ("report", "pipeline.commands.report:report_command",
     "Write the self-contained HTML report of a session FILE (and optionally its JSON twin and an A4 PDF)."),
)
cli.add_lazy_commands(COMMANDS)


def main(argv: Sequence[str] | None = None) -> None:
    """Entry point of the ``insole`` program."""
    sys.exit(run(cli, argv))

"""The analysis-side subcommands of ``insole`` (analyze, report, compare, demo), one module each.

Each is imported only when it runs (:mod:`insole.cli.lazy`); the heavy modules (analysis, report, simulator) are
imported inside the command functions, so ``insole COMMAND --help`` answers at once.
"""

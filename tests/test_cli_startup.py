"""The command line loads only what a command uses (issue 15): ``--help`` imports no numerical library, ``analyze``
imports neither the report, the batch nor the device side. Checked on the modules a real process has loaded, not on
timings (the benchmarks measure those: benchmarks/bench_cli.py)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from pipeline.cli import cli

ROOT = Path(__file__).resolve().parents[1]
#: What ``--help`` must never load: the numerical stack, the file format and the device stacks.
HEAVY = ("numpy", "scipy", "pandas", "h5py", "matplotlib", "jinja2", "bumble", "bleak", "serial", "dask",
         "insole.session", "pipeline.analysis")


def loaded_modules(argv: list[str]) -> tuple[int, set[str], str]:
    """Run ``insole ARGV`` in a fresh interpreter; its exit code, the modules it loaded, and its output."""
    code = ("import io, contextlib, json, sys\n"
            "from pipeline.cli import cli, run\n"
            "out = io.StringIO()\n"
            "with contextlib.redirect_stdout(out):\n"
            f"    rc = run(cli, {argv!r})\n"
            "print(json.dumps({'rc': rc, 'modules': sorted(sys.modules), 'out': out.getvalue()}))\n")
    done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout.splitlines()[-1])
    return report["rc"], set(report["modules"]), report["out"]


def heavy_in(modules: set[str], names: tuple[str, ...]) -> list[str]:
    return sorted(n for n in names if n in modules)


def test_the_command_table_matches_the_commands():
    """Every lazily listed summary is the command's own first docstring line, and every entry loads."""
    assert set(cli.lazy_commands) == set(cli.list_commands(None))  # type: ignore[arg-type]
    for name, entry in cli.lazy_commands.items():
        command = entry.load()
        assert command.name == name
        assert entry.short_help == command.get_short_help_str(limit=10_000), name


def test_help_lists_every_command_without_importing_any():
    rc, modules, out = loaded_modules(["--help"])
    assert rc == 0
    for name in cli.lazy_commands:
        assert f"  {name} " in out
    assert heavy_in(modules, HEAVY) == []
    assert not any(m.startswith(("insole.cli.", "pipeline.commands", "pipeline.batch")) and m != "insole.cli.lazy"
                   for m in modules)


@pytest.mark.parametrize("name", sorted(cli.lazy_commands))
def test_command_help_imports_no_numerical_library(name):
    rc, modules, out = loaded_modules([name, "--help"])
    assert rc == 0 and "Usage:" in out
    assert heavy_in(modules, HEAVY) == [], f"insole {name} --help"


@pytest.mark.parametrize("sample", ["simulated/neutral.h5", "moticon/230927_102114.h5"])  # the latter with an IMU
def test_analyze_loads_neither_report_nor_batch_nor_devices(sample, tmp_path):
    rc, modules, out = loaded_modules(["analyze", str(ROOT / "sample_recordings" / sample),
                                       "--json", str(tmp_path / "m.json"), "--steps", str(tmp_path / "s.csv")])
    assert rc == 0 and "quality:" in out
    assert (tmp_path / "m.json").stat().st_size and (tmp_path / "s.csv").stat().st_size
    assert heavy_in(modules, ("matplotlib", "jinja2", "bumble", "bleak", "serial", "dask", "pipeline.report",
                              "pipeline.batch", "pipeline.interpretation", "insole.emulation", "insole.recorder",
                              "insole.simulator.gait_model", "insole.importers",
                              # about 0.9 s: the per-step table is numpy columns (StepTable), steps.csv is written
                              # by numpy and msgspec (pandas imports pyarrow)
                              "pandas", "pyarrow",
                              # 1-2 s of imports: filters (.lowpass, .running) and hulls (foot_function) are numpy,
                              # the IMU's trapezoid sums (imu.trapezoid) too
                              "scipy.signal", "scipy.stats", "scipy.optimize", "scipy.ndimage", "scipy.spatial",
                              "scipy.integrate",
                              # 0.25-0.4 s: the t and beta quantiles are pipeline.quantiles
                              "scipy.special")) == []

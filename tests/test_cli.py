"""The ``insole`` program as a user runs it: real subprocesses, real files, exit codes and messages."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import h5py
import numpy as np
import pytest

from insole.simulator.gait_model import cadence_steps_per_min

INSOLE = [sys.executable, "-c", "from pipeline.cli import main; main()"]


def run(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*INSOLE, *args], capture_output=True, text=True, cwd=cwd, timeout=300)


def _all_commands(group, prefix=()):
    import click

    ctx = click.Context(group)
    for name in group.list_commands(ctx):  # lazily loaded subcommands included
        cmd = group.get_command(ctx, name)
        yield (*prefix, name)
        if isinstance(cmd, click.Group):
            yield from _all_commands(cmd, (*prefix, name))


def test_help_on_every_command():
    from click.testing import CliRunner

    from pipeline.cli import cli

    top = run("--help")  # the installed entry point, in a real process
    assert top.returncode == 0 and "Commands:" in top.stdout
    commands = list(_all_commands(cli))
    assert {("simulate",), ("info",), ("record",), ("demo",), ("analyze",), ("report",)} <= set(commands)
    runner = CliRunner()
    for cmd in commands:
        r = runner.invoke(cli, [*cmd, "--help"])
        assert r.exit_code == 0 and "Usage:" in r.output, cmd


def test_simulate_writes_a_valid_session_with_truth(tmp_path):
    out = tmp_path / "a.h5"
    r = run("simulate", "--profile", "neutral", "--duration-s", "60", "--seed", "1", "-o", str(out))
    assert r.returncode == 0, r.stderr
    assert out.exists() and not list(tmp_path.glob("*.partial"))
    with h5py.File(out) as f:
        assert f.attrs["format"] == "insole-session" and f.attrs["format_version"] == 2
        assert f.attrs["created_utc"].endswith("Z") and f.attrs["software"].startswith("insole ")
        for key in ("subject_id", "body_mass_kg", "foot_length_mm", "shoe_size_eu", "condition", "notes"):
            assert key in f["session"].attrs
        for side in ("left", "right"):
            g = f[side]
            n = g["pressure"].shape[0]
            assert g["pressure"].shape == (n, 16) and g["pressure"].attrs["units"] == "kPa"
            assert 5900 <= n <= 6200
            t = g["time_s"][()]
            assert t.dtype == np.float64 and np.all(np.diff(t) > 0)
            assert g["sequence"].dtype == np.uint32 and g["device_time_us"].dtype == np.uint64
            for name in ("x_mm", "y_mm", "area_mm2"):
                assert g["sensors"][name].shape == (16,)
            assert g.attrs["sampling_rate_hz"] == 100 and g.attrs["layout_geometry"] == "generic"
            columns = ("start_s", "end_s", "n_frames", "cause", "message")
            assert sorted(g["gaps"]) == sorted(columns) and len({g["gaps"][k].shape for k in columns}) == 1
            ic = f[f"truth/{side}/ic_s"][()]
            assert len(f[f"truth/{side}/to_s"][()]) == len(ic) > 45
            stride = np.diff(ic)
            assert abs(np.median(stride) - 120 / cadence_steps_per_min(1.3)) < 0.02
        assert f["truth"].attrs["name"] == "neutral"
    info = run("info", str(out), "--json")
    assert info.returncode == 0
    d = json.loads(info.stdout)
    assert d["feet"]["left"]["sensors"] == 16 and d["truth"]["left"]["ic_s"] > 45
    assert d["format_version"] == 2 and d["feet"]["left"]["layout_geometry"] == "generic"
    assert d["feet"]["left"]["gap_frames"] == sum(v["frames"] for v in d["feet"]["left"]["gaps_by_cause"].values())


def test_info_text(neutral_session):
    r = run("info", str(neutral_session))
    assert r.returncode == 0
    assert "left:" in r.stdout and "right:" in r.stdout and "ground truth (neutral)" in r.stdout


def _one_line_error(r: subprocess.CompletedProcess[str]) -> str:
    assert r.returncode != 0
    lines = [line for line in r.stderr.strip().splitlines() if line.strip()]
    assert "Traceback" not in r.stderr
    return lines[-1]


def test_unknown_profile(tmp_path):
    msg = _one_line_error(run("simulate", "--profile", "moonwalk", "-o", str(tmp_path / "x.h5")))
    assert "moonwalk" in msg and "neutral" in msg
    assert not list(tmp_path.iterdir())


def test_negative_duration(tmp_path):
    msg = _one_line_error(run("simulate", "--duration-s", "-5", "-o", str(tmp_path / "x.h5")))
    assert "duration" in msg and "positive" in msg
    assert not list(tmp_path.iterdir())


def test_unwritable_output(tmp_path):
    msg = _one_line_error(run("simulate", "--duration-s", "5", "-o", str(tmp_path / "no" / "such" / "x.h5")))
    assert "does not exist" in msg
    if os.geteuid() != 0:  # root can write anywhere
        ro = tmp_path / "ro"
        ro.mkdir(mode=0o500)
        msg = _one_line_error(run("simulate", "--duration-s", "5", "-o", str(ro / "x.h5")))
        assert "cannot be written" in msg


def test_existing_output_needs_overwrite(tmp_path):
    out = tmp_path / "x.h5"
    out.write_bytes(b"keep me")
    msg = _one_line_error(run("simulate", "--duration-s", "5", "-o", str(out)))
    assert "already exists" in msg and "--overwrite" in msg
    assert out.read_bytes() == b"keep me"
    r = run("simulate", "--duration-s", "5", "-o", str(out), "--overwrite")
    assert r.returncode == 0 and h5py.is_hdf5(out)


def test_info_refuses_foreign_files(tmp_path):
    text = tmp_path / "t.h5"
    text.write_text("not hdf5")
    assert "not an HDF5 file" in _one_line_error(run("info", str(text)))
    foreign = tmp_path / "f.h5"
    with h5py.File(foreign, "w") as f:
        f["data"] = np.arange(3)
    assert "not an insole session" in _one_line_error(run("info", str(foreign)))
    assert "does not exist" in _one_line_error(run("info", str(tmp_path / "missing.h5")))


def test_bad_device_params_fail_before_writing(tmp_path):
    msg = _one_line_error(run("simulate", "--device-params", "noise_kpa=loud", "-o", str(tmp_path / "x.h5")))
    assert "noise_kpa must be a number" in msg
    assert not list(tmp_path.iterdir())


def test_record_from_simulated_insoles(tmp_path):
    out = tmp_path / "s.h5"
    r = run(
        "record", "--device", "sim://neutral?side=left&realtime=0", "--device", "sim://neutral?side=right&realtime=0",
        "--duration-s", "10", "-o", str(out), "--quiet", "--subject", "P7", "--condition", "orthotic",
    )
    assert r.returncode == 0, r.stderr
    with h5py.File(out) as f:
        assert f["session"].attrs["subject_id"] == "P7" and f["session"].attrs["condition"] == "orthotic"
        # 10 s of data at 100 Hz: frames at 0, 0.01, ..., 9.99 s (the last frame's stamp is one period short)
        assert f["left/time_s"][-1] >= 10.0 - 1.5 / 100 and f.attrs["complete"]


def test_record_refuses_two_left_feet(tmp_path):
    msg = _one_line_error(run("record", "--device", "sim://neutral?realtime=0", "--device", "sim://neutral?realtime=0",
                              "--duration-s", "2", "-o", str(tmp_path / "s.h5"), "--quiet"))
    assert "both devices are left" in msg


@pytest.mark.slow
def test_demo_writes_everything_and_the_full_report(tmp_path):
    # one run of the demo as a new user types it (each run simulates ten cohort walkers: ~20 s)
    r = run("demo", "--out", str(tmp_path / "demo"))
    assert r.returncode == 0, r.stderr
    for name in ("session.h5", "metrics.json", "steps.csv", "report.html", "report.json"):
        assert (tmp_path / "demo" / name).stat().st_size > 0
        assert name in r.stdout
    text = (tmp_path / "demo" / "report.html").read_text(encoding="utf-8")
    for section in ("summary", "quality", "temporal", "symmetry", "back-strain", "methods", "references"):
        assert f'id="{section}"' in text
    assert json.loads((tmp_path / "demo" / "report.json").read_text())["kind"] == "session"


def test_report_command_writes_html_and_json(neutral_session, tmp_path):
    out, js = tmp_path / "r.html", tmp_path / "r.json"
    r = run("report", str(neutral_session), "-o", str(out), "--json", str(js))
    assert r.returncode == 0, r.stderr
    text = out.read_text(encoding="utf-8")
    assert 'id="back-strain"' in text and 'id="temporal"' in text and "SIM-neutral-1" in text
    doc = json.loads(js.read_text())
    assert doc["schema"] == "insole-report" and doc["session"]["subject_id"] == "SIM-neutral-1"


def test_report_command_on_a_missing_file(tmp_path):
    msg = _one_line_error(run("report", str(tmp_path / "nope.h5"), "-o", str(tmp_path / "r.html")))
    assert "nope.h5" in msg
    assert not (tmp_path / "r.html").exists()



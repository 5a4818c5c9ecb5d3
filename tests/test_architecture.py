"""Rules of the architecture that code review alone would miss."""

from __future__ import annotations

import ast
import dataclasses
import enum
import re
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parents[1]


def _imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(), filename=str(path))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(a.name.split(".")[0] for a in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module.split(".")[0])
    return names


def test_insole_never_imports_pipeline():
    offenders = [str(p.relative_to(ROOT)) for p in (ROOT / "insole").rglob("*.py") if "pipeline" in _imports(p)]
    assert offenders == []


def test_no_network_clients_in_the_packages():
    """Nothing talks to the network at run time (the Dask scheduler address is the user's, given explicitly)."""
    banned = {"requests", "urllib3", "httpx", "aiohttp", "socket"}
    offenders = {
        str(p.relative_to(ROOT)): sorted(_imports(p) & banned)
        for pkg in ("insole", "pipeline")
        for p in (ROOT / pkg).rglob("*.py")
        if _imports(p) & banned
    }
    assert offenders == {}


def test_analysis_never_imports_interpretation_report_batch_or_cli():
    """The analysis is the bottom of pipeline/: what consumes its result never feeds back into it."""
    above = ("pipeline.interpretation", "pipeline.report", "pipeline.batch", "pipeline.cli")
    offenders = {
        str(p.relative_to(ROOT)): sorted(m for m in _module_imports(p, False) if m.startswith(above))
        for p in (ROOT / "pipeline" / "analysis").rglob("*.py")
        if any(m.startswith(above) for m in _module_imports(p, False))
    }
    assert offenders == {}


def test_result_consumers_read_the_typed_result():
    """No consumer keeps a tolerant lookup helper for the metrics (the removed ``dig`` / ``_get`` pattern)."""
    consumers = [*(ROOT / "pipeline" / "report").glob("*.py"), *(ROOT / "pipeline" / "interpretation").glob("*.py"),
                 ROOT / "pipeline" / "batch" / "summary.py", ROOT / "pipeline" / "cli.py"]
    offenders = []
    for path in consumers:
        tree = ast.parse(path.read_text(), filename=str(path))
        offenders += [f"{path.relative_to(ROOT)}:{n.lineno} {n.name}" for n in ast.walk(tree)
                      if isinstance(n, ast.FunctionDef) and n.name in {"dig", "_get", "summary", "number"}]
    assert offenders == []
    assert not (ROOT / "pipeline" / "interpretation" / "metric_lookup.py").exists()


# ------------------------------------------------------------------------------ one door to session files
SESSION_PACKAGE = ROOT / "insole" / "session"
#: Code outside the session package that may read a session file directly, and why.
RAW_HDF5_ALLOWED = {
    # the benchmark's floor is the time h5py itself needs to read the pressure (the baseline of a ratio)
    "benchmarks/bench_analysis.py",
}


def _python_files(*folders: str) -> list[Path]:
    return [p for folder in folders for p in (ROOT / folder).rglob("*.py") if ".venv" not in p.parts]


def test_only_the_session_package_imports_h5py():
    offenders = [
        str(p.relative_to(ROOT))
        for p in _python_files("insole", "pipeline", "validation", "benchmarks", "sample_recordings", "tools")
        if SESSION_PACKAGE not in p.parents and "h5py" in _imports(p)
        and str(p.relative_to(ROOT)) not in RAW_HDF5_ALLOWED
    ]
    assert offenders == []


def test_no_hdf5_name_outside_the_session_package():
    """Not even a name: no ``h5py`` in pipeline/ or in insole/ outside the session package (code or docs)."""
    offenders = [
        str(p.relative_to(ROOT))
        for p in _python_files("insole", "pipeline")
        if SESSION_PACKAGE not in p.parents and re.search(r"\bh5py\b", p.read_text())
    ]
    assert offenders == []


def test_the_old_session_module_is_gone():
    """No shim: ``insole.session_file`` neither exists nor is imported anywhere."""
    assert not (ROOT / "insole" / "session_file.py").exists()

    def modules(path: Path) -> set[str]:
        tree = ast.parse(path.read_text(), filename=str(path))
        names = {a.name for n in ast.walk(tree) if isinstance(n, ast.Import) for a in n.names}
        return names | {n.module for n in ast.walk(tree) if isinstance(n, ast.ImportFrom) and n.module}

    offenders = [str(p.relative_to(ROOT)) for p in _python_files("insole", "pipeline", "tests", "validation",
                                                                 "benchmarks", "sample_recordings")
                 if "insole.session_file" in modules(p)]
    assert offenders == []


def test_session_modules_stay_small():
    sizes = {p.name: len(p.read_text().splitlines()) for p in SESSION_PACKAGE.glob("*.py")}
    assert max(sizes.values()) <= 400, sizes


def _assert_plain(value: Any, where: str) -> None:
    """``value`` is made of numpy arrays, plain Python values and the session package's dataclasses only."""
    assert not type(value).__module__.startswith("h5py"), f"{where}: {type(value)} leaked"
    if value is None or isinstance(value, bool | int | float | str | Path | enum.Enum | np.generic):
        return
    if isinstance(value, np.ndarray):
        assert type(value) is np.ndarray, f"{where}: {type(value)}"
        if value.dtype.kind == "O":
            for k, item in enumerate(value.ravel()[:50]):
                assert isinstance(item, str), f"{where}[{k}]: {type(item)}"
        return
    if dataclasses.is_dataclass(value):
        for f in dataclasses.fields(value):
            _assert_plain(getattr(value, f.name), f"{where}.{f.name}")
        return
    if isinstance(value, dict):
        for key, item in value.items():
            _assert_plain(key, f"{where} key")
            _assert_plain(item, f"{where}[{key!r}]")
        return
    if isinstance(value, list | tuple):
        for k, item in enumerate(value):
            _assert_plain(item, f"{where}[{k}]")
        return
    raise AssertionError(f"{where}: unexpected {type(value)}")


def _rich_session(path: Path) -> None:
    from insole.calibration import fit_calibration
    from insole.layouts import builtin_layout
    from insole.session import Gap, GapCause, SessionMetadata, SessionWriter

    layout = builtin_layout(8)
    counts = np.array([[0.0] * 8, [100.0] * 8, [200.0] * 8])
    cal = fit_calibration([(load, np.tile(row, (3, 1))) for load, row in zip((0, 50, 100), counts, strict=True)])
    with SessionWriter(path, SessionMetadata(subject_id="A1"), source="simulated") as w:
        w.add_foot("left", layout, units="kPa", sampling_rate_hz=100, calibration=cal, device={"model": "m"})
        w.add_foot("right", layout, units="raw", sampling_rate_hz=100, with_device_time=False)
        t = np.arange(40) / 100
        raw = np.full((40, 8), 150.0)
        w.append("left", t, cal.apply(raw), raw=raw, sequence=np.arange(40), device_time_us=np.arange(40) * 10_000,
                 saturated=np.zeros(40, bool))
        w.append("right", t, raw)
        w.add_gap("left", Gap(0.1, 0.12, 3, GapCause.SEQUENCE_GAP))
        from insole.imu import ImuInfo

        w.add_imu("left", ImuInfo(sampling_rate_hz=100, description="test"), frame_aligned=True)
        w.append_imu("left", t, np.zeros((40, 3)), np.zeros((40, 3)))
        w.write_extra("left", "temperature_c", np.zeros((40, 1)), columns="a")
        w.write_extra("vendor_events/right", "labels", np.array(["x", "y"]))
        w.set_attrs("vendor_events", vendor_computed=True)
        w.write_truth({"left": {"ic_s": np.array([0.1]), "to_s": np.array([0.3])}}, {"name": "neutral"})


def test_reader_methods_return_arrays_and_plain_values(tmp_path):
    """At run time: every public reader method, on a version-2 and a version-1 file, hands out no HDF5 object."""
    from legacy_v1 import write_v1_session

    from insole.session import FIELDS, SessionReader, open_session, read_session

    v2, v1 = tmp_path / "v2.h5", tmp_path / "v1.h5"
    _rich_session(v2)
    write_v1_session(v1)
    for path in (v1, v2):
        with open_session(path) as r:
            side = r.sides[0]
            calls = {
                "attrs": lambda r=r: r.attrs,
                "metadata": lambda r=r: r.metadata,
                "path": lambda r=r: r.path,
                "format_version": lambda r=r: r.format_version,
                "completeness": lambda r=r: r.completeness,
                "sides": lambda r=r: r.sides,
                "foot_info": lambda r=r: [r.foot_info(s) for s in r.sides],
                "n_frames": lambda r=r, s=side: r.n_frames(s),
                "layout": lambda r=r, s=side: r.layout(s),
                "read": lambda r=r: [r.read(s, 3, 17, fields=FIELDS) for s in r.sides],
                "iter_blocks": lambda r=r: [list(r.iter_blocks(s, 7, fields=FIELDS)) for s in r.sides],
                "time_span_s": lambda r=r, s=side: r.time_span_s(s),
                "gaps": lambda r=r: [r.gaps(s) for s in r.sides],
                "read_imu": lambda r=r: [r.read_imu(s) for s in r.sides],
                "load_foot": lambda r=r: [r.load_foot(s) for s in r.sides],
                "truth": lambda r=r: r.truth(),
                "extra_groups": lambda r=r: r.extra_groups(),
                "extras": lambda r=r: r.extras(),
                "read_extra": lambda r=r: [r.read_extra(e) for e in r.extras()],
                "extra_attrs": lambda r=r: [r.extra_attrs(e) for e in (*r.extras(), *r.extra_groups())],
            }
            public = {n for n in (*dir(SessionReader), *vars(r)) if not n.startswith("_")} - {"close"}
            assert public <= set(calls), f"add the new reader methods to this test: {public - set(calls)}"
            for name, call in calls.items():
                _assert_plain(call(), f"{path.name}: {name}")
            if path == v2:
                assert r.extras() and r.foot_info("left").calibration is not None
                assert r.read_imu("left") is not None and r.foot_info("left").imu is not None
        _assert_plain(read_session(path), f"{path.name}: read_session")


# ------------------------------------------------------------------------------ runtime apart from emulation
def _module_imports(path: Path, top_level_only: bool) -> set[str]:
    """Full dotted names imported by ``path`` (absolute imports; only module-level statements if asked)."""
    tree = ast.parse(path.read_text(), filename=str(path))
    nodes = tree.body if top_level_only else list(ast.walk(tree))
    if top_level_only:  # module level includes `if TYPE_CHECKING:` / try blocks, not function or class bodies
        stack, nodes = list(nodes), []
        while stack:
            node = stack.pop()
            nodes.append(node)
            if isinstance(node, ast.If | ast.Try | ast.With):
                stack.extend(ast.iter_child_nodes(node))
    names: set[str] = set()
    for node in nodes:
        if isinstance(node, ast.Import):
            names.update(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
            names.update(f"{node.module}.{a.name}" for a in node.names)
    return names


#: Code that runs when recording or analysing: it never needs the emulators or test rigs.
RUNTIME = ["insole/recorder", "insole/transports", "insole/protocols", "insole/devices.py", "insole/simulator",
           "insole/session_file.py", "insole/layouts.py", "insole/frames.py", "insole/calibration.py", "pipeline"]


def _runtime_files() -> list[Path]:
    out: list[Path] = []
    for entry in RUNTIME:
        p = ROOT / entry
        out.extend(sorted(p.rglob("*.py")) if p.is_dir() else [p] if p.exists() else [])
    return out


def test_runtime_code_never_imports_the_emulators():
    offenders = {
        str(p.relative_to(ROOT)): sorted(n for n in _module_imports(p, top_level_only=False)
                                         if n == "insole.emulation" or n.startswith("insole.emulation."))
        for p in _runtime_files()
    }
    assert {k: v for k, v in offenders.items() if v} == {}


def test_bumble_is_imported_only_lazily_outside_the_emulators():
    """bumble (and our bleak backend on it) load only when a ble:// URL names a bumble transport."""
    lazy_ok = {"insole/transports/bumble_backend.py", "insole/transports/bumble_hub.py"}  # the backend itself
    offenders = {}
    for p in (ROOT / "insole").rglob("*.py"):
        rel = str(p.relative_to(ROOT))
        if rel.startswith("insole/emulation/") or rel in lazy_ok:
            continue
        eager = {n for n in _module_imports(p, top_level_only=True)
                 if n.split(".")[0] == "bumble" or n.startswith("insole.transports.bumble_")}
        if eager:
            offenders[rel] = sorted(eager)
    assert offenders == {}


def test_opening_devices_loads_neither_emulators_nor_bumble():
    """In a fresh interpreter: the device factory, the drivers, the recorder and the CLI import no emulator and,
    for a ble:// URL on the system's Bluetooth, no bumble."""
    import os
    import subprocess
    import sys

    code = (
        "import sys\n"
        "from insole.devices import open_device\n"
        "import insole.recorder, insole.cli, pipeline.cli\n"
        "open_device('sim://neutral'); open_device('serial:///dev/ttyUSB0'); open_device('ble://InsoleL')\n"
        "bad = sorted(m for m in sys.modules if m.split('.')[0] == 'bumble' or m.startswith('insole.emulation')\n"
        "             or m.startswith('insole.transports.bumble_'))\n"
        "print(','.join(bad))\n"
    )
    env = {k: v for k, v in os.environ.items() if k != "INSOLE_BLE_TRANSPORT"}
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120, cwd=ROOT, env=env)
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip() == ""

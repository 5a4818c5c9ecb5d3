"""Rules of the architecture that code review alone would miss."""

from __future__ import annotations

import ast
from pathlib import Path

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

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

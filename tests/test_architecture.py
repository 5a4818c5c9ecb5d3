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


def _modules(path: Path) -> set[str]:
    """Full dotted names of every absolute import of ``path``."""
    tree = ast.parse(path.read_text(), filename=str(path))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
    return names


def test_analysis_never_imports_interpretation_report_batch_or_cli():
    """The analysis is the bottom of pipeline/: what consumes its result never feeds back into it."""
    above = ("pipeline.interpretation", "pipeline.report", "pipeline.batch", "pipeline.cli")
    offenders = {
        str(p.relative_to(ROOT)): sorted(m for m in _modules(p) if m.startswith(above))
        for p in (ROOT / "pipeline" / "analysis").rglob("*.py")
        if any(m.startswith(above) for m in _modules(p))
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

"""Checks of output paths made before any work, so that a long analysis never ends in a write error."""

from __future__ import annotations

from pathlib import Path

import click


def check_outputs(**outputs: Path | None) -> None:
    """Refuse, before any work, an output whose folder does not exist or cannot be written (``--json`` etc.)."""
    import os

    for option, path in outputs.items():
        if path is None:
            continue
        folder = path.parent if str(path.parent) else Path(".")
        hint = "--" + option.replace("_", "-")
        if not folder.is_dir():
            raise click.BadParameter(f"cannot write {path}: the folder {folder} does not exist", param_hint=hint)
        if not os.access(folder, os.W_OK):
            raise click.BadParameter(f"cannot write {path}: the folder {folder} is not writable", param_hint=hint)
        if path.is_dir():
            raise click.BadParameter(f"cannot write {path}: it is a folder", param_hint=hint)

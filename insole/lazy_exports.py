"""Package attributes loaded on first use (PEP 562), so that importing a package stays cheap.

A package lists its public names and the modules that define them::

    __getattr__, __all__ = lazy_exports(__name__, {"open_session": "insole.session", ...})

``package.open_session`` then imports ``insole.session`` the first time it is used, and ``import package`` loads
nothing else; this keeps ``insole --help`` and ``insole COMMAND --help`` free of numpy, the file format and the rest.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Mapping
from typing import Any


def lazy_exports(package: str, names: Mapping[str, str],
                 eager: tuple[str, ...] = ()) -> tuple[Callable[[str], Any], list[str]]:
    """The module ``__getattr__`` and ``__all__`` of ``package`` for ``names`` (name -> defining module).

    Parameters
    ----------
    package : str
        The package's ``__name__`` (for the error message).
    names : mapping of str to str
        Public name -> module that defines it.
    eager : tuple of str
        Names the package defines itself, listed first in ``__all__``.
    """
    table = dict(names)

    def __getattr__(name: str) -> Any:
        if name in table:
            return getattr(importlib.import_module(table[name]), name)
        raise AttributeError(f"module {package!r} has no attribute {name!r}")

    return __getattr__, [*eager, *sorted(table)]

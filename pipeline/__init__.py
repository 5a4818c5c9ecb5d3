"""Analysis, interpretation, reports and the nightly batch for insole sessions.

``pipeline`` reads session files through :mod:`insole.session`; ``insole`` never imports ``pipeline``.
"""

from insole import __version__

__all__ = ["__version__"]

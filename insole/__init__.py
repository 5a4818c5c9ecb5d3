"""Open pressure-insole toolkit: devices, wire protocols, simulator, recorder and the session file format.

``insole`` never imports ``pipeline``: the analysis depends on this package, not the other way round.

The entry points of the Python API are re-exported here and loaded on first use (``import insole`` stays cheap):

>>> import insole
>>> with insole.open_session("sample_recordings/simulated/neutral.h5") as s:  # doctest: +SKIP
...     block = s.read("left", 0, 100)          # time on axis 0: block.pressure is (100, n_cells)
>>> foot = insole.read_session("sample_recordings/simulated/neutral.h5").feet["left"]  # doctest: +SKIP
>>> foot.to_dataframe()                          # doctest: +SKIP

See ``docs/python-api.md``.
"""

from __future__ import annotations

from insole.lazy_exports import lazy_exports

__version__ = "0.1.0"

#: Public names available as ``insole.NAME`` -> the module that defines them.
__getattr__, __all__ = lazy_exports(__name__, {
    "open_session": "insole.session",
    "read_session": "insole.session",
    "SessionMetadata": "insole.session",
    "Gap": "insole.session",
    "GapCause": "insole.session",
    "SensorLayout": "insole.layouts",
    "open_device": "insole.devices",
    "import_recording": "insole.importers",
    "InsoleError": "insole.errors",
}, eager=('__version__',))

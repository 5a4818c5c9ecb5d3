"""Open pressure-insole toolkit: devices, wire protocols, simulator, recorder and the session file format.

``insole`` never imports ``pipeline``: the analysis depends on this package, not the other way round.
"""

__version__ = "0.1.0"

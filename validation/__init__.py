"""Validation of the analysis against third-party reference data (``../shared/datasets``).

Every gaitndd record, gaitpdb walk and Moticon export is converted with :mod:`insole.importers` into a temporary
session and analysed with :func:`pipeline.analysis.analyze_session` (the shipped cohorts chosen by ``"auto"``, the
subject's own recordings left out). Modules:

- :mod:`.references`: every threshold and reference relation, with its source;
- :mod:`.matching`: event pairing and per-step intervals from event lists (same code for ours and the vendor's);
- :mod:`.gaitndd`, :mod:`.gaitpdb`, :mod:`.moticon`: one table per dataset;
- :mod:`.checks`: the acceptance checks over those tables;
- :mod:`.figure`: the overview figure;
- ``run_validation.py``: the command (``python validation/run_validation.py --datasets ... --out ...``).
"""

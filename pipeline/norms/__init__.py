"""Reference cohorts: distributions of every metric in real healthy recordings of one device family.

:mod:`.cohort` (the cohort file), :mod:`.build` (``insole norms build``), :mod:`.position` (percentiles with
their uncertainty, leaving the subject out), :mod:`.registry` (the cohorts shipped with the software).
"""

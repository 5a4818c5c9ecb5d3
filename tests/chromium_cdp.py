"""The tests' headless Chromium: the package's DevTools-pipe driver (:mod:`pipeline.report.chromium`), one mechanism
for the tests and for ``insole report --pdf``."""

from pipeline.report.chromium import Chromium, ChromiumError, chromium_path

__all__ = ["Chromium", "ChromiumError", "chromium_path"]

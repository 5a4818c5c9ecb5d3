"""The reports rendered by real headless Chromium (Debian package ``chromium``), driven over the DevTools pipe.

Checks: the page loads without script errors, console errors or blocked/failed loads; the key sections and every
figure are visible (non-zero size, images decoded); file strings are displayed as text. Full-page screenshots are
kept in ``test-artifacts/`` (gitignored) for a human to look at.
"""

from __future__ import annotations

import re
import struct
import zlib
from pathlib import Path

import pytest
from chromium_cdp import Chromium, chromium_path

from pipeline.analysis import analyze_session
from pipeline.report import write_report
from pipeline.report.comparison import write_comparison

ARTIFACTS = Path(__file__).resolve().parents[1] / "test-artifacts"

pytestmark = pytest.mark.skipif(chromium_path() is None, reason="chromium not installed (tools/test.sh installs it)")

VISIBILITY_JS = """
(() => {
  const vis = (el) => { if (!el) return false; const r = el.getBoundingClientRect();
    const s = getComputedStyle(el); return r.width > 0 && r.height > 0 && s.visibility !== 'hidden'
      && s.display !== 'none'; };
  const sections = {};
  for (const id of %s) sections[id] = vis(document.getElementById(id));
  const figures = {};
  for (const f of document.querySelectorAll('figure[data-figure]')) {
    const img = f.querySelector('img');
    figures[f.dataset.figure] = vis(img) && img.complete && img.naturalWidth > 50 && img.naturalHeight > 50;
  }
  return {sections, figures, title: document.title,
          subject: (document.getElementById('subject-id') || {}).textContent || null,
          notes: (document.getElementById('notes') || {}).textContent || null,
          scripts: document.scripts.length, tier: (document.getElementById('tier') || {}).textContent || null};
})()
"""

REPORT_SECTIONS = ["summary", "quality", "temporal", "force", "cop", "regions", "plantar", "symmetry", "back-strain",
                   "card-pronation", "card-supination", "card-asymmetry", "methods", "references", "software"]


def _png_is_not_blank(path: Path) -> bool:
    """Decode the PNG's first IDAT-derived rows cheaply: the image must not be one flat colour."""
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    idat, pos = b"", 8
    while pos < len(data):
        (length,) = struct.unpack(">I", data[pos:pos + 4])
        kind = data[pos + 4:pos + 8]
        if kind == b"IDAT":
            idat += data[pos + 8:pos + 8 + length]
        pos += 12 + length
    raw = zlib.decompress(idat)
    return len(set(raw[: 4 * 1024 * 1024])) > 20


def _load(page: Path, sections: list[str], shot: str) -> dict:
    with Chromium() as browser:
        browser.open(page.as_uri())
        state = browser.evaluate(VISIBILITY_JS % sections)
        problems = browser.problems()
        png = browser.screenshot(ARTIFACTS / shot)
        pdf = browser.print_pdf(ARTIFACTS / shot.replace(".png", ".pdf"))
    pdf_bytes = pdf.read_bytes()
    assert pdf_bytes.startswith(b"%PDF")
    state["pdf_pages"] = len(re.findall(rb"/Type\s*/Page(?!s)", pdf_bytes))
    assert problems == [], problems
    assert png.stat().st_size > 20_000 and _png_is_not_blank(png)
    return state


def test_session_report_in_chromium(result_factory, tmp_path):
    evil = '<script>alert("x")</script>'
    result = result_factory("overpronation", 60.0, 5, metadata={"subject_id": evil, "notes": "<b>not bold</b>"})
    page = write_report(result, tmp_path / "r.html")
    state = _load(page, REPORT_SECTIONS, "report-overpronation.png")
    assert all(state["sections"].values()), state["sections"]
    assert state["figures"] == {"force_curves": True, "cop": True, "regions": True, "symmetry": True,
                                **dict.fromkeys(("pressure_peak", "pressure_pti", "masks", "cop_ends", "cop_stance",
                                                 "force_steps"), True)}
    assert state["scripts"] == 0
    assert state["subject"] == evil and state["notes"] == "<b>not bold</b>"  # shown as text, not run/parsed
    assert state["tier"] == "pattern of interest"
    assert state["pdf_pages"] >= 3  # the print stylesheet paginates the whole report onto A4 pages


def test_failed_quality_report_in_chromium(result_factory, tmp_path):
    result = result_factory("neutral", 60.0, 1, right_shift_s=0.54)  # clocks half a stride apart: sync fails
    page = write_report(result, tmp_path / "q.html")
    state = _load(page, ["quality-banner", *REPORT_SECTIONS], "report-failed-quality.png")
    assert state["sections"]["quality-banner"]
    assert state["figures"] == {}  # every figure withheld
    assert state["tier"] == "not assessed"


def test_report_of_a_real_session_in_chromium(neutral_session, tmp_path):
    """The report of the neutral demo session loads cleanly and shows every figure."""
    page = write_report(analyze_session(neutral_session), tmp_path / "real.html")
    state = _load(page, REPORT_SECTIONS, "report-real-neutral.png")
    assert all(state["sections"].values()), state["sections"]
    assert state["subject"] == "SIM-neutral-1"
    assert all(state["figures"].values()) and "symmetry" in state["figures"]


def test_comparison_in_chromium(result_factory, tmp_path):
    page = write_comparison(result_factory("neutral", 30.0, 1, metadata={"condition": "shoes"}),
                            result_factory("neutral", 30.0, 4, metadata={"condition": "orthotic"},
                                           device_params="speed_m_s=1.1"), tmp_path / "c.html")
    state = _load(page, ["sessions", "caveats", "changes", "distributions", "methods", "software"],
                  "comparison-shoes-orthotic.png")
    assert all(state["sections"].values()), state["sections"]
    assert len(state["figures"]) >= 8 and all(state["figures"].values())


def test_the_harness_sees_script_errors_and_blocked_loads(tmp_path):
    """Negative control: a broken page must produce problems, so a clean report really is clean."""
    page = tmp_path / "broken.html"
    page.write_text(
        "<!doctype html><html><head><meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; "
        "script-src 'unsafe-inline'\"></head><body><img src=\"https://example.invalid/x.png\">"
        "<script>console.error('bad'); throw new Error('boom');</script></body></html>"
    )
    with Chromium() as browser:
        browser.open(page.as_uri())
        problems = browser.problems()
    joined = " ".join(problems)
    assert "boom" in joined and "console.error" in joined
    assert "Content Security Policy" in joined or "Refused" in joined
